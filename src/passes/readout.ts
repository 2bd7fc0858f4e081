/** Pass 3: normal equations of the least-squares fit of y on relu(Ŵx) (streaming, mergeable). */
import type { Kernels, ReadoutSums, RowWeights } from '../kernels/types.js';
import type { Chunk } from '../types.js';
import { addInto } from './moments1.js';
import { weightSum } from '../method/weights.js';

export class ReadoutAccumulator {
  n = 0;
  /** Σρ over the samples added (= n when unweighted). */
  weight = 0;
  readonly sums: ReadoutSums;

  constructor(
    private readonly kernels: Kernels,
    /** k×d row-major first-layer weights. */
    readonly W: Float64Array,
    readonly k: number,
    readonly d: number,
    readonly l: number,
  ) {
    this.sums = { rr: new Float64Array(k * k), ry: new Float64Array(k * l) };
  }

  /** Adds a chunk; with `rho`, sample r counts with weight ρ_r, given or computed by the kernel (which scales its relu features by ρ). */
  add(chunk: Chunk, rho?: RowWeights): void {
    this.kernels.readout(this.sums, this.W, this.k, chunk.x, chunk.y, chunk.rows, this.d, this.l, rho ?? null);
    this.n += chunk.rows;
    this.weight += weightSum(rho, chunk.rows);
  }

  merge(other: ReadoutAccumulator): void {
    addInto(this.sums.rr, other.sums.rr);
    addInto(this.sums.ry, other.sums.ry);
    this.n += other.n;
    this.weight += other.weight;
  }
}
