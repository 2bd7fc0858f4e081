#!/usr/bin/env node
// Kernel benchmark: wasm vs js, checked for bitwise agreement before anything is timed.
//
//   node bench/kernels.mjs [--quick] [--trials N]   (or npm run bench:kernels)
//
// Compiles src/kernels (TypeScript) on the fly with esbuild into build/bench-kernels.mjs (build/ is
// not committed; bench/lib/bundle.mjs), so it measures the current sources without a full `npm run build`.
// Prints the environment, a Markdown table and the same results as JSON.
//
// Figures:
// - detector: GFLOP/s = 2·mh·mz·rows / time, mh = mz = k(k+1)/2 (the T += FᵀG update only),
//   while the time covers the whole kernel (projections x→h, y→z, h→p, feature formation,
//   GEMM, copies in and out of wasm memory). Shapes: d = l = 2k, hDim = zDim = k, even detector.
// - moments1: GFLOP/s = 2·rows·(d(d+1)/2 + l·d + l(l+1)/2) / time (upper triangles only).
// - readout: GFLOP/s = 2·rows·(k·d + k(k+1)/2 + k·l) / time (projection and both products).
// - detector, moments1 and readout are also timed with per-row weights ρ ("weighted"): same
//   flop count (the ρ multiplies are not counted), so the ratio to unweighted is the overhead.
// - robustWeights: million rows per second (d = 32, including the copy into wasm memory).
// - symEig: milliseconds per call.
// - cholesky, triInverse: milliseconds per call at p = 512 (k·d of the refinement's Gauss–Newton
//   matrix at (32,16,·)); a diagonally dominant SPD matrix. The cholesky time includes restoring
//   the input first (one 2 MB copy, the same for both backends: the factor works in place).
// Each figure is the median over trials (one call of `rows` rows per trial); "best" is the
// fastest trial, a better estimate of the machine's speed when other processes compete.
import os from 'node:os';
import { importFromSource } from './lib/bundle.mjs';
import { median, sameBits } from './lib/stats.mjs';
import { machineEnv } from './lib/env.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const trialsArg = args.indexOf('--trials');
const TRIALS = trialsArg >= 0 ? Number(args[trialsArg + 1]) : quick ? 3 : 9;

const { jsKernels, wasmKernelsSync } = await importFromSource('bench-kernels', [
  "export { jsKernels } from './src/kernels/js/index.ts';",
  "export { wasmKernelsSync } from './src/kernels/wasm/index.ts';",
]);
const wasm = wasmKernelsSync();
const backends = [wasm, jsKernels];

// ---------------------------------------------------------------------------------------------
let seed = 12345;
function rand() {
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed / 2 ** 31 - 1;
}
const randArray = (n) => Float64Array.from({ length: n }, rand);
const tri = (n) => (n * (n + 1)) / 2;
const r2 = (v) => Math.round(v * 100) / 100;

/** p×p SPD: random symmetric off-diagonal in [-1, 1), diagonal p (diagonally dominant). */
function randomSpd(p) {
  const a = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < i; j++) a[i * p + j] = a[j * p + i] = rand();
    a[i * p + i] = p;
  }
  return a;
}

const randWeights = (n) => Float64Array.from({ length: n }, () => { const t = rand(); return t > 0.6 ? 0 : 1 + t; });

function detectorPlan(k) {
  const d = 2 * k, l = 2 * k;
  return { d, l, hDim: k, zDim: k, Rx: randArray(k * d), Ry: randArray(k * l), Ph: randArray(k * k), literal: false };
}

