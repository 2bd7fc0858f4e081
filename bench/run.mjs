#!/usr/bin/env node
// End-to-end benchmark of learn(): wasm vs js, checked for bitwise agreement before anything is
// timed.
//
//   npm run bench                      # full sweep → bench/results/latest.{json,md}
//   node bench/run.mjs --quick         # smoke run: n ≤ 1e5, fewer repeats
//   node bench/run.mjs --only 32,16,32 --n 1e6 --repeats 3
//   node bench/run.mjs --refine 0 --out bench/results/spectral   # the spectral estimate alone
//
// Compiles src/ (TypeScript) on the fly with esbuild into build/bench-run.mjs (build/ is not
// committed; bench/lib/bundle.mjs), so it measures the current sources without `npm run build`;
// the generated wasm and worker modules, which `npm ci` (prepare → build) writes, are rebuilt
// when missing.
//
// Protocol:
// 1. Agreement: for every shape, the same generated data (n = 1e4) is learned with backend 'wasm'
//    and 'js'; W and A must be bitwise identical, or the script aborts before timing anything.
//    Every timed run is checked the same way against the first model learned on its data.
// 2. Sweep: n × (d, k, l) on Gaussian inputs (noise σ = 0.05, seed 1; generated once per n and
//    shape, not timed). Before each shape, one untimed learn() per backend warms up the JIT.
//    Repeats of the two backends are interleaved (wasm, js, wasm, js, …) so that load from other
//    processes hits both alike. Repeats per (shape, n, backend) cell: 5 (a median of 3 moved by
//    ±5% between runs on a shared machine; --quick: 3; --repeats N overrides), capped so that
//    one cell takes about --budget seconds (default 150): the time of one run is predicted from
//    the same shape and backend at the previous n, scaled linearly in n; a cell always gets at
//    least one run.
// 3. Figures per cell: the median over repeats of every phase of model.diagnostics.timings
//    (taken independently, so the phase medians need not sum to the median total); samples/s =
//    n / median total; pass-2 GFLOP/s = 2·mh·mz·n / median pass 2 (mh = mz = k(k+1)/2, the
//    T += FᵀG update only); wasm/js speed-up = js median / wasm median, of the total and of pass 2.
//
// Outputs: a Markdown table on stdout (progress on stderr), and <out>.json + <out>.md, where <out> is
// bench/results/latest for the full default sweep and build/bench-partial otherwise (--quick,
// --only, --n), unless --out PREFIX is given.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';

import { importFromSource, root } from './lib/bundle.mjs';
import { median, round, sameBits } from './lib/stats.mjs';
import { machineEnv, sourceProvenance } from './lib/env.mjs';
const log = (...a) => console.error(...a);

// ---------------------------------------------------------------------------------------------
// Arguments
const USAGE = `usage: node bench/run.mjs [--quick] [--repeats N] [--only d,k,l]... [--n 1e4,1e5,...] [--budget SECONDS] [--out PREFIX]
  --quick         n ≤ 1e5 and 3 repeats (a smoke run)
  --repeats N     repeats per (shape, n, backend) cell (still capped by --budget)
  --only d,k,l    only this shape (may be given several times)
  --n LIST        comma-separated sample counts (default 1e4,1e5,1e6)
  --budget S      target seconds per cell used to cap the repeats of slow cells (default 150)
  --refine R      learn()'s refine option: 'auto' or a pass count (default: learn()'s default,
                  'auto'); 0 times the spectral method alone, as the reference implements it
  --out PREFIX    write PREFIX.json and PREFIX.md (default: bench/results/latest for the full
                  sweep, build/bench-partial for a partial one)`;

