/** Weights of the two layers from the pure directions (step 7) and the readout sums (step 8). */
import { PureneuronError } from './errors.js';
import { solve, symmetrizeUpper, transpose } from './linalg.js';
import type { ReadoutAccumulator } from './passes/readout.js';
import type { DetectorPlan } from './kernels/types.js';

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
    let c = 0;
    for (let a = 0; a < k; a++) c += U[a * k + i] * zMean[a];
    const sgn = c < 0 ? -1 : 1;
    wr.fill(0);
    for (let a = 0; a < k; a++) {
      const ua = U[a * k + i] * sgn;
      for (let j = 0; j < hDim; j++) wr[j] += ua * Ph[a * hDim + j];
    }
    let nrm = 0;
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let t = 0; t < hDim; t++) s += wr[t] * Rx[t * d + j];
      W[i * d + j] = s;
      nrm += s * s;
    }
    nrm = Math.sqrt(nrm);
    for (let j = 0; j < d; j++) W[i * d + j] /= nrm;
  }
  return W;
}

/** A = (Σ y rᵀ)(Σ r rᵀ)⁻¹ (l×k) from the pass-3 sums. */
export function secondLayer(ro: ReadoutAccumulator, k: number, l: number): Float64Array {
  const rr = symmetrizeUpper(Float64Array.from(ro.sums.rr), k);
  const fail = () =>
    new PureneuronError('NUMERICAL_FAILURE', 'the second-layer least squares is singular: some recovered unit is (almost) never active on the data');
  let X: Float64Array;
  try {
    X = solve(rr, ro.sums.ry, k, l);
  } catch {
    throw fail();
  }
  if (!X.every(Number.isFinite)) throw fail();
  return transpose(X, k, l);
}
