/** Pass 1: second moments Σxxᵀ, Σyxᵀ, Σyyᵀ and first moments Σx, Σy (streaming, mergeable). */
import type { Kernels, Moments1Sums, RowWeights } from '../kernels/types.js';
import type { Chunk } from '../types.js';
import { weightSum } from '../method/weights.js';

export class Moments1Accumulator {
  readonly d: number;
  readonly l: number;
  /** Samples added so far. */
  n = 0;
  /** Σρ over the samples added (= n when unweighted): the normalizer of every moment. */
  weight = 0;
  /** Σ x xᵀ, Σ y xᵀ, Σ y yᵀ, Σ x, Σ y — each term weighted by ρ when weights are given. */
  readonly sums: Moments1Sums;

  /** `odd` (4d, optional): also accumulate the symmetry test's odd-moment sums there (Moments1Sums.odd; not merged by merge()). */
  constructor(
    private readonly kernels: Kernels,
    d: number,
    l: number,
    odd?: Float64Array,
  ) {
    this.d = d;
    this.l = l;
    this.sums = {
      xx: new Float64Array(d * d),
      yx: new Float64Array(l * d),
      yy: new Float64Array(l * l),
      xs: new Float64Array(d),
      ys: new Float64Array(l),
      odd,
    };
  }

  /** Adds a chunk; with `rho`, sample r counts with weight ρ_r (given, or computed by the kernel: see weights.ts). */
  add(chunk: Chunk, rho?: RowWeights): void {
    this.kernels.moments1(this.sums, chunk.x, chunk.y, chunk.rows, this.d, this.l, rho ?? null);
    this.weight += weightSum(rho, chunk.rows);
    this.n += chunk.rows;
  }

  /** Adds another accumulator's sums into this one (element by element, this + other). */
  merge(other: Moments1Accumulator): void {
    if (other.d !== this.d || other.l !== this.l) throw new RangeError(`cannot merge pass-1 sums of shape (${other.d}, ${other.l}) into (${this.d}, ${this.l})`);
    for (const key of ['xx', 'yx', 'yy', 'xs', 'ys'] as const) addInto(this.sums[key], other.sums[key]);
    this.n += other.n;
    this.weight += other.weight;
  }
}

export function addInto(dst: Float64Array, src: Float64Array): void {
  for (let i = 0; i < dst.length; i++) dst[i] += src[i];
}
