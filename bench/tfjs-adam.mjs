#!/usr/bin/env node
// The yardstick users reach for instead of pureneuron: train the same two-layer network
// y = A·relu(W·x) (W k×d, A l×k, no biases) by minibatch Adam in TensorFlow.js (tfjs-core with
// the wasm backend, float32, one thread), on the files that bench/cli.mjs gives `pureneuron
// learn`, and measure the TRAINING TIME UNTIL THE W ERROR IS ≤ 1e-3.
//
//   node bench/tfjs-adam.mjs --dir build/cli-bench/gaussian-20-10-15-s0-n10000
//   node bench/tfjs-adam.mjs --dir DIR [--seeds 5] [--max-seconds 30] [--lr 0.01] [--check-ms 25] [--json]
//
// DIR holds x.f64 (n×d) and y.f64 (n×l), row-major little-endian float64, meta.json (n, d, k, l)
// and truth.json (the planted network); `node bench/cli.mjs --only small --repeats 1` writes the
// (20,10,15) ones. W errors come from the package's own compare() in dist/index.js (units matched
// up to permutation and positive scale): run `npm run build` first.
//
// Protocol (as ../shared/docs/algorithm.md, "What users do instead"): per seed 1..--seeds, a
// Keras-default start (Glorot uniform for W and A: U(±√(6/(fan_in + fan_out))), from a seeded
// RNG), then minibatch Adam on the squared loss (1/2b)·Σ‖A·relu(W·x) − y‖² with batch 256 (the
// last batch of an epoch is the remainder), samples reshuffled every epoch (a seeded Fisher–Yates
// permutation; each batch's rows are gathered by tf.gather with its slice of the permutation, as
// tfjs-layers' model.fit does — 2.3× faster per epoch here than gathering the whole epoch once
// and tf.slice-ing the batches off it),
// β1 = 0.9, β2 = 0.999, ε = 1e-7 (Keras's and the tfjs float32 backend's default), bias-corrected
// moments as tf.train.adam computes them: p ← p − lr·m̂ / (√v̂ + ε). Step size: --lr, default
// 0.01, the best of the grid {0.001, 0.003, 0.01} on gaussian-20-10-15-s0-n10000 (5 seeds each,
// median training time to W error ≤ 1e-3: 1.7 s, 0.66 s and 0.24 s; 5/5 reached with each), and
// 5/5 on the other three (20,10,15) problems too. It is 10× Keras's default of 0.001 and at the
// edge of that grid: outside it, 0.03 took 0.12–0.14 s and 0.1 took 0.11 s on the same problem
// (5/5), 0.3 took 2.6 s; pass --lr 0.03 for a stronger yardstick. After every epoch, and within
// an epoch after every --check-ms (default 25) ms of training, W is read back and compared with
// truth.json; training stops at the first check with W error ≤ 1e-3 (reached) or once
// --max-seconds of training have passed (default 30: 'not reached', with the best W error seen);
// a W or A that is no longer finite ends the run as diverged.
//
// Timed ("training time"): the shuffles, the gathers and slices, the forward and backward passes
// and the Adam updates, i.e. everything a training loop does. The wasm backend runs every op
// synchronously on this thread, so the clock read after the last op of a step includes its work.
// NOT timed: Node and tfjs start-up, wasm compilation, reading the files and making the float32
// tensors, the initialization, and the monitoring (reading W back, compare()). Per seed the
// training time to the first check at ≤ 1e-3 is reported, so its resolution is one check interval
// (one epoch, ~20 ms at n = 1e4 here, or 25 ms). Seeds run one after another in one process: the
// first pays the warm-up of the training loop (~80 ms here).
//
// Why the gradients are written by hand: tfjs-core's Node (CommonJS) build registers no gradient
// kernels (tf.getGradient('BatchMatMul') is undefined), so tf.grad / optimizer.minimize cannot be
// used; the umbrella @tensorflow/tfjs package (not installed here) registers them through
// tfjs-core's ESM dist/register_all_gradients.js, whose extensionless relative imports Node's
// ESM loader cannot resolve (4.22.0). The backward pass is three matMuls
// and a step(), as below; the Adam update is written with tf ops the way tf.train.adam's
// applyGradients does it (checked once against it, and the gradients against central finite
// differences in float64, when this script was written).
//
// The wasm backend: @tensorflow/tfjs-backend-wasm's Node build loads its .wasm files from its own
// dist/ folder (the path is set explicitly below; nothing is downloaded). SIMD is used; Node gets
// the single-threaded binary (setThreadsCount(1) is called anyway).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { root } from './lib/bundle.mjs';
import { median, round } from './lib/stats.mjs';

