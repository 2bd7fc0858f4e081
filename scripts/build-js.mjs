// Bundles the library (ESM + CJS), the CLI and the experiments (developer tooling) with esbuild.
// Runtime dependencies stay external.
import { build } from 'esbuild';
import { readFileSync, chmodSync, rmSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const external = Object.keys(pkg.dependencies ?? {});
// A clean dist/: files of moved or deleted modules must not linger in the package.
rmSync('dist', { recursive: true, force: true });
const common = { bundle: true, platform: 'node', target: 'node20', external, sourcemap: true, logLevel: 'warning' };

await build({ ...common, entryPoints: ['src/index.ts'], format: 'esm', outfile: 'dist/index.js' });
await build({ ...common, entryPoints: ['src/index.ts'], format: 'cjs', outfile: 'dist/index.cjs' });
await build({
  ...common,
  entryPoints: ['src/cli.ts'],
  format: 'esm',
  outfile: 'dist/cli.js',
  banner: { js: '#!/usr/bin/env node' },
});
chmodSync('dist/cli.js', 0o755);
// Developer tooling, outside the library: loaded by `pureneuron experiment` only (src/cli.ts).
await build({ ...common, entryPoints: ['tools/experiments/command.ts'], format: 'esm', outfile: 'dist/experiments.js' });