function parseArgs(argv) {
  const o = { quick: false, repeats: undefined, only: [], ns: undefined, budget: 150, out: undefined, refine: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) fail(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--repeats') {
      o.repeats = Number(val());
      if (!Number.isInteger(o.repeats) || o.repeats < 1) fail('--repeats must be a positive integer');
    } else if (a === '--only') {
      const s = val().split(',').map(Number);
      if (s.length !== 3 || !s.every((v) => Number.isInteger(v) && v > 0)) fail('--only takes d,k,l (three positive integers)');
      o.only.push(s);
    } else if (a === '--n') {
      o.ns = val().split(',').map(Number);
      if (!o.ns.every((v) => Number.isSafeInteger(v) && v > 0)) fail('--n takes comma-separated positive integers (1e5 is fine)');
    } else if (a === '--budget') {
      o.budget = Number(val());
      if (!(o.budget > 0)) fail('--budget must be a positive number of seconds');
    } else if (a === '--refine') {
      const v = val();
      o.refine = v === 'auto' ? 'auto' : Number(v);
      if (o.refine !== 'auto' && !(Number.isInteger(o.refine) && o.refine >= 0)) fail("--refine takes 'auto' or a non-negative integer");
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
const ALL_SHAPES = [
  [10, 10, 10],
  [32, 16, 32],
  [64, 32, 64],
];
const ALL_NS = [1e4, 1e5, 1e6];
const shapes = args.only.length ? args.only : ALL_SHAPES;
let ns = args.ns ?? ALL_NS;
if (args.quick) ns = ns.filter((n) => n <= 1e5);
ns = [...new Set(ns)].sort((a, b) => a - b);
const fullSweep = !args.quick && !args.only.length && !args.ns && args.refine === undefined;
const learnOptions = args.refine === undefined ? {} : { refine: args.refine };
const outPrefix = args.out ?? join(root, fullSweep ? 'bench/results/latest' : 'build/bench-partial');
const DEFAULT_REPEATS = args.repeats ?? (args.quick ? 3 : 5);
const CHECK_N = 1e4; // agreement check size
const GEN = { distribution: 'gaussian', noise: 0.05, seed: 1 };

// ---------------------------------------------------------------------------------------------
// Build the library from src/.
const { learn, generate, compare, loadWasmKernels } = await importFromSource(
  'bench-run',
  ["export { learn, generate, compare } from './src/index.ts';", "export { loadWasmKernels } from './src/kernels/wasm/index.ts';"],
  log,
);
const wasmKernels = await loadWasmKernels();
const wasmMemoryAtStart = wasmKernels.memoryBytes();

// ---------------------------------------------------------------------------------------------
// Helpers
// The phases learn() reports in model.diagnostics.timings, in pipeline order. Whatever keys a run
// actually reports are used (unknown ones are kept, before total), so the benchmark follows changes
// of learn() without edits; a phase a run lacks is shown as '–'.
const PHASE_ORDER = ['pass1', 'reduce', 'pass2', 'nullspace', 'extract', 'errorEstimate', 'refine', 'pass3'];
const phasesOf = (runs) => {
  const keys = new Set(runs.flatMap((r) => Object.keys(r.timings)));
  keys.delete('total');
  const known = PHASE_ORDER.filter((p) => keys.has(p));
  return [...known, ...[...keys].filter((p) => !PHASE_ORDER.includes(p)), 'total'];
};
const BACKENDS = ['wasm', 'js'];
const tri = (m) => (m * (m + 1)) / 2;
const shapeName = ([d, k, l]) => `(${d},${k},${l})`;
const nName = (n) => {
  const e = Math.log10(n);
  return Number.isInteger(e) ? `1e${e}` : String(n);
};
const secs = (ms) => (ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(1)} s`);
/** Aborts unless two models (or two failures) agree bitwise. */
function requireSame(ref, got, what) {
  const problems = [];
  if (ref.error || got.error) {
    if (ref.error !== got.error) problems.push(`one run failed: ${ref.error ?? 'ok'} vs ${got.error ?? 'ok'}`);
  } else {
    if (!sameBits(ref.W, got.W)) problems.push('W differs');
    if (!sameBits(ref.A, got.A)) problems.push('A differs');
  }
  if (problems.length) {
    console.error(`bench: the backends disagree (bitwise) on ${what}: ${problems.join(', ')} (${ref.backend} vs ${got.backend}). Not a benchmark of equal work: aborting.`);
    process.exit(1);
  }
}

const makeData = ([d, k, l], n) => generate({ ...GEN, n, d, k, l });

/** One learn() run: its timings and result (or the error it threw, by code). */
async function runOnce(data, k, backend) {
  const t0 = performance.now();
  try {
    const model = await learn(data, { ...learnOptions, k, backend });
    const wall = performance.now() - t0;
    if (model.backend !== backend) throw new Error(`asked for backend ${backend}, got ${model.backend}`);
    const { wError, aError } = compare(model, data.truth);
    return { backend, W: model.W, A: model.A, timings: model.diagnostics.timings, wall, wError, aError, warnings: model.diagnostics.warnings.length };
  } catch (err) {
    if (!err?.code) throw err; // not a PureneuronError: a bug, not a measurement
    return { backend, error: `${err.code}: ${err.message}` };
  }
}

// ---------------------------------------------------------------------------------------------
// 1. Agreement
const tStart = performance.now();
const env = {
  ...machineEnv(),
};
Object.assign(env, sourceProvenance(root));
log(`bench: Node ${env.node}, ${env.cpu} (${env.cores} cores); shapes ${shapes.map(shapeName).join(' ')}; n ${ns.map(nName).join(', ')}`);

const agreement = [];
for (const shape of shapes) {
  const data = makeData(shape, CHECK_N);
  const [a, b] = [await runOnce(data, shape[1], 'wasm'), await runOnce(data, shape[1], 'js')];
  requireSame(a, b, `shape ${shapeName(shape)}, n = ${nName(CHECK_N)}`);
  agreement.push({ shape, n: CHECK_N, bitwise: true, error: a.error });
  log(`agreement ${shapeName(shape)} n=${nName(CHECK_N)}: W and A bitwise identical${a.error ? ` (both failed alike: ${a.error})` : ''}`);
}

// ---------------------------------------------------------------------------------------------
// 2. Sweep
const cells = [];
for (const shape of shapes) {
  const [d, k, l] = shape;
  // Warm-up (JIT) for this shape, untimed.
  {
    const data = makeData(shape, CHECK_N);
    for (const backend of BACKENDS) await runOnce(data, k, backend);
  }
  const prev = {}; // backend → { n, total } of the previous n, to predict run times
  for (const n of ns) {
    const tg = performance.now();
    const data = makeData(shape, n);
    log(`${shapeName(shape)} n=${nName(n)}: data generated in ${secs(performance.now() - tg)}`);
    const plan = {};
    for (const backend of BACKENDS) {
      const want = DEFAULT_REPEATS;
      const est = prev[backend] ? (prev[backend].total * n) / prev[backend].n : undefined;
      const capped = est ? Math.max(1, Math.min(want, Math.floor((args.budget * 1000) / est))) : want;
      plan[backend] = { repeats: capped, requested: want, predictedMs: est && round(est) };
      if (capped < want) log(`  ${backend}: ${capped} repeat(s) instead of ${want} (predicted ${secs(est)} per run, budget ${args.budget} s per cell)`);
    }
    const runs = { wasm: [], js: [] };
    let ref;
    const rounds = Math.max(...BACKENDS.map((b) => plan[b].repeats));
    for (let r = 0; r < rounds; r++) {
      for (const backend of BACKENDS) {
        if (r >= plan[backend].repeats) continue;
        const res = await runOnce(data, k, backend);
        if (!ref) ref = res;
        else requireSame(ref, res, `shape ${shapeName(shape)}, n = ${nName(n)}`);
        runs[backend].push(res);
        log(`  ${backend} run ${r + 1}/${plan[backend].repeats}: ${res.error ? res.error : `total ${secs(res.timings.total)} (pass 2 ${secs(res.timings.pass2)})`}`);
      }
    }
    const cell = { d, k, l, n, mh: tri(k), mz: tri(k), backends: {} };
    for (const backend of BACKENDS) {
      const rs = runs[backend];
      const ok = rs.filter((r) => !r.error);
      const c = { repeats: rs.length, requestedRepeats: plan[backend].requested, predictedRunMs: plan[backend].predictedMs };
      if (!ok.length) {
        c.error = rs[0]?.error;
      } else {
        const phases = phasesOf(ok);
        c.medianMs = Object.fromEntries(phases.map((p) => [p, round(median(ok.map((r) => r.timings[p] ?? 0)), 4)]));
        c.runsMs = Object.fromEntries(phases.map((p) => [p, ok.map((r) => round(r.timings[p], 4))]));
        c.samplesPerSecond = round(n / (c.medianMs.total / 1000));
        c.pass2GFlops = round((2 * cell.mh * cell.mz * n) / (c.medianMs.pass2 / 1000) / 1e9);
        c.wError = round(ok[0].wError);
        c.aError = round(ok[0].aError);
        c.warnings = ok[0].warnings;
        prev[backend] = { n, total: c.medianMs.total };
      }
      cell.backends[backend] = c;
    }
    const w = cell.backends.wasm, j = cell.backends.js;
    if (w.medianMs && j.medianMs) {
      cell.speedup = { total: round(j.medianMs.total / w.medianMs.total), pass2: round(j.medianMs.pass2 / w.medianMs.pass2) };
    }
    cells.push(cell);
  }
}
env.loadavgEnd = os.loadavg().map((v) => round(v));
const wasmMemoryAtEnd = wasmKernels.memoryBytes();
const durationS = round((performance.now() - tStart) / 1000);

// ---------------------------------------------------------------------------------------------
// 3. Report
const fmtMs = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const fmtRate = (v) => (v >= 1e6 ? `${(v / 1e6).toPrecision(3)} M` : v >= 1e3 ? `${(v / 1e3).toPrecision(3)} k` : v.toPrecision(3));
const repeatsUsed = [...new Set(cells.flatMap((c) => BACKENDS.map((b) => c.backends[b].repeats)))].sort((a, b) => b - a);
const lines = [];
lines.push(
  `Environment: Node ${env.node} (V8 ${env.v8}), ${env.cpu}, ${env.cores} cores, ${env.platform}, ${env.date.slice(0, 10)}; ` +
    `load average ${env.loadavgStart.join(' ')} at the start, ${env.loadavgEnd.join(' ')} at the end (other processes shared the machine). ` +
    (env.commit ? `Sources: commit ${env.commit.slice(0, 7)}${env.uncommittedSources.length ? ` plus uncommitted changes to ${env.uncommittedSources.length} file(s) in src/ or assembly/` : ''}. ` : '') +
    `Gaussian x, noise σ = 0.05, learn() with ${args.refine === undefined ? "default options (refine 'auto')" : `default options but refine ${JSON.stringify(args.refine)}${args.refine === 0 ? ' (the spectral estimate alone)' : ''}`} ` +
    `(workers 'auto': every core when the data span more than one chunk of 8 MiB, i.e. n ≥ 1e5 here; the calling thread at n = 1e4). ` +
    `Times in ms are medians over the repeats in the "runs" column (${repeatsUsed.join(', ')}; interleaved wasm/js, after a JIT warm-up); ` +
    `every run's W and A were checked bitwise identical across the backends. ` +
    `Pass-2 GFLOP/s counts the T += FᵀG update only (2·mh·mz·n, mh = mz = k(k+1)/2). ` +
    `Speed-up = js median / wasm median (total · pass 2), measured in the same run.`,
);
lines.push('');
const PHASES = phasesOf(cells.flatMap((c) => BACKENDS.map((b) => c.backends[b]).filter((b) => b.medianMs).map((b) => ({ timings: b.medianMs }))));
const cols = ['d,k,l', 'n', 'backend', 'runs', ...PHASES.map((p) => (p === 'total' ? 'total ms' : p)), 'samples/s', 'pass-2 GFLOP/s', 'speed-up wasm/js (total · pass 2)'];
lines.push(`| ${cols.join(' | ')} |`);
lines.push(`|${cols.map(() => '---').join('|')}|`);
for (const c of cells) {
  for (const backend of BACKENDS) {
    const b = c.backends[backend];
    const head = `| ${c.d},${c.k},${c.l} | ${nName(c.n)} | ${backend} | ${b.repeats} |`;
    if (!b.medianMs) {
      lines.push(`${head} failed: ${b.error} ${'|'.repeat(cols.length - 4)}`);
      continue;
    }
    const ms = PHASES.map((p) => (b.medianMs[p] === undefined ? '–' : fmtMs(b.medianMs[p])));
    ms[ms.length - 1] = `**${ms[ms.length - 1]}**`;
    const ratio = backend === 'wasm' && c.speedup ? `${c.speedup.total.toFixed(2)}× · ${c.speedup.pass2.toFixed(2)}×` : '';
    lines.push(`${head} ${ms.join(' | ')} | ${fmtRate(b.samplesPerSecond)} | ${b.pass2GFlops.toPrecision(3)} | ${ratio} |`);
  }
}
lines.push('');
const ref = cells.find((c) => c.d === 32 && c.k === 16 && c.l === 32 && c.n === 1e6);
const refW = ref?.backends.wasm.medianMs;
lines.push(
  'Reference figure, not measured here: the NumPy/OpenBLAS float64 reference implementation of the method (the ' +
    "project's reference figures, docs/reference.md; another run) took 1.75 s for learn() at n = 1e6, (d,k,l) = (32,16,32) " +
    'on one core, 1.40 s of it in pass 2 (1.54 s on two cores)' +
    (refW ? `; here the wasm backend took ${(refW.total / 1000).toFixed(2)} s, pass 2 ${(refW.pass2 / 1000).toFixed(2)} s.` : '.'),
);
if (wasmMemoryAtEnd !== wasmMemoryAtStart) {
  lines.push('');
  lines.push(`Note: wasm memory grew during the run (${wasmMemoryAtStart} → ${wasmMemoryAtEnd} bytes); the ArrayBuffer detach this causes slows optimized JS typed-array code in the rest of the process, so js figures after it may be ~10% pessimistic.`);
}
const md = lines.join('\n') + '\n';

const result = {
  benchmark: 'pureneuron learn() end to end (bench/run.mjs)',
  env,
  settings: {
    shapes,
    ns,
    generator: GEN,
    learnOptions: { ...learnOptions, note: 'otherwise defaults (k per shape; backend wasm and js)' },
    agreementN: CHECK_N,
    defaultRepeats: DEFAULT_REPEATS,
    budgetSecondsPerCell: args.budget,
    quick: args.quick,
    fullSweep,
    medians: 'per phase independently, over the repeats of a cell',
    speedup: 'js median / wasm median',
    pass2Flops: '2·mh·mz·n, mh = mz = k(k+1)/2',
  },
  agreement,
  wasmMemoryBytes: { start: wasmMemoryAtStart, end: wasmMemoryAtEnd },
  durationSeconds: durationS,
  reference: { source: 'docs/reference.md (reference NumPy/OpenBLAS float64 implementation, another run), not measured here', shape: [32, 16, 32], n: 1e6, totalSeconds1Core: 1.75, pass2Seconds1Core: 1.4, totalSeconds2Cores: 1.54 },
  cells,
};

mkdirSync(dirname(outPrefix), { recursive: true });
for (const [ext, text] of [['.json', JSON.stringify(result, null, 2) + '\n'], ['.md', md]]) {
  const tmp = `${outPrefix}${ext}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, `${outPrefix}${ext}`);
}
process.stdout.write(md);
log(`bench: done in ${secs(durationS * 1000)}; wrote ${relative(process.cwd(), outPrefix)}.json and .md`);