const require = createRequire(import.meta.url);
// The CommonJS Node builds: one tfjs-core instance, shared with the backend that registers on it.
const tf = require('@tensorflow/tfjs-core');
const wasm = require('@tensorflow/tfjs-backend-wasm');

const USAGE = `usage: node bench/tfjs-adam.mjs --dir DIR [--seeds N] [--max-seconds S] [--lr LR] [--check-ms MS] [--json]
  --dir DIR          a problem written by \`pureneuron generate\` (x.f64, y.f64, meta.json, truth.json)
  --seeds N          seeds 1..N, one training run each (default 5)
  --max-seconds S    training-time cap per seed (default 30)
  --lr LR            Adam step size (default 0.01)
  --check-ms MS      within an epoch, check the W error after every MS ms of training (default 25)
  --json             one JSON object on stdout instead of the text report`;

export const DEFAULTS = { batch: 256, lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-7, target: 1e-3, checkEveryMs: 25 };

/** A small seeded generator (sfc32, state from splitmix32 of the seed and a stream number). */
export function rng(seed, stream = 0) {
  let h = (seed * 0x9e3779b9 + stream * 0x85ebca6b) >>> 0;
  const next32 = () => {
    h = (h + 0x9e3779b9) >>> 0;
    let z = h;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = next32(), b = next32(), c = next32(), d = next32();
  const u32 = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 12; i++) u32();
  const uniform = () => (u32() + (u32() >>> 11) / 2 ** 21) / 2 ** 32; // [0, 1)
  return { uniform, int: (m) => Math.floor(uniform() * m) };
}

/** Keras's default Dense kernel init, Glorot uniform, for W (k×d) and A (l×k), row-major. */
export function glorotUniform(d, k, l, seed) {
  const r = rng(seed, 1);
  const fill = (rows, cols) => {
    const lim = Math.sqrt(6 / (rows + cols));
    return Float32Array.from({ length: rows * cols }, () => (2 * r.uniform() - 1) * lim);
  };
  return { W: fill(k, d), A: fill(l, k) };
}

/**
 * Gradients of (1/2b)·Σ_s ‖A·relu(W·x_s) − y_s‖² over a batch X (b×d), Y (b×l), by hand:
 * H = X·Wᵀ, R = relu(H), P = R·Aᵀ, E = P − Y; dA = Eᵀ·R / b, dH = (E·A) ⊙ step(H), dW = dHᵀ·X / b.
 * Call inside tf.tidy.
 */
export function gradients(W, A, X, Y) {
  const b = X.shape[0];
  const H = tf.matMul(X, W, false, true);
  const R = tf.relu(H);
  const E = tf.sub(tf.matMul(R, A, false, true), Y);
  const dA = tf.div(tf.matMul(E, R, true, false), b);
  const dH = tf.mul(tf.matMul(E, A), tf.step(H));
  const dW = tf.div(tf.matMul(dH, X, true, false), b);
  return { dW, dA };
}

/**
 * One Adam step on variable p with gradient g and moment variables m, v; t = steps so far
 * including this one. The same arithmetic as tf.train.adam's applyGradients. Call inside tf.tidy.
 */
export function adamStep(p, g, m, v, t, o) {
  const m1 = tf.add(tf.mul(m, o.beta1), tf.mul(g, 1 - o.beta1));
  const v1 = tf.add(tf.mul(v, o.beta2), tf.mul(tf.square(g), 1 - o.beta2));
  const mHat = tf.div(m1, 1 - o.beta1 ** t);
  const vHat = tf.div(v1, 1 - o.beta2 ** t);
  m.assign(m1);
  v.assign(v1);
  p.assign(tf.add(p, tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), o.eps)), -o.lr)));
}

/** The wasm backend, one thread, its .wasm files from node_modules. */
export async function initBackend() {
  const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm']) {
    if (!existsSync(join(dist, f))) throw new Error(`${join(dist, f)} is missing: run npm ci`);
  }
  wasm.setWasmPaths(dist + '/');
  wasm.setThreadsCount?.(1);
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: the wasm backend failed to initialize');
  await tf.ready();
  return { backend: tf.getBackend(), simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'), threads: wasm.getThreadsCount?.() ?? 1, tfjs: tf.version_core };
}