// 1. Agreement -------------------------------------------------------------------------------
function agree() {
  const problems = [];
  for (const k of [3, 8, 16]) {
    const plan = detectorPlan(k);
    const rows = 777;
    const x = randArray(rows * plan.d), y = randArray(rows * plan.l);
    const [Ta, Tb] = backends.map(() => new Float64Array(tri(k) * tri(k)));
    wasm.detector(Ta, plan, x, y, rows);
    jsKernels.detector(Tb, plan, x, y, rows);
    if (!sameBits(Ta, Tb)) problems.push(`detector k=${k}`);
    const rho = randWeights(rows);
    wasm.detector(Ta, plan, x, y, rows, rho);
    jsKernels.detector(Tb, plan, x, y, rows, rho);
    if (!sameBits(Ta, Tb)) problems.push(`weighted detector k=${k}`);
  }
  {
    const d = 19, l = 11, rows = 600;
    const x = randArray(rows * d), y = randArray(rows * l);
    const mk = () => ({ xx: new Float64Array(d * d), yx: new Float64Array(l * d), yy: new Float64Array(l * l), xs: new Float64Array(d), ys: new Float64Array(l) });
    const a = mk(), b = mk();
    wasm.moments1(a, x, y, rows, d, l);
    jsKernels.moments1(b, x, y, rows, d, l);
    for (const key of Object.keys(a)) if (!sameBits(a[key], b[key])) problems.push(`moments1 ${key}`);
    const rho = randWeights(rows);
    wasm.moments1(a, x, y, rows, d, l, rho);
    jsKernels.moments1(b, x, y, rows, d, l, rho);
    for (const key of Object.keys(a)) if (!sameBits(a[key], b[key])) problems.push(`weighted moments1 ${key}`);
    const k = 6, W = randArray(k * d);
    const ra = { rr: new Float64Array(k * k), ry: new Float64Array(k * l) }, rb = { rr: new Float64Array(k * k), ry: new Float64Array(k * l) };
    wasm.readout(ra, W, k, x, y, rows, d, l);
    jsKernels.readout(rb, W, k, x, y, rows, d, l);
    if (!sameBits(ra.rr, rb.rr) || !sameBits(ra.ry, rb.ry)) problems.push('readout');
    wasm.readout(ra, W, k, x, y, rows, d, l, rho);
    jsKernels.readout(rb, W, k, x, y, rows, d, l, rho);
    if (!sameBits(ra.rr, rb.rr) || !sameBits(ra.ry, rb.ry)) problems.push('weighted readout');
    const inv = randArray(d), wa = new Float64Array(rows), wb = new Float64Array(rows);
    wasm.robustWeights(wa, x, rows, d, inv, 1 / d);
    jsKernels.robustWeights(wb, x, rows, d, inv, 1 / d);
    if (!sameBits(wa, wb)) problems.push('robustWeights');
  }
  for (const m of [1, 7, 136]) {
    const a = randArray(m * m);
    const p = wasm.symEig(a, m), q = jsKernels.symEig(a, m);
    if (!sameBits(p.values, q.values) || !sameBits(p.vectors, q.vectors)) problems.push(`symEig m=${m}`);
  }
  for (const p of [1, 7, 130, 512]) {
    const A = randomSpd(p);
    const a = A.slice(), b = A.slice();
    if (!wasm.cholesky(a, p) || !jsKernels.cholesky(b, p) || !sameBits(a, b)) problems.push(`cholesky p=${p}`);
    const x = new Float64Array(p * p), y = new Float64Array(p * p);
    wasm.triInverse(a, p, x);
    jsKernels.triInverse(b, p, y);
    if (!sameBits(x, y)) problems.push(`triInverse p=${p}`);
  }
  return problems;
}

const problems = agree();
if (problems.length) {
  console.error(`wasm and js disagree (bitwise): ${problems.join(', ')} — not timing.`);
  process.exit(1);
}

