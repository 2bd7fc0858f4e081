// Bundles the library (ESM + CJS), the CLI and the experiments (developer tooling) with esbuild.
// The library keeps its runtime dependencies external. The CLI, an application run as a fresh
// process, has them inlined (their locked versions): resolving them and lexing their CommonJS
// for named exports cost ~35 ms of every run (`pureneuron learn` at (20,10,15), n = 1e4: CPU
// time 0.91× with them inlined, the same model); the banner's require serves their require()s.
// The readers of Parquet and Arrow files stay external: they are imported only when such a
// file is given, and inlined they would be parsed by every run.
import { build } from 'esbuild';
import { readFileSync, chmodSync, rmSync } from 'node:fs';
import { browserOnly } from './browser-build.mjs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const external = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})];
// A clean dist/: files of moved or deleted modules must not linger in the package.
rmSync('dist', { recursive: true, force: true });
const common = { bundle: true, platform: 'node', target: 'node20', external, sourcemap: true, logLevel: 'warning' };

await build({ ...common, entryPoints: ['src/index.ts'], format: 'esm', outfile: 'dist/index.js' });
await build({ ...common, entryPoints: ['src/index.ts'], format: 'cjs', outfile: 'dist/index.cjs' });
// pureneuron/bullmq: the distributed runs, apart so that the core never loads bullmq or ioredis.
await build({ ...common, entryPoints: ['src/bullmq.ts'], format: 'esm', outfile: 'dist/bullmq.js' });
const lazy = ['hyparquet', 'hyparquet-compressors', 'apache-arrow', 'lz4js', 'fzstd', 'bullmq', 'ioredis'];
for (const name of lazy) if (!external.includes(name)) throw new Error(`${name} is loaded at run time, so it must be a dependency or a peer dependency`);
await build({
  ...common,
  external: lazy.flatMap((name) => [name, `${name}/*`]),
  entryPoints: ['src/cli.ts'],
  format: 'esm',
  outfile: 'dist/cli.js',
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);" },
});
chmodSync('dist/cli.js', 0o755);
// Developer tooling, outside the library: loaded by `pureneuron experiment` only (src/cli.ts).
await build({ ...common, entryPoints: ['tools/experiments/command.ts'], format: 'esm', outfile: 'dist/experiments.js' });

// The browser build (package.json exports["."].browser): the host's modules swapped for their
// browser twins, dependencies inlined, any `node:` import an error (scripts/browser-build.mjs).
// Split: the Parquet and Arrow readers (hyparquet, apache-arrow) are chunks loaded on first use.
await build({ ...common, platform: 'browser', external: [], entryPoints: { index: 'src/browser.ts' }, format: 'esm', outdir: 'dist/browser', splitting: true, chunkNames: 'chunks/[name]-[hash]', plugins: [browserOnly] });
