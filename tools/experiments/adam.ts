/**
 * The baseline users reach for: train the same two-layer network y = A·relu(W·x) (width k, no
 * biases) by minibatch Adam on the squared loss, in plain JavaScript (Float64Array loops).
 *
 * Loss of a batch B: (1 / 2|B|) Σ_{s∈B} ‖A·relu(W·x_s) − y_s‖². Per sample the forward and
 * backward passes cost 2kd + 3lk multiply-adds. Samples are reshuffled every epoch (a seeded
 * Fisher–Yates permutation), so a run is a pure function of its options.
 *
 * Early stopping as Keras users set it up (EarlyStopping with restore_best_weights): after
 * every epoch the loss on a fixed monitor set (the first `monitorRows` samples) is computed —
 * this is part of training and timed — and compared with the one `window` epochs before.
 * Training stops at a *plateau* (relative improvement below `plateauTol`), when the monitor
 * loss has fallen below `lossFloor` times the zero predictor's loss ½·mean‖y‖² on the monitor
 * set (converged: the residual is ~1e-7 of the signal), at `maxEpochs`, at `maxMs` of training
 * time, or when `onEpoch` returns true; the weights of the epoch with the lowest monitor loss
 * are returned. (Adam with a constant step is not stable at an interpolating optimum: the
 * error can fall to 1e-10 and climb back to 1e-4, so the best weights are kept.) Time spent
 * inside `onEpoch` (the caller's monitoring) is not counted.
 */
import { Rng } from '../../src/math/random.js';

export interface AdamOptions {
  /** Hidden units. */
  k: number;
  /** Adam step size (default 0.003). */
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Minibatch size (default 64); ≥ n means full batch. */
  batchSize?: number;
  /** Stop after this many epochs (default 100000). */
  maxEpochs?: number;
  /** Stop after this much training time in ms (default 30000). */
  maxMs?: number;
  /** Plateau test: compare the epoch loss with the one this many epochs earlier (default 10). */
  window?: number;
  /** Plateau when loss > (1 − plateauTol)·(loss `window` epochs earlier) (default 0.01). */
  plateauTol?: number;
  /** Converged when the monitor loss < lossFloor·½·mean‖y‖², the zero predictor's loss (default 1e-14). */
  lossFloor?: number;
  /** Samples (the first ones) on which the loss is monitored after every epoch (default 4096). */
  monitorRows?: number;
  /** Seed of the initialization and the shuffles (default 1). */
  seed?: number;
  /** Start here instead of at a random point (W k×d, A l×k row-major; copied). */
  init?: { W: Float64Array; A: Float64Array };
  /** Called after every epoch with the current weights; return true to stop. Not timed. */
  onEpoch?: (s: EpochState) => boolean | void;
}

export interface EpochState {
  epoch: number;
  /** Training time so far (ms), monitoring excluded. */
  ms: number;
  /** Loss on the monitor set at the end of the epoch. */
  loss: number;
  W: Float64Array;
  A: Float64Array;
}

export type StopReason = 'plateau' | 'converged' | 'maxEpochs' | 'maxMs' | 'callback' | 'diverged';

export interface AdamResult {
  /** The weights of the epoch with the lowest monitor loss. */
  W: Float64Array;
  A: Float64Array;
  epochs: number;
  /** The epoch whose weights are returned. */
  bestEpoch: number;
  /** Training time (ms), the caller's monitoring excluded. */
  ms: number;
  /** Monitor loss of the returned weights. */
  loss: number;
  stop: StopReason;
}

/**
 * Random start: W ~ N(0, 2/(d+k)), A ~ N(0, 2/(k+l)) (Glorot-normal, as Keras/TF.js dense
 * layers initialize), from `seed`.
 */
export function randomInit(d: number, k: number, l: number, seed: number): { W: Float64Array; A: Float64Array } {
  const rng = new Rng(seed, 7);
  const W = new Float64Array(k * d);
  const A = new Float64Array(l * k);
  const sw = Math.sqrt(2 / (d + k));
  const sa = Math.sqrt(2 / (k + l));
  for (let t = 0; t < W.length; t++) W[t] = sw * rng.normal();
  for (let t = 0; t < A.length; t++) A[t] = sa * rng.normal();
  return { W, A };
}