// 2. Timing ----------------------------------------------------------------------------------
function time(fn, trials) {
  fn(); // warm-up (JIT, scratch growth)
  const t = [];
  for (let i = 0; i < trials; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  return t;
}

const results = { detector: [], moments1: [], readout: [], robustWeights: [], symEig: [], cholesky: [] };

for (const k of quick ? [8, 16] : [8, 16, 32]) {
  const plan = detectorPlan(k);
  const m = tri(k);
  const flopsPerRow = 2 * m * m;
  const row = { k, mh: m, mz: m, d: plan.d, l: plan.l };
  for (const K of backends) {
    // ~0.5 GFLOP per trial for wasm, ~0.15 for js, whole batches, at least one batch.
    const target = K === wasm ? 5e8 : 1.5e8;
    const rows = Math.max(256, Math.round(target / flopsPerRow / 256) * 256);
    const x = randArray(rows * plan.d), y = randArray(rows * plan.l);
    const T = new Float64Array(m * m);
    const rho = randWeights(rows);
    const trials = K === wasm ? TRIALS : Math.max(3, Math.ceil(TRIALS / 2));
    const t = time(() => K.detector(T, plan, x, y, rows), trials);
    const tw = time(() => K.detector(T, plan, x, y, rows, rho), trials);
    row[`${K.name}Rows`] = rows;
    row[`${K.name}Median`] = r2((flopsPerRow * rows) / median(t) / 1e6);
    row[`${K.name}Best`] = r2((flopsPerRow * rows) / Math.min(...t) / 1e6);
    row[`${K.name}WeightedMedian`] = r2((flopsPerRow * rows) / median(tw) / 1e6);
  }
  row.ratio = r2(row.wasmMedian / row.jsMedian);
  results.detector.push(row);
}

for (const [d, l] of quick ? [[32, 32]] : [[32, 32], [64, 64]]) {
  const flopsPerRow = 2 * (tri(d) + l * d + tri(l));
  const row = { d, l };
  for (const K of backends) {
    const rows = Math.max(256, Math.round((K === wasm ? 3e8 : 1e8) / flopsPerRow / 256) * 256);
    const x = randArray(rows * d), y = randArray(rows * l);
    const s = { xx: new Float64Array(d * d), yx: new Float64Array(l * d), yy: new Float64Array(l * l), xs: new Float64Array(d), ys: new Float64Array(l) };
    const rho = randWeights(rows);
    const t = time(() => K.moments1(s, x, y, rows, d, l), TRIALS);
    const tw = time(() => K.moments1(s, x, y, rows, d, l, rho), TRIALS);
    row[`${K.name}Median`] = r2((flopsPerRow * rows) / median(t) / 1e6);
    row[`${K.name}Best`] = r2((flopsPerRow * rows) / Math.min(...t) / 1e6);
    row[`${K.name}WeightedMedian`] = r2((flopsPerRow * rows) / median(tw) / 1e6);
  }
  row.ratio = r2(row.wasmMedian / row.jsMedian);
  results.moments1.push(row);
}

for (const [d, l, k] of quick ? [[32, 32, 16]] : [[32, 32, 16], [64, 64, 32]]) {
  const flopsPerRow = 2 * (k * d + tri(k) + k * l);
  const row = { d, l, k };
  for (const K of backends) {
    const rows = Math.max(256, Math.round((K === wasm ? 2e8 : 7e7) / flopsPerRow / 256) * 256);
    const x = randArray(rows * d), y = randArray(rows * l), W = randArray(k * d);
    const s = { rr: new Float64Array(k * k), ry: new Float64Array(k * l) };
    const rho = randWeights(rows);
    const t = time(() => K.readout(s, W, k, x, y, rows, d, l), TRIALS);
    const tw = time(() => K.readout(s, W, k, x, y, rows, d, l, rho), TRIALS);
    row[`${K.name}Median`] = r2((flopsPerRow * rows) / median(t) / 1e6);
    row[`${K.name}Best`] = r2((flopsPerRow * rows) / Math.min(...t) / 1e6);
    row[`${K.name}WeightedMedian`] = r2((flopsPerRow * rows) / median(tw) / 1e6);
  }
  row.ratio = r2(row.wasmMedian / row.jsMedian);
  results.readout.push(row);
}

{
  const d = 32, rows = 1 << 17;
  const x = randArray(rows * d), inv = randArray(d), out = new Float64Array(rows);
  const row = { d, rows };
  for (const K of backends) {
    const t = time(() => K.robustWeights(out, x, rows, d, inv, 1 / d), TRIALS);
    row[`${K.name}Median`] = r2(rows / median(t) / 1e3);
    row[`${K.name}Best`] = r2(rows / Math.min(...t) / 1e3);
  }
  results.robustWeights.push(row);
}

for (const m of quick ? [136] : [136, 528]) {
  const a = randArray(m * m);
  const row = { m };
  for (const K of backends) {
    const t = time(() => K.symEig(a, m), m > 200 ? 3 : 5);
    row[`${K.name}Ms`] = r2(median(t));
  }
  results.symEig.push(row);
}

{
  const p = 512;
  const A = randomSpd(p);
  const work = new Float64Array(p * p);
  const L = A.slice();
  jsKernels.cholesky(L, p);
  const out = new Float64Array(p * p);
  const row = { p };
  for (const K of backends) {
    const n = quick ? 3 : TRIALS;
    row[`${K.name}CholeskyMs`] = r2(median(time(() => { work.set(A); K.cholesky(work, p); }, n)));
    row[`${K.name}TriInverseMs`] = r2(median(time(() => K.triInverse(L, p, out), n)));
  }
  results.cholesky.push(row);
}

// After the first ArrayBuffer detach in a process (memory.grow of any wasm memory, a transfer to
// a worker, ...), V8 adds detach checks to optimized typed-array code for good: JS kernels get
// slower. The wasm backend avoids growing for common sizes (32 MiB initial memory), but user
// code may detach buffers, so the JS detector is also timed in that state (last: irreversible).
{
  const ab = new ArrayBuffer(8);
  structuredClone(ab, { transfer: [ab] });
  for (const row of results.detector) {
    if (quick && row.k !== 16) continue;
    const plan = detectorPlan(row.k);
    const flopsPerRow = 2 * row.mh * row.mz;
    const rows = row.jsRows;
    const x = randArray(rows * plan.d), y = randArray(rows * plan.l);
    const T = new Float64Array(row.mh * row.mz);
    const t = time(() => jsKernels.detector(T, plan, x, y, rows), Math.max(3, Math.ceil(TRIALS / 2)));
    row.jsAfterDetachMedian = r2((flopsPerRow * rows) / median(t) / 1e6);
  }
}

// 3. Report ----------------------------------------------------------------------------------
const env = {
  ...machineEnv(),
  loadavg: os.loadavg().map(r2),
  trials: TRIALS,
};
const lines = [];
lines.push(`Environment: Node ${env.node}, ${env.cpu} (${env.cores} cores), load average ${env.loadavg.join(' ')}`);
lines.push('');
lines.push('| detector k | mh = mz | wasm GFLOP/s (median / best) | wasm weighted | js GFLOP/s (median / best) | js weighted | wasm / js | js after a detach (median) |');
lines.push('|---|---|---|---|---|---|---|---|');
for (const r of results.detector) lines.push(`| ${r.k} | ${r.mh} | ${r.wasmMedian} / ${r.wasmBest} | ${r.wasmWeightedMedian} | ${r.jsMedian} / ${r.jsBest} | ${r.jsWeightedMedian} | ${r.ratio}× | ${r.jsAfterDetachMedian ?? '–'} |`);
lines.push('');
lines.push('| moments1 d, l | wasm GFLOP/s (median / best) | wasm weighted | js GFLOP/s (median / best) | js weighted | wasm / js |');
lines.push('|---|---|---|---|---|---|');
for (const r of results.moments1) lines.push(`| ${r.d}, ${r.l} | ${r.wasmMedian} / ${r.wasmBest} | ${r.wasmWeightedMedian} | ${r.jsMedian} / ${r.jsBest} | ${r.jsWeightedMedian} | ${r.ratio}× |`);
lines.push('');
lines.push('| readout d, l, k | wasm GFLOP/s (median / best) | wasm weighted | js GFLOP/s (median / best) | js weighted | wasm / js |');
lines.push('|---|---|---|---|---|---|');
for (const r of results.readout) lines.push(`| ${r.d}, ${r.l}, ${r.k} | ${r.wasmMedian} / ${r.wasmBest} | ${r.wasmWeightedMedian} | ${r.jsMedian} / ${r.jsBest} | ${r.jsWeightedMedian} | ${r.ratio}× |`);
lines.push('');
lines.push('| robustWeights d | wasm M rows/s (median / best) | js M rows/s (median / best) |');
lines.push('|---|---|---|');
for (const r of results.robustWeights) lines.push(`| ${r.d} | ${r.wasmMedian} / ${r.wasmBest} | ${r.jsMedian} / ${r.jsBest} |`);
lines.push('');
lines.push('| symEig m | wasm ms | js ms |');
lines.push('|---|---|---|');
for (const r of results.symEig) lines.push(`| ${r.m} | ${r.wasmMs} | ${r.jsMs} |`);
lines.push('');
lines.push('| cholesky / triInverse p | wasm ms | js ms |');
lines.push('|---|---|---|');
for (const r of results.cholesky) {
  lines.push(`| cholesky ${r.p} | ${r.wasmCholeskyMs} | ${r.jsCholeskyMs} |`);
  lines.push(`| triInverse ${r.p} | ${r.wasmTriInverseMs} | ${r.jsTriInverseMs} |`);
}
console.log(lines.join('\n'));
console.log('');
console.log(JSON.stringify({ env, agreement: 'bitwise', ...results }, null, 2));
