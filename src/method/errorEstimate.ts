/**
 * The error estimate (README, Diagnostics): a data-driven estimate of the error of Ŵ, from two
 * half-sample estimates.
 *
 * Passes 1 and 2 accumulate their sums separately over two halves of the samples (by a row hash
 * that keeps x and −x together: passes/pass.ts halves()) at no extra cost; the full sums are
 * their sum. Each half's
 * detector is taken through the null space and extraction on its own, and combined with that
 * half's own linear part (halfFirstLayer), giving Ŵ_a and Ŵ_b. (The reduction to k dimensions
 * is shared: its effect on the detector is second order.) When the error is dominated by sampling variance (∝ 1/√n), each half-sample
 * estimate errs by √2 times the full-sample one, independently, so ‖Ŵ_a − Ŵ_b‖ ≈ 2·(full
 * error): the estimate reported is half their distance (the same measure as compare()'s
 * wError). It does not see bias (asymmetric inputs, wrong k).
 */
import { matchUnitRows } from '../math/hungarian.js';
import type { Moments1Sums } from '../kernels/types.js';
import { outputSign } from './layers.js';
import { matmul, normalizeRows, solve, svd, symmetrizeUpper, transpose } from '../math/linalg.js';
import type { LinearPart } from './reduce.js';

/** ‖Ŵ₁ − Ŵ₂‖_F / √k with unit rows, after matching rows by a Hungarian assignment on cosine. */
export function weightDistance(W1: Float64Array, W2: Float64Array, k: number, d: number): number {
  const { cost, permutation: perm } = matchUnitRows(W1, W2, k, d);
  let s = 0;
  for (let i = 0; i < k; i++) s += 2 + 2 * cost[i * k + perm[i]]; // ‖a − b‖² = 2 − 2cos for unit rows
  return Math.sqrt(Math.max(s, 0) / k);
}

/** Samples needed for an error of `target`, extrapolating error ∝ 1/√n from (n, error). */
export function samplesFor(target: number, n: number, error: number): number {
  return Math.ceil(n * (error / target) ** 2);
}

/**
 * The first layer a half of the samples gives: rows ∝ sign_i·(Ryᵀu_i)ᵀ·P_h, where u_i are that
 * half's pure directions (columns of U, reduced z coordinates), Ryᵀu_i the same direction in y,
 * and P_h the half's own linear part 2·E_h[yxᵀ]·E_h[xxᵀ]⁻¹ on the whitened range of x,
 * truncated to its top-k singular subspace as the full pipeline does. The linear part carries
 * most of the sampling error of Ŵ, so it must come from the half too.
 */
export function halfFirstLayer(sums: Moments1Sums, weight: number, lp: LinearPart, Ry: Float64Array, U: Float64Array, zMean: Float64Array, k: number): Float64Array {
  const { d, l, Mx, r } = lp;
  const inv = 1 / weight;
  const Cxx = symmetrizeUpper(Float64Array.from(sums.xx, (v) => v * inv), d);
  const Cyx = Float64Array.from(sums.yx, (v) => v * inv);
  const MxT = transpose(Mx, r, d);
  const Ct = matmul(matmul(Mx, Cxx, r, d, d), MxT, r, d, r); // ≈ I (r×r)
  const B = matmul(Cyx, MxT, l, d, r); // E_h[y x̃ᵀ] (l×r)
  const X = solve(Ct, transpose(B, l, r), r, l); // C̃⁻¹Bᵀ (r×l)
  const Pt = transpose(X, r, l);
  for (let i = 0; i < Pt.length; i++) Pt[i] *= 2;
  // Top-k truncation: P̃_k = U_k S_k V_kᵀ, then back to x: P_h = P̃_k·Mx (l×d).
  const dec = svd(Pt, l, r);
  const Pk = new Float64Array(l * r);
  for (let a = 0; a < l; a++)
    for (let b = 0; b < r; b++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += dec.U[a * dec.r + t] * dec.s[t] * dec.V[b * dec.r + t];
      Pk[a * r + b] = s;
    }
  const P = matmul(Pk, Mx, l, r, d);
  const W = new Float64Array(k * d);
  const v = new Float64Array(l); // Ryᵀu_i: the direction in y, formed once per unit
  for (let i = 0; i < k; i++) {
    const sgn = outputSign(U, i, zMean, k);
    for (let o = 0; o < l; o++) {
      let t = 0;
      for (let a = 0; a < k; a++) t += Ry[a * l + o] * U[a * k + i];
      v[o] = t;
    }
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let o = 0; o < l; o++) s += v[o] * P[o * d + j];
      W[i * d + j] = sgn * s;
    }
  }
  return normalizeRows(W, k, d);
}
