/**
 * Planted problems driven through the method's stages by hand (no learn(), no workers): the
 * pass sums come from one PASSES.passN.run over the whole data as one chunk, and the planted
 * network is mapped into the reduced, whitened coordinates the steps work in, so each step can
 * be checked against what it must return.
 *
 * Reduced coordinates (method/reduce.ts): h = Rx·x (k), z = Ry·y (k). With y = A·relu(W·x),
 *   W·x = W'·h with W' = W·Rx⁺ (k×k)   (the rows of W lie in the row space Rx spans),
 *   z = Ã·relu(W'·h) with Ã = Ry·A (k×k),
 * so u is a pure direction (uᵀz one neuron) exactly when Ãᵀu ∝ e_i: the pure directions are the
 * columns of Ã⁻ᵀ, and uᵀz = relu(w'_i·h) (coefficient +1) for the i-th column unnormalized.
 */
import { generate, type GenerateOptions } from '../../src/api/generate.js';
import { jsKernels } from '../../src/kernels/js/index.js';
import type { Kernels } from '../../src/kernels/types.js';
import { hungarian } from '../../src/math/hungarian.js';
import { matmul, normalizeRows, solve, transpose } from '../../src/math/linalg.js';
import { afterPass1, type FitOptions, type Stage1 } from '../../src/method/stages.js';
import { PASSES } from '../../src/passes/jobs.js';
import { mergeState, type PassState } from '../../src/passes/state.js';
import type { Chunk } from '../../src/types.js';

export const FIT: FitOptions = {
  k: 1,
  detector: 'even',
  whitenY: true,
  reduceX: true,
  polish: true,
  jennrichPairs: 8,
  seed: 1,
  weighting: 'none',
  robustScale: 1,
  errorEstimate: true,
  refine: 0,
  refineSamples: 100_000,
};

/** The data as chunks of at most `rows` samples (views). */
export function chunksOf(x: Float64Array, y: Float64Array, n: number, d: number, l: number, rows = n): Chunk[] {
  const out: Chunk[] = [];
  for (let s = 0; s < n; s += rows) {
    const e = Math.min(n, s + rows);
    out.push({ x: x.subarray(s * d, e * d), y: y.subarray(s * l, e * l), rows: e - s });
  }
  return out;
}

/** One pass over the chunks (run per chunk, states merged in order), read as typed sums. */
export function runPass<K extends keyof typeof PASSES>(kernels: Kernels, kind: K, params: Parameters<(typeof PASSES)[K]['run']>[1], chunks: Chunk[]): ReturnType<(typeof PASSES)[K]['read']> {
  let state: PassState | undefined;
  let start = 0;
  for (const c of chunks) {
    const s = (PASSES[kind].run as (k: Kernels, p: unknown, c: Chunk, st: number) => PassState)(kernels, params, c, start);
    if (state) mergeState(state, s);
    else state = s;
    start += c.rows;
  }
  return PASSES[kind].read(state!) as ReturnType<(typeof PASSES)[K]['read']>;
}

export interface Planted {
  d: number;
  k: number;
  l: number;
  n: number;
  x: Float64Array;
  y: Float64Array;
  /** Planted W (k×d) and A (l×k). */
  W: Float64Array;
  A: Float64Array;
  s1: Stage1;
  /** Detector sums over all samples (mh×mz) and their Σρ. */
  T: Float64Array;
  weight: number;
  /** Reduced truth: Ã = Ry·A (k×k), W' = W·Rx⁺ (k×k). */
  At: Float64Array;
  Wr: Float64Array;
  /** Planted pure directions: unit columns of Ã⁻ᵀ (k×k, column i ↔ unit i). */
  Ustar: Float64Array;
}

/** Runs pass 1, afterPass1 and pass 2 on data (x, y), and maps the truth into reduced coordinates. */
export function stagesOn(x: Float64Array, y: Float64Array, n: number, d: number, l: number, W: Float64Array, A: Float64Array, k: number, o: Partial<FitOptions> = {}, kernels: Kernels = jsKernels): Planted {
  const opts = { ...FIT, ...o, k };
  const chunks = chunksOf(x, y, n, d, l);
  const p1 = runPass(kernels, 'pass1', { d, l }, chunks);
  const s1 = afterPass1(kernels, p1, n, d, l, opts);
  const p2 = runPass(kernels, 'pass2', { plan: s1.red.plan, sampleFraction: 0 }, chunks);
  const [h0, h1] = p2.halves;
  const T = Float64Array.from(h0.T, (v, i) => v + h1.T[i]);
  const { Rx, Ry, hDim } = s1.red.plan;
  const At = matmul(Ry, A, k, l, k);
  // W' = W·Rxᵀ(Rx·Rxᵀ)⁻¹: W = W'·Rx on the data's span.
  const RxT = transpose(Rx, hDim, d);
  const Wr = transpose(solve(matmul(Rx, RxT, hDim, d, hDim), transpose(matmul(W, RxT, k, d, hDim), k, hDim), hDim, k), hDim, k);
  // Ã⁻ᵀ: solve Ãᵀ·X = I.
  const I = new Float64Array(k * k);
  for (let i = 0; i < k; i++) I[i * k + i] = 1;
  const Ustar = normalizeColumns(solve(transpose(At, k, k), I, k, k), k, k);
  return { d, k, l, n, x, y, W, A, s1, T, weight: h0.weight + h1.weight, At, Wr, Ustar };
}

