// Shared by the benchmark scripts: bundle a few exports of src/ with esbuild into build/ and
// import them, so benchmarks time the current sources (not a stale dist/). The generated wasm
// and worker modules are built first when missing.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** `lines` are export statements relative to the repository root; returns the module. */
export async function importFromSource(name, lines, log = (s) => console.error(s)) {
  for (const [file, script] of [['src/kernels/wasm/bytes.generated.ts', 'build:wasm'], ['src/parallel/worker.generated.ts', 'build:worker']]) {
    if (!existsSync(join(root, file))) {
      log(`${file} is missing: running \`npm run ${script}\` …`);
      execFileSync('npm', ['run', script], { cwd: root, stdio: ['ignore', 2, 2] });
    }
  }
  mkdirSync(join(root, 'build'), { recursive: true });
  const outfile = join(root, `build/${name}.mjs`);
  await build({
    stdin: { contents: lines.join('\n'), resolveDir: root, loader: 'ts' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outfile,
    logLevel: 'warning',
  });
  return import(pathToFileURL(outfile).href);
}
