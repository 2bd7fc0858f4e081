/** Pass 1: second moments Σxxᵀ, Σyxᵀ, Σyyᵀ and first moments Σx, Σy (streaming, mergeable). */
import type { Kernels, Moments1Sums } from '../kernels/types.js';
import type { Chunk } from '../types.js';
import { RowScaler } from '../weights.js';

export class Moments1Accumulator {
  readonly d: number;
  readonly l: number;
  /** Samples added so far. */
  n = 0;
  /** Σρ over the samples added (= n when unweighted): the normalizer of every moment. */
  weight = 0;
  /** Σ x xᵀ, Σ y xᵀ, Σ y yᵀ, Σ x, Σ y — each term weighted by ρ when weights are given. */
  readonly sums: Moments1Sums;
  /** Throwaway first-moment sums for weighted chunks (the kernel sees √ρ-scaled rows). */
  private readonly scratch: { xs: Float64Array; ys: Float64Array };
  private readonly scaler: RowScaler;

  constructor(
    private readonly kernels: Kernels,
    d: number,
    l: number,
  ) {
    this.d = d;
    this.l = l;
    this.sums = {
      xx: new Float64Array(d * d),
      yx: new Float64Array(l * d),
      yy: new Float64Array(l * l),
      xs: new Float64Array(d),
      ys: new Float64Array(l),
    };
    this.scratch = { xs: new Float64Array(d), ys: new Float64Array(l) };
    this.scaler = new RowScaler(d, l);
  }

  /** Adds a chunk; with `rho`, sample r counts with weight rho[r] (see weights.ts). */
  add(chunk: Chunk, rho?: Float64Array): void {
    const { d, l } = this;
    if (!rho) {
      this.kernels.moments1(this.sums, chunk.x, chunk.y, chunk.rows, d, l);
      this.weight += chunk.rows;
    } else {
      // Second moments from √ρ-scaled rows; first moments weighted by ρ directly.
      const scaled = this.scaler.scale(chunk, rho, 0.5);
      this.kernels.moments1({ ...this.sums, ...this.scratch }, scaled.x, scaled.y, chunk.rows, d, l);
      const { xs, ys } = this.sums;
      for (let r = 0; r < chunk.rows; r++) {
        const w = rho[r];
        this.weight += w;
        for (let j = 0; j < d; j++) xs[j] += w * chunk.x[r * d + j];
        for (let j = 0; j < l; j++) ys[j] += w * chunk.y[r * l + j];
      }
    }
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
