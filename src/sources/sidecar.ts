/** Raw files' row lengths from a meta.json beside them (as `pureneuron generate` writes it): the CLI's and the manifests' default for d and l. */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** d and l from DIR/meta.json beside the x file, when it exists and names them. */
export async function sidecarDims(xPath: string): Promise<{ d?: number; l?: number }> {
  try {
    const meta = JSON.parse(await readFile(join(dirname(xPath), 'meta.json'), 'utf8')) as { d?: unknown; l?: unknown };
    return { d: typeof meta.d === 'number' ? meta.d : undefined, l: typeof meta.l === 'number' ? meta.l : undefined };
  } catch {
    return {};
  }
}
