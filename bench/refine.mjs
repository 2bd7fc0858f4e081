#!/usr/bin/env node
// What the default refinement costs and what it buys, per problem size: learn() with
// refine 'auto' (the default) against refine 0 (the spectral estimate alone), on the same data.
//
//   npm run bench:refine                         # the default grid → bench/results/refine.{json,md}
//   node bench/refine.mjs --only 20,10,15 --n 1e6 --repeats 3   # one cell → build/refine-partial.{json,md}
//
// Compiles src/ on the fly (bench/lib/bundle.mjs), so it times the current sources.
//
// Protocol: per cell, Gaussian planted data (noise σ = 0.05, seed 1) generated once in memory
// (not timed); one untimed learn() of each kind warms the JIT for the shape; then repeats of the
// two kinds interleaved (default, spectral, default, …) so that load from other processes hits
// both alike; the wasm backend, workers 'auto' (both cores here). Per kind: medians over the
// repeats of the total and of each phase (model.diagnostics.timings), the W error against the
// planted W (compare(); the same for every repeat: learn() is deterministic). Per cell, from the
// default's diagnostics.refinement: the rows of the in-memory subsample, the steps on it, the
// passes over all the samples (the refinement's, the last being pass 3) and whether it
// converged. Cost = default median − spectral median (the same run), and their ratio.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';

import { importFromSource, root } from './lib/bundle.mjs';
import { median, round, sameBits } from './lib/stats.mjs';
import { machineEnv, sourceProvenance } from './lib/env.mjs';
const log = (...a) => console.error(...a);

const USAGE = `usage: node bench/refine.mjs [--only d,k,l --n N]... [--repeats N] [--out PREFIX]
  --only d,k,l   one shape (with --n: its sample count); may be given several times
  --n N          the sample count of the preceding --only
  --repeats N    interleaved repeats per kind (default 3; 1 for cells over ~60 s)
  --out PREFIX   write PREFIX.json and PREFIX.md (default: bench/results/refine for the full
                 grid, build/refine-partial otherwise)`;

// The grid: the sizes of the README's tables, and k·d up to 4608 ((96,48,96), new with the
// matrix formed once). n where a run takes seconds, not minutes.
const GRID = [
  { shape: [20, 10, 15], n: 1e5 },
  { shape: [20, 10, 15], n: 1e6 },
  { shape: [32, 16, 32], n: 1e6 },
  { shape: [64, 32, 64], n: 2e5 },
  { shape: [96, 48, 96], n: 2e5 },
];
const GEN = { distribution: 'gaussian', noise: 0.05, seed: 1 };

function parseArgs(argv) {
  const o = { cells: [], repeats: 3, out: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) fail(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--only') {
      const s = val().split(',').map(Number);
      if (s.length !== 3 || !s.every((v) => Number.isInteger(v) && v > 0)) fail('--only takes d,k,l (three positive integers)');
      o.cells.push({ shape: s, n: 1e5 });
    } else if (a === '--n') {
      const n = Number(val());
      if (!o.cells.length) fail('--n follows an --only');
      if (!(Number.isSafeInteger(n) && n > 0)) fail('--n takes a positive integer (1e5 is fine)');
      o.cells[o.cells.length - 1].n = n;
    } else if (a === '--repeats') {
      o.repeats = Number(val());
      if (!Number.isInteger(o.repeats) || o.repeats < 1) fail('--repeats must be a positive integer');
    } else if (a === '--out') o.out = resolve(val());
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else fail(`unknown argument ${JSON.stringify(a)}`);
  }
  return o;
}
function fail(msg) {
  console.error(`bench: ${msg}\n${USAGE}`);
  process.exit(2);
}

const args = parseArgs(process.argv.slice(2));
const grid = args.cells.length ? args.cells : GRID;
const outPrefix = args.out ?? join(root, args.cells.length ? 'build/refine-partial' : 'bench/results/refine');
const { learn, generate, compare, closeWorkers } = await importFromSource('bench-refine', ["export { learn, generate, compare, closeWorkers } from './src/index.ts';"], log);

