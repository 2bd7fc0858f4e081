/**
 * Robust sample weights that keep the input distribution symmetric.
 *
 * The method only needs p(x) = p(−x). Reweighting every expectation by an EVEN function ρ(x)
 * gives the measure p_ρ(x) ∝ ρ(x)·p(x), which is still symmetric, under which the model
 * y = A·relu(Wx) + ξ still holds with the same A, W and independent zero-mean noise. So every
 * moment identity of the method holds with E_ρ in place of E, and the learner is unchanged
 * except that sums are weighted and divided by Σρ instead of n.
 *
 * Why: pass 2 averages fourth-order products (x⊗x times y², y ~ |x|), whose variance is
 * infinite for tails as heavy as Student-t with 3 degrees of freedom. With
 *   ρ(x) = 1 / (1 + q(x) / (c·d))²,   q(x) = Σ_j (x_j / s_j)²
 * (s_j a per-coordinate scale from the first chunk, c the `robustScale` option) every weighted
 * product stays bounded, so the estimates have finite variance whatever the tails.
 *
 * The weights are applied inside the kernels (the `rho` argument of Kernels.moments1, detector
 * and readout: one factor of every per-sample product is multiplied by ρ), and ρ itself is
 * computed by Kernels.robustWeights, so no weighted copy of the data is ever made.
 */
import { jsKernels } from './kernels/js/index.js';
import type { Kernels } from './kernels/types.js';
import type { Chunk } from './types.js';

export interface Weighting {
  /** Per-coordinate scales s_j (d); 0 marks a constant-zero coordinate (ignored). */
  scales: Float64Array;
  /** The c in ρ(x) = 1/(1 + q(x)/(c·d))². */
  c: number;
}

/** Robust per-coordinate scale: RMS of each column over the rows of the first chunk. */
export function weightingFromChunk(chunk: Chunk, d: number, c: number): Weighting {
  const scales = new Float64Array(d);
  for (let r = 0; r < chunk.rows; r++) for (let j = 0; j < d; j++) scales[j] += chunk.x[r * d + j] ** 2;
  for (let j = 0; j < d; j++) scales[j] = Math.sqrt(scales[j] / chunk.rows);
  return { scales, c };
}

/**
 * ρ for every row of the chunk: Kernels.robustWeights with invScale_j = 1/s_j (0 for s_j = 0)
 * and denom = 1/(c·d). `kernels` only affects speed (both backends give the same bits); the
 * learner passes its own backend.
 */
export function sampleWeights(w: Weighting, chunk: Chunk, d: number, kernels: Kernels = jsKernels): Float64Array {
  const rho = new Float64Array(chunk.rows);
  const inv = Float64Array.from(w.scales, (s) => (s > 0 ? 1 / s : 0));
  kernels.robustWeights(rho, chunk.x, chunk.rows, d, inv, 1 / (w.c * d));
  return rho;
}
