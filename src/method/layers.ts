/**
 * Steps 4 and 6 of the method (README, Method in brief): the first layer from the pure
 * directions, and the second layer by least squares from pass 3's normal equations.
 */
import { PureneuronError } from '../errors.js';
import { normalizeRows, solve, symmetrizeUpper, transpose } from '../math/linalg.js';
import type { DetectorPlan, ReadoutSums } from '../kernels/types.js';

/**
 * ŵ_i = sign(c_i)·Phᵀu_i in reduced coordinates (u_iᵀz = c_i·relu(w_i·h) + noise, and
 * sign(c_i) = sign(E[u_iᵀz]) because E[relu] > 0), mapped to x by w = Rxᵀw', unit norm.
 * U is k×k with the unit pure directions as columns. Returns W (k×d, row-major).
 */
export function firstLayer(U: Float64Array, plan: DetectorPlan, zMean: Float64Array, k: number): Float64Array {
  const { Ph, Rx, hDim, d } = plan;
  const W = new Float64Array(k * d);
  const wr = new Float64Array(hDim);
  for (let i = 0; i < k; i++) {
    const sgn = outputSign(U, i, zMean, k);
    wr.fill(0);
    for (let a = 0; a < k; a++) {
      const ua = U[a * k + i] * sgn;
      for (let j = 0; j < hDim; j++) wr[j] += ua * Ph[a * hDim + j];
    }
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let t = 0; t < hDim; t++) s += wr[t] * Rx[t * d + j];
      W[i * d + j] = s;
    }
  }
  return normalizeRows(W, k, d);
}

/** sign(c_i) of pure direction i (column i of U): the sign of E[u_iᵀz] (zMean = E[z]), as E[relu] > 0. */
export function outputSign(U: Float64Array, i: number, zMean: Float64Array, k: number): 1 | -1 {
  let c = 0;
  for (let a = 0; a < k; a++) c += U[a * k + i] * zMean[a];
  return c < 0 ? -1 : 1;
}

/** A = (Σ y rᵀ)(Σ r rᵀ)⁻¹ (l×k) from the normal-equation sums (rr k×k upper, ry k×l). */
export function secondLayer(sums: ReadoutSums, k: number, l: number): Float64Array {
  const rr = symmetrizeUpper(Float64Array.from(sums.rr), k);
  const fail = () =>
    new PureneuronError('NUMERICAL_FAILURE', 'the second-layer least squares is singular: some recovered unit is (almost) never active on the data');
  let X: Float64Array;
  try {
    X = solve(rr, sums.ry, k, l);
  } catch {
    throw fail();
  }
  if (!X.every(Number.isFinite)) throw fail();
  return transpose(X, k, l);
}
