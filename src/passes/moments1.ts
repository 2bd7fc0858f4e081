/** Pass 1: second moments Σxxᵀ, Σyxᵀ, Σyyᵀ and first moments Σx, Σy (streaming, mergeable). */
import type { Kernels, Moments1Sums } from '../kernels/types.js';
import type { Chunk } from '../types.js';

export class Moments1Accumulator {
  readonly d: number;
  readonly l: number;
  /** Samples added so far. */
  n = 0;
  readonly sums: Moments1Sums;

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
  }

  add(chunk: Chunk): void {
    this.kernels.moments1(this.sums, chunk.x, chunk.y, chunk.rows, this.d, this.l);
    this.n += chunk.rows;
  }

  /** Adds another accumulator's sums into this one (element by element, this + other). */
  merge(other: Moments1Accumulator): void {
    if (other.d !== this.d || other.l !== this.l) throw new RangeError(`cannot merge pass-1 sums of shape (${other.d}, ${other.l}) into (${this.d}, ${this.l})`);
    for (const key of ['xx', 'yx', 'yy', 'xs', 'ys'] as const) addInto(this.sums[key], other.sums[key]);
    this.n += other.n;
  }
}

export function addInto(dst: Float64Array, src: Float64Array): void {
  for (let i = 0; i < dst.length; i++) dst[i] += src[i];
}
