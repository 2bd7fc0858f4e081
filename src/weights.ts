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
 * The kernels need no weights argument: every pass-1 and pass-3 statistic is a product of two
 * factors homogeneous of degree 1 in (x, y) (relu is positively homogeneous), and every pass-2
 * feature is homogeneous of degree 2, so scaling a sample's x and y by ρ^{1/2} (passes 1, 3)
 * or ρ^{1/4} (pass 2) weights its contribution by exactly ρ.
 */
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

/** ρ for every row of the chunk. */
export function sampleWeights(w: Weighting, chunk: Chunk, d: number): Float64Array {
  const rho = new Float64Array(chunk.rows);
  const inv = Float64Array.from(w.scales, (s) => (s > 0 ? 1 / s : 0));
  const denom = 1 / (w.c * d);
  for (let r = 0; r < chunk.rows; r++) {
    let q = 0;
    for (let j = 0; j < d; j++) {
      const v = chunk.x[r * d + j] * inv[j];
      q += v * v;
    }
    const t = 1 + q * denom;
    rho[r] = 1 / (t * t);
  }
  return rho;
}

/**
 * Scales rows of chunks by ρ^power into buffers reused from call to call (a chunk returned by
 * `scale` is valid until the next call), so a pass allocates nothing per chunk.
 */
export class RowScaler {
  private xb = new Float64Array(0);
  private yb = new Float64Array(0);

  constructor(
    private readonly d: number,
    private readonly l: number,
  ) {}

  /** Row r of x and y multiplied by rho[r]^power (power 1/2 or 1/4). */
  scale(chunk: Chunk, rho: Float64Array, power: 0.5 | 0.25): Chunk {
    const { d, l } = this;
    const rows = chunk.rows;
    if (this.xb.length < rows * d) this.xb = new Float64Array(rows * d);
    if (this.yb.length < rows * l) this.yb = new Float64Array(rows * l);
    const x = this.xb.subarray(0, rows * d);
    const y = this.yb.subarray(0, rows * l);
    const cx = chunk.x;
    const cy = chunk.y;
    for (let r = 0; r < rows; r++) {
      const f = power === 0.5 ? Math.sqrt(rho[r]) : Math.sqrt(Math.sqrt(rho[r]));
      for (let j = r * d, e = j + d; j < e; j++) x[j] = cx[j] * f;
      for (let j = r * l, e = j + l; j < e; j++) y[j] = cy[j] * f;
    }
    return { x, y, rows };
  }
}