/** A planted problem from generate() taken through pass 2 (see stagesOn). */
export function planted(g: GenerateOptions, o: Partial<FitOptions> = {}, kernels: Kernels = jsKernels): Planted {
  const data = generate(g);
  return stagesOn(data.x, data.y, data.n, g.d, g.l, data.truth.W, data.truth.A, g.k, o, kernels);
}

/** Divides every column of M (m×n) by its norm, in place. */
export function normalizeColumns(M: Float64Array, m: number, n: number): Float64Array {
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = 0; i < m; i++) s += M[i * n + j] ** 2;
    s = Math.sqrt(s);
    for (let i = 0; i < m; i++) M[i * n + j] /= s;
  }
  return M;
}

/** Column j of M (m×n). */
export function column(M: Float64Array, m: number, n: number, j: number): Float64Array {
  const v = new Float64Array(m);
  for (let i = 0; i < m; i++) v[i] = M[i * n + j];
  return v;
}

export const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
export const norm = (a: ArrayLike<number>): number => Math.sqrt(dot(a, a));

/**
 * Distance between two sets of k directions (columns of k×k matrices, normalized here) up to
 * sign and order: columns matched by a Hungarian assignment on −|cos|; per pair ‖u − ±v‖,
 * formed as a difference (not √(2 − 2|cos|), which loses half the digits). Returns the
 * per-planted-direction distances (in planted order) and their RMS.
 */
export function directionError(U: Float64Array, Ustar: Float64Array, k: number): { each: number[]; rms: number } {
  const cols = (M: Float64Array) => Array.from({ length: k }, (_, j) => {
    const v = column(M, k, k, j);
    const s = norm(v);
    return v.map((t) => t / s);
  });
  const a = cols(Ustar);
  const b = cols(U);
  const cost = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) cost[i * k + j] = -Math.abs(dot(a[i], b[j]));
  const perm = hungarian(cost, k, k);
  const each = perm.map((j, i) => {
    const s = Math.sign(dot(a[i], b[j])) || 1;
    return norm(a[i].map((t, c) => t - s * b[j][c]));
  });
  return { each, rms: Math.sqrt(each.reduce((s, e) => s + e * e, 0) / k) };
}

/** ‖Ŵ − W‖_F/√k with unit rows, rows matched by signed cosine (compare()'s wError for unit-row W). */
export function wError(What: Float64Array, W: Float64Array, k: number, d: number): number {
  const a = normalizeRows(Float64Array.from(What), k, d);
  const b = normalizeRows(Float64Array.from(W), k, d);
  const cost = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) cost[i * k + j] = -dot(a.subarray(i * d, i * d + d), b.subarray(j * d, j * d + d));
  const perm = hungarian(cost, k, k);
  let s = 0;
  for (let i = 0; i < k; i++) for (let t = 0; t < d; t++) s += (a[i * d + t] - b[perm[i] * d + t]) ** 2;
  return Math.sqrt(s / k);
}

export const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * The detector as the method defines it, computed here independently of nullspace.ts: T̂ = T/Σρ
 * (mh×mz) with ν = svec(I_hDim)/√hDim projected out of its columns (`project` false keeps it).
 */
export function projectedDetector(T: Float64Array, weight: number, hDim: number, mz: number, project = true): Float64Array {
  const mh = (hDim * (hDim + 1)) / 2;
  const Th = Float64Array.from(T, (v) => v / weight);
  if (!project) return Th;
  const nu = new Float64Array(mh);
  for (let i = 0, r = 0; i < hDim; i++) for (let j = i; j < hDim; j++, r++) if (i === j) nu[r] = 1 / Math.sqrt(hDim);
  for (let c = 0; c < mz; c++) {
    let s = 0;
    for (let r = 0; r < mh; r++) s += nu[r] * Th[r * mz + c];
    for (let r = 0; r < mh; r++) Th[r * mz + c] -= s * nu[r];
  }
  return Th;
}

/** M·v for M m×n. */
export function mulVec(M: Float64Array, v: ArrayLike<number>, m: number, n: number): Float64Array {
  const out = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += M[i * n + j] * v[j];
    out[i] = s;
  }
  return out;
}