const KINDS = { default: {}, spectral: { refine: 0 } };
const shapeName = ([d, k, l]) => `(${d},${k},${l})`;
const nName = (n) => (Number.isInteger(Math.log10(n)) ? `1e${Math.log10(n)}` : `${n / 10 ** Math.floor(Math.log10(n))}e${Math.floor(Math.log10(n))}`);
const secs = (ms) => (ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`);

const env = { ...machineEnv(), ...sourceProvenance(root) };
log(`bench: Node ${env.node}, ${env.cpu} (${env.cores} cores); ${grid.length} cells`);
const tStart = performance.now();
const cells = [];
for (const { shape, n } of grid) {
  const [d, k, l] = shape;
  const data = generate({ ...GEN, n, d, k, l });
  const run = async (kind) => {
    const t0 = performance.now();
    const model = await learn(data, { k, backend: 'wasm', ...KINDS[kind] });
    return { model, wall: performance.now() - t0 };
  };
  // Warm-up, untimed; it also fixes the reference models every repeat must reproduce.
  const ref = {};
  let slow = 0;
  for (const kind of Object.keys(KINDS)) {
    const r = await run(kind);
    ref[kind] = r.model;
    slow += r.wall;
  }
  const repeats = slow > 60_000 ? 1 : args.repeats;
  const runs = { default: [], spectral: [] };
  for (let r = 0; r < repeats; r++) {
    for (const kind of Object.keys(KINDS)) {
      const { model } = await run(kind);
      if (!sameBits(model.W, ref[kind].W) || !sameBits(model.A, ref[kind].A)) throw new Error(`${kind} ${shapeName(shape)}: a repeat gave another model`);
      runs[kind].push(model.diagnostics.timings);
      log(`${shapeName(shape)} n=${nName(n)} ${kind} ${r + 1}/${repeats}: ${secs(model.diagnostics.timings.total)}`);
    }
  }
  const med = (kind) => {
    const keys = Object.keys(runs[kind][0]);
    return Object.fromEntries(keys.map((p) => [p, round(median(runs[kind].map((t) => t[p] ?? 0)), 4)]));
  };
  const rep = ref.default.diagnostics.refinement;
  const cell = {
    d, k, l, n, repeats,
    default: { medianMs: med('default'), wError: round(compare(ref.default, data.truth).wError), warnings: ref.default.diagnostics.warnings },
    spectral: { medianMs: med('spectral'), wError: round(compare(ref.spectral, data.truth).wError) },
    refinement: rep && {
      subsampleRows: rep.samples,
      subsampleSteps: rep.iterations,
      matrices: rep.matrices,
      passesOverAll: rep.passes.length,
      converged: rep.converged,
      standardError: round(rep.standardError),
    },
  };
  cell.costMs = round(cell.default.medianMs.total - cell.spectral.medianMs.total, 4);
  cell.ratio = round(cell.default.medianMs.total / cell.spectral.medianMs.total);
  cells.push(cell);
}
await closeWorkers();
env.loadavgEnd = os.loadavg().map((v) => round(v));

const fmtMs = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const lines = [];
lines.push(
  `Environment: Node ${env.node} (V8 ${env.v8}), ${env.cpu}, ${env.cores} cores, ${env.platform}, ${env.date.slice(0, 10)}; load average ${env.loadavgStart.join(' ')} at the start, ${env.loadavgEnd.join(' ')} at the end. ` +
    (env.commit ? `Sources: commit ${env.commit.slice(0, 7)}${env.uncommittedSources?.length ? ` plus uncommitted changes to ${env.uncommittedSources.length} file(s)` : ''}. ` : '') +
    `Gaussian x, noise σ = 0.05, seed 1, data in memory; learn() with the wasm backend on 2 workers, default options ("default", refine 'auto') against refine 0 ("spectral"), ` +
    `medians of interleaved repeats (the "runs" column) after a warm-up. Passes over all the data: the default makes 2 + the refinement's (its last is pass 3), the spectral estimate 3.`,
);
lines.push('');
lines.push('| d,k,l | n | runs | spectral total | default total | cost (ratio) | of which refine · pass 3 | passes over all the data | subsample rows · steps on it | W error spectral → default | standard error | converged |');
lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const c of cells) {
  const dm = c.default.medianMs;
  const r = c.refinement;
  lines.push(
    `| ${c.d},${c.k},${c.l} | ${nName(c.n)} | ${c.repeats} | ${fmtMs(c.spectral.medianMs.total)} | **${fmtMs(dm.total)}** | +${fmtMs(c.costMs)} (${c.ratio.toFixed(2)}×) | ${fmtMs(dm.refine ?? 0)} · ${fmtMs(dm.pass3)} | ` +
      `${r ? 2 + r.passesOverAll : 3} | ${r ? `${r.subsampleRows} · ${r.subsampleSteps}` : '–'} | ${c.spectral.wError.toExponential(2)} → ${c.default.wError.toExponential(2)} | ${r?.standardError?.toExponential(2) ?? '–'} | ${r?.converged ?? '–'} |`,
  );
}
lines.push('');
lines.push('Times in ms. "refine" is the subsample fit (forming and factoring its Gauss–Newton matrix, the steps on it) and the passes over all the data before pass 3; pass 3 is then the refinement\'s last pass.');
const md = lines.join('\n') + '\n';
const result = { benchmark: 'the refinement: learn() default vs refine 0 (bench/refine.mjs)', env, settings: { generator: GEN, backend: 'wasm', workers: 'auto', repeats: args.repeats }, durationSeconds: round((performance.now() - tStart) / 1000), cells };
mkdirSync(dirname(outPrefix), { recursive: true });
for (const [ext, text] of [['.json', JSON.stringify(result, null, 2) + '\n'], ['.md', md]]) {
  writeFileSync(`${outPrefix}${ext}.tmp`, text);
  renameSync(`${outPrefix}${ext}.tmp`, `${outPrefix}${ext}`);
}
process.stdout.write(md);
log(`bench: done; wrote ${relative(process.cwd(), outPrefix)}.json and .md`);