/** Trains on x (n×d) and y (n×l), row-major. */
export function trainAdam(x: Float64Array, y: Float64Array, n: number, d: number, l: number, options: AdamOptions): AdamResult {
  const k = options.k;
  const lr = options.lr ?? 0.003;
  const b1 = options.beta1 ?? 0.9;
  const b2 = options.beta2 ?? 0.999;
  const eps = options.eps ?? 1e-8;
  const batch = Math.max(1, Math.min(n, options.batchSize ?? 64));
  const maxEpochs = options.maxEpochs ?? 100_000;
  const maxMs = options.maxMs ?? 30_000;
  const window = options.window ?? 10;
  const plateauTol = options.plateauTol ?? 0.01;
  const lossFloor = options.lossFloor ?? 1e-14;
  const seed = options.seed ?? 1;
  const m = Math.max(1, Math.min(n, options.monitorRows ?? 4096));
  if (x.length < n * d || y.length < n * l) throw new RangeError('trainAdam: x or y is shorter than n rows');

  const start = options.init ?? randomInit(d, k, l, seed);
  const W = Float64Array.from(start.W);
  const A = Float64Array.from(start.A);
  const gW = new Float64Array(k * d);
  const gA = new Float64Array(l * k);
  const mW = new Float64Array(k * d);
  const vW = new Float64Array(k * d);
  const mA = new Float64Array(l * k);
  const vA = new Float64Array(l * k);
  const r = new Float64Array(k);
  const gr = new Float64Array(k);
  const perm = new Int32Array(n);
  for (let s = 0; s < n; s++) perm[s] = s;
  const rng = new Rng(seed, 8);

  let step = 0;
  let ms = 0;
  const history: number[] = [];
  let ySq = 0;
  for (let t = 0; t < m * l; t++) ySq += y[t] * y[t];
  const floor = (lossFloor * ySq) / (2 * m);
  const bestW = Float64Array.from(W);
  const bestA = Float64Array.from(A);
  let best = Infinity;
  let bestEpoch = 0;
  let stop: StopReason = 'maxEpochs';
  let epoch = 0;
  let loss = NaN;

  while (epoch < maxEpochs) {
    const t0 = performance.now();
    // Fisher–Yates shuffle.
    for (let s = n - 1; s > 0; s--) {
      const j = rng.int(s + 1);
      const t = perm[s];
      perm[s] = perm[j];
      perm[j] = t;
    }
    for (let b0 = 0; b0 < n; b0 += batch) {
      const b1e = Math.min(n, b0 + batch);
      gW.fill(0);
      gA.fill(0);
      for (let p = b0; p < b1e; p++) {
        const xo = perm[p] * d;
        const yo = perm[p] * l;
        // Forward: r = relu(W x).
        for (let i = 0; i < k; i++) {
          const wo = i * d;
          let z = 0;
          for (let j = 0; j < d; j++) z += W[wo + j] * x[xo + j];
          r[i] = z > 0 ? z : 0;
          gr[i] = 0;
        }
        // Residual e = A r − y; dA += e rᵀ; gr = Aᵀ e.
        for (let q = 0; q < l; q++) {
          const ao = q * k;
          let o = 0;
          for (let i = 0; i < k; i++) o += A[ao + i] * r[i];
          const eq = o - y[yo + q];
          for (let i = 0; i < k; i++) {
            gA[ao + i] += eq * r[i];
            gr[i] += A[ao + i] * eq;
          }
        }
        // dW += (gr ⊙ 1[z > 0]) xᵀ.
        for (let i = 0; i < k; i++) {
          if (r[i] <= 0) continue;
          const g = gr[i];
          const wo = i * d;
          for (let j = 0; j < d; j++) gW[wo + j] += g * x[xo + j];
        }
      }
      // Adam step on the batch-mean gradient.
      step++;
      const scale = 1 / (b1e - b0);
      const c1 = 1 / (1 - Math.pow(b1, step));
      const c2 = 1 / (1 - Math.pow(b2, step));
      adamUpdate(W, gW, mW, vW, scale, lr, b1, b2, eps, c1, c2);
      adamUpdate(A, gA, mA, vA, scale, lr, b1, b2, eps, c1, c2);
    }
    loss = monitorLoss(W, A, x, y, m, d, k, l, r);
    ms += performance.now() - t0;
    epoch++;
    if (loss < best) {
      best = loss;
      bestEpoch = epoch;
      bestW.set(W);
      bestA.set(A);
    }
    if (!Number.isFinite(loss)) {
      stop = 'diverged';
      break;
    }
    history.push(loss);
    if (options.onEpoch?.({ epoch, ms, loss, W, A })) {
      stop = 'callback';
      break;
    }
    if (loss < floor) {
      stop = 'converged';
      break;
    }
    if (history.length > window && loss > (1 - plateauTol) * history[history.length - 1 - window]) {
      stop = 'plateau';
      break;
    }
    if (ms >= maxMs) {
      stop = 'maxMs';
      break;
    }
  }
  return { W: bestW, A: bestA, epochs: epoch, bestEpoch, ms, loss: best, stop };
}

/** (1/2m) Σ_{s<m} ‖A·relu(W·x_s) − y_s‖² over the first m samples. */
function monitorLoss(W: Float64Array, A: Float64Array, x: Float64Array, y: Float64Array, m: number, d: number, k: number, l: number, r: Float64Array): number {
  let sum = 0;
  for (let s = 0; s < m; s++) {
    const xo = s * d;
    for (let i = 0; i < k; i++) {
      const wo = i * d;
      let z = 0;
      for (let j = 0; j < d; j++) z += W[wo + j] * x[xo + j];
      r[i] = z > 0 ? z : 0;
    }
    for (let q = 0; q < l; q++) {
      const ao = q * k;
      let o = 0;
      for (let i = 0; i < k; i++) o += A[ao + i] * r[i];
      const e = o - y[s * l + q];
      sum += e * e;
    }
  }
  return sum / (2 * m);
}

function adamUpdate(
  p: Float64Array,
  g: Float64Array,
  m: Float64Array,
  v: Float64Array,
  scale: number,
  lr: number,
  b1: number,
  b2: number,
  eps: number,
  c1: number,
  c2: number,
): void {
  for (let t = 0; t < p.length; t++) {
    const gt = g[t] * scale;
    const mt = b1 * m[t] + (1 - b1) * gt;
    const vt = b2 * v[t] + (1 - b2) * gt * gt;
    m[t] = mt;
    v[t] = vt;
    p[t] -= (lr * (mt * c1)) / (Math.sqrt(vt * c2) + eps);
  }
}
