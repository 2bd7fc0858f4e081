/** Pass 2: the detector matrix T = Σ φ(h)·φ(q)ᵀ (see DetectorPlan), streaming and mergeable. */
import type { DetectorPlan, Kernels, RowWeights } from '../kernels/types.js';
import type { Chunk } from '../types.js';
import { triLen } from '../math/symcoords.js';
import { addInto } from './moments1.js';
import { weightSum } from '../method/weights.js';

export class DetectorAccumulator {
  n = 0;
  /** Σρ over the samples added (= n when unweighted). */
  weight = 0;
  /** mh×mz row-major, mh = triLen(hDim), mz = triLen(zDim). */
  readonly T: Float64Array;
  readonly mh: number;
  readonly mz: number;

  constructor(
    private readonly kernels: Kernels,
    readonly plan: DetectorPlan,
  ) {
    this.mh = triLen(plan.hDim);
    this.mz = triLen(plan.zDim);
    this.T = new Float64Array(this.mh * this.mz);
  }

  /** Adds a chunk; with `rho`, sample r counts with weight ρ_r, given or computed by the kernel (which scales its q-features by ρ). */
  add(chunk: Chunk, rho?: RowWeights): void {
    this.kernels.detector(this.T, this.plan, chunk.x, chunk.y, chunk.rows, rho ?? null);
    this.n += chunk.rows;
    this.weight += weightSum(rho, chunk.rows);
  }

  merge(other: DetectorAccumulator): void {
    if (other.mh !== this.mh || other.mz !== this.mz) throw new RangeError('cannot merge detector sums of different shapes');
    addInto(this.T, other.T);
    this.n += other.n;
    this.weight += other.weight;
  }
}
