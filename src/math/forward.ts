/**
 * The network function y = A·relu(W·x), shared by Model.predict, compare() and generate().
 *
 * Summation order: each pre-activation over inputs j ascending, each output over hidden units i
 * ascending, from +0 — so generate()'s noiseless y equals Model.predict's output bit for bit.
 * The blocking (4 units × 2 samples share loads) only changes which sums run side by side, not
 * the order within a sum. Layouts: x n×d, W k×d, A l×k, y n×l, row-major.
 */
import type { Network, NumericArray } from '../types.js';

/** Outputs for n samples (x n×d row-major) as an n×l row-major array. */
export function forward(net: Network, x: NumericArray, n: number): Float64Array {
  const { d, k, l, W, A } = net;
  // Float32 inputs widened once (exactly), so the loops below stay monomorphic.
  const xs = x instanceof Float64Array ? x : Float64Array.from(x.subarray(0, n * d));
  const y = new Float64Array(n * l);
  forwardRows(W, transposeA(A, l, k), k, d, l, xs, y, n, forwardScratch(k));
  return y;
}

/** The scratch of forwardRows for k hidden units (one per caller; reused across calls). */
export function forwardScratch(k: number): { z0: Float64Array; z1: Float64Array; act: Active } {
  return { z0: new Float64Array(k), z1: new Float64Array(k), act: { offset: new Int32Array(k), value: new Float64Array(k) } };
}

/** y[0, rows·l) = A·relu(W·x) for rows [0, rows) of x, two rows at a time (At = Aᵀ, k×l). */
export function forwardRows(
  W: Float64Array, At: Float64Array, k: number, d: number, l: number, x: Float64Array, y: Float64Array, rows: number, { z0, z1, act }: ReturnType<typeof forwardScratch>,
): void {
  let r = 0;
  for (; r + 2 <= rows; r += 2) {
    preactivations2(W, k, d, x, r * d, (r + 1) * d, z0, z1);
    emit(At, k, l, z0, y, r * l, act);
    emit(At, k, l, z1, y, (r + 1) * l, act);
  }
  if (r < rows) {
    preactivations1(W, k, d, x, r * d, z0);
    emit(At, k, l, z0, y, r * l, act);
  }
}

/** Aᵀ (k×l row-major) of A (l×k), so that emit() updates y contiguously. */
export function transposeA(A: Float64Array, l: number, k: number): Float64Array {
  const At = new Float64Array(k * l);
  for (let p = 0; p < l; p++) for (let i = 0; i < k; i++) At[i * l + p] = A[p * k + i];
  return At;
}


/** z[i] = W_i·x for the sample at x[xo ..], i < k (W k×d row-major). */
export function preactivations1(W: Float64Array, k: number, d: number, x: Float64Array, xo: number, z: Float64Array): void {
  let i = 0;
  for (; i + 4 <= k; i += 4) {
    const w0 = i * d;
    const w1 = w0 + d;
    const w2 = w1 + d;
    const w3 = w2 + d;
    let v0 = 0;
    let v1 = 0;
    let v2 = 0;
    let v3 = 0;
    for (let j = 0; j < d; j++) {
      const xj = x[xo + j];
      v0 += W[w0 + j] * xj;
      v1 += W[w1 + j] * xj;
      v2 += W[w2 + j] * xj;
      v3 += W[w3 + j] * xj;
    }
    z[i] = v0;
    z[i + 1] = v1;
    z[i + 2] = v2;
    z[i + 3] = v3;
  }
  for (; i < k; i++) {
    const wo = i * d;
    let v = 0;
    for (let j = 0; j < d; j++) v += W[wo + j] * x[xo + j];
    z[i] = v;
  }
}

/** preactivations1 for two samples at once (at x[xa ..] into za, at x[xb ..] into zb). */
export function preactivations2(
  W: Float64Array,
  k: number,
  d: number,
  x: Float64Array,
  xa: number,
  xb: number,
  za: Float64Array,
  zb: Float64Array,
): void {
  let i = 0;
  for (; i + 4 <= k; i += 4) {
    const w0 = i * d;
    const w1 = w0 + d;
    const w2 = w1 + d;
    const w3 = w2 + d;
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    let b0 = 0;
    let b1 = 0;
    let b2 = 0;
    let b3 = 0;
    for (let j = 0; j < d; j++) {
      const xj = x[xa + j];
      const yj = x[xb + j];
      const c0 = W[w0 + j];
      const c1 = W[w1 + j];
      const c2 = W[w2 + j];
      const c3 = W[w3 + j];
      a0 += c0 * xj;
      a1 += c1 * xj;
      a2 += c2 * xj;
      a3 += c3 * xj;
      b0 += c0 * yj;
      b1 += c1 * yj;
      b2 += c2 * yj;
      b3 += c3 * yj;
    }
    za[i] = a0;
    za[i + 1] = a1;
    za[i + 2] = a2;
    za[i + 3] = a3;
    zb[i] = b0;
    zb[i + 1] = b1;
    zb[i + 2] = b2;
    zb[i + 3] = b3;
  }
  for (; i < k; i++) {
    const wo = i * d;
    let va = 0;
    let vb = 0;
    for (let j = 0; j < d; j++) {
      const c = W[wo + j];
      va += c * x[xa + j];
      vb += c * x[xb + j];
    }
    za[i] = va;
    zb[i] = vb;
  }
}

/** Scratch space for emit(): the active (relu > 0) units of one sample. */
export interface Active {
  /** i·l for each active unit i (its row offset in Aᵀ), ascending in i. */
  offset: Int32Array;
  /** relu(z_i) = z_i for each active unit. */
  value: Float64Array;
}

/**
 * y[yo + p] = Σ_i A[p][i]·relu(z[i]) with At = Aᵀ (k×l row-major). Inactive units (relu = 0) are
 * dropped first — adding an exact zero changes nothing but the sign of a zero — and four outputs
 * are accumulated in registers at a time (each over i ascending), so y is written once.
 */
export function emit(At: Float64Array, k: number, l: number, z: Float64Array, y: Float64Array, yo: number, act: Active): void {
  const { offset, value } = act;
  let m = 0;
  for (let i = 0; i < k; i++) {
    const zi = z[i];
    if (zi > 0) {
      offset[m] = i * l;
      value[m] = zi;
      m++;
    }
  }
  let p = 0;
  for (; p + 4 <= l; p += 4) {
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    for (let t = 0; t < m; t++) {
      const v = value[t];
      const o = offset[t] + p;
      a0 += At[o] * v;
      a1 += At[o + 1] * v;
      a2 += At[o + 2] * v;
      a3 += At[o + 3] * v;
    }
    y[yo + p] = a0;
    y[yo + p + 1] = a1;
    y[yo + p + 2] = a2;
    y[yo + p + 3] = a3;
  }
  for (; p < l; p++) {
    let a = 0;
    for (let t = 0; t < m; t++) a += At[offset[t] + p] * value[t];
    y[yo + p] = a;
  }
}

export function negate(z: Float64Array): void {
  for (let i = 0; i < z.length; i++) z[i] = -z[i];
}