/** x.f64 / y.f64 as Float64Arrays of n×d and n×l. */
function readF64(file, count) {
  const buf = readFileSync(file);
  if (buf.byteLength !== count * 8) throw new Error(`${file}: ${buf.byteLength} bytes, expected ${count * 8} (n × columns × 8)`);
  return new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

export function loadProblem(dir) {
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'));
  const { n, d, k, l } = meta;
  const x = readF64(join(dir, meta.x ?? 'x.f64'), n * d);
  const y = readF64(join(dir, meta.y ?? 'y.f64'), n * l);
  const truthJson = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8'));
  return { n, d, k, l, x, y, truthJson };
}

/**
 * One training run from seed `seed`. X, Y: float32 tensors n×d, n×l. `wError(W, A)` (Float32Arrays)
 * is the untimed monitor. Returns { seed, reached, trainMs, epochs, bestError, checks } (and
 * diverged: true when W or A stopped being finite, which ends the run).
 */
export function trainSeed({ X, Y, n, d, k, l }, seed, wError, o) {
  const init = glorotUniform(d, k, l, seed);
  // tidy frees the initial tensors; variables outlive it.
  const [W, A, mW, vW, mA, vA] = tf.tidy(() =>
    [tf.tensor2d(init.W, [k, d]), tf.tensor2d(init.A, [l, k]), tf.zeros([k, d]), tf.zeros([k, d]), tf.zeros([l, k]), tf.zeros([l, k])].map((v) => tf.variable(v)),
  );
  const shuffle = rng(seed, 2);
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  const stepsPerEpoch = Math.ceil(n / o.batch);
  const maxMs = o.maxSeconds * 1000;

  let trainMs = 0;
  let sinceCheck = 0;
  let t = 0; // Adam steps
  let bestError = Infinity;
  let checks = 0;
  let reached = false;
  let diverged = false;
  const check = () => {
    checks++;
    sinceCheck = 0;
    const w = W.dataSync();
    const a = A.dataSync();
    if (!w.every(Number.isFinite) || !a.every(Number.isFinite)) return (diverged = true);
    const e = wError(w, a);
    if (e < bestError) bestError = e;
    return e <= o.target;
  };
  outer: for (;;) {
    let t0 = performance.now();
    for (let s = n - 1; s > 0; s--) {
      const j = shuffle.int(s + 1);
      const tmp = perm[s];
      perm[s] = perm[j];
      perm[j] = tmp;
    }
    for (let b0 = 0; b0 < n; b0 += o.batch) {
      const bs = Math.min(o.batch, n - b0);
      t++;
      tf.tidy(() => {
        const idx = tf.tensor1d(perm.subarray(b0, b0 + bs), 'int32');
        const { dW, dA } = gradients(W, A, tf.gather(X, idx), tf.gather(Y, idx));
        adamStep(W, dW, mW, vW, t, o);
        adamStep(A, dA, mA, vA, t, o);
      });
      const t1 = performance.now();
      trainMs += t1 - t0;
      sinceCheck += t1 - t0;
      if (b0 + bs >= n || sinceCheck >= o.checkEveryMs) {
        if (check()) {
          reached = !diverged;
          break outer;
        }
        if (trainMs >= maxMs) break outer;
      }
      t0 = performance.now();
    }
  }
  tf.dispose([W, A, mW, vW, mA, vA]);
  return { seed, reached, trainMs: round(trainMs, 4), epochs: round(t / stepsPerEpoch, 4), bestError: Number.isFinite(bestError) ? round(bestError) : null, checks, ...(diverged ? { diverged } : {}) };
}

function parseArgs(argv) {
  const o = { dir: undefined, seeds: 5, maxSeconds: 30, lr: DEFAULTS.lr, checkEveryMs: DEFAULTS.checkEveryMs, json: false };
  const fail = (msg) => {
    throw new Error(`${msg}\n${USAGE}`);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => (i + 1 < argv.length ? argv[++i] : fail(`${a} needs a value`));
    if (a === '--dir') o.dir = val();
    else if (a === '--seeds') o.seeds = Number(val());
    else if (a === '--max-seconds') o.maxSeconds = Number(val());
    else if (a === '--lr') o.lr = Number(val());
    else if (a === '--check-ms') o.checkEveryMs = Number(val());
    else if (a === '--json') o.json = true;
    else if (a === '--help' || a === '-h') {
      process.stdout.write(USAGE + '\n');
      process.exit(0);
    } else fail(`unknown argument ${a}`);
  }
  if (!o.dir) fail('--dir is required');
  if (!(Number.isInteger(o.seeds) && o.seeds >= 1)) fail('--seeds needs an integer ≥ 1');
  if (!(o.maxSeconds > 0)) fail('--max-seconds needs a positive number');
  if (!(o.lr > 0)) fail('--lr needs a positive number');
  if (!(o.checkEveryMs > 0)) fail('--check-ms needs a positive number');
  return o;
}

async function main() {
  const wall0 = performance.now();
  const o = { ...DEFAULTS, ...parseArgs(process.argv.slice(2)) };
  if (os.endianness() !== 'LE') throw new Error('the .f64 files are little-endian; this machine is not');
  const dist = join(root, 'dist/index.js');
  if (!existsSync(dist)) throw new Error('dist/index.js is missing: run npm run build first');
  const { compare, Model } = await import(pathToFileURL(dist).href);
  const backend = await initBackend();

  const dir = resolve(o.dir);
  const p = loadProblem(dir);
  const truth = Model.fromJSON(p.truthJson);
  if (truth.d !== p.d || truth.k !== p.k || truth.l !== p.l) throw new Error(`${dir}: truth.json's shape differs from meta.json's`);
  // compare()'s prediction error is not used here: a few Gaussian inputs keep the check cheap.
  const wError = (W, A) => compare({ d: p.d, k: p.k, l: p.l, W: Float64Array.from(W), A: Float64Array.from(A) }, truth, { n: 16 }).wError;
  const X = tf.tensor2d(Float32Array.from(p.x), [p.n, p.d]);
  const Y = tf.tensor2d(Float32Array.from(p.y), [p.n, p.l]);
  const log = o.json ? () => {} : (s) => process.stdout.write(s + '\n');
  log(`${dir}: n = ${p.n}, (d, k, l) = (${p.d}, ${p.k}, ${p.l}); tfjs ${backend.tfjs} ${backend.backend} (SIMD ${backend.simd}, ${backend.threads} thread), float32; Adam lr ${o.lr}, batch ${o.batch}; stop at W error ≤ ${o.target} or ${o.maxSeconds} s of training`);

  const seeds = [];
  for (let seed = 1; seed <= o.seeds; seed++) {
    const r = trainSeed({ X, Y, n: p.n, d: p.d, k: p.k, l: p.l }, seed, wError, o);
    seeds.push(r);
    log(
      r.reached
        ? `seed ${seed}: ${(r.trainMs / 1000).toFixed(3)} s of training to W error ≤ ${o.target} (${r.bestError}), ${r.epochs} epochs`
        : `seed ${seed}: ${r.diverged ? 'diverged' : 'not reached'} in ${(r.trainMs / 1000).toFixed(1)} s of training, best W error ${r.bestError}, ${r.epochs} epochs`,
    );
  }
  tf.dispose([X, Y]);
  // Seeds that did not reach the target count as +∞: the median is finite only if most succeed.
  const med = median(seeds.map((r) => (r.reached ? r.trainMs : Infinity)));
  const medianTrainMs = Number.isFinite(med) ? round(med, 4) : null;
  const successes = seeds.filter((r) => r.reached).length;
  const wallMs = round(performance.now() - wall0, 4);
  if (o.json) {
    process.stdout.write(JSON.stringify({ dir, seeds, medianTrainMs, successes, lr: o.lr, batch: o.batch, maxSeconds: o.maxSeconds, checkEveryMs: o.checkEveryMs, target: o.target, tfjs: backend, node: process.version, wallMs }) + '\n');
  } else {
    log(`median over ${o.seeds} seeds: ${medianTrainMs === null ? 'not reached' : `${(medianTrainMs / 1000).toFixed(3)} s of training`} (${successes}/${o.seeds} reached W error ≤ ${o.target}); process wall time ${(wallMs / 1000).toFixed(1)} s`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((e) => {
    console.error(`tfjs-adam: ${e.message}`);
    process.exit(1);
  });
}
