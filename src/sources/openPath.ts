/**
 * Opening a path (Node). The browser bundles put openPath.browser.ts in its place: a page has no
 * paths, only File and Blob objects.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { PureneuronError } from '../errors.js';
import { fileError } from './fileErrors.js';

/** Opens `path` for reading: only regular files (the learner reads its input several times). */
export async function openPath(path: string): Promise<{ fh: FileHandle; size: number }> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw fileError(path, e, 'open');
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw new PureneuronError('BAD_FILE', `cannot read ${path}: it is a directory`);
    if (!st.isFile()) {
      throw new PureneuronError('BAD_FILE', `cannot read ${path}: not a regular file (the learner reads its input several times)`);
    }
    return { fh, size: st.size };
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw e instanceof PureneuronError ? e : fileError(path, e, 'open');
  }
}
