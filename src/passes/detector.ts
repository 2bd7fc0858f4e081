/** Pass 2: the detector matrix T = Σ φ(h)·φ(q)ᵀ (see DetectorPlan), streaming and mergeable. */
import type { DetectorPlan, Kernels } from '../kernels/types.js';
import type { Chunk } from '../types.js';
import { triLen } from '../symcoords.js';
import { addInto } from './moments1.js';
import { RowScaler } from '../weights.js';

export class DetectorAccumulator {
  n = 0;
  /** Σρ over the samples added (= n when unweighted). */
  weight = 0;
  /** mh×mz row-major, mh = triLen(hDim), mz = triLen(zDim). */
  readonly T: Float64Array;
  readonly mh: number;
  readonly mz: number;
  private readonly scaler: RowScaler;

  constructor(
    private readonly kernels: Kernels,
    readonly plan: DetectorPlan,
  ) {
    this.mh = triLen(plan.hDim);
    this.mz = triLen(plan.zDim);
    this.T = new Float64Array(this.mh * this.mz);
    this.scaler = new RowScaler(plan.d, plan.l);
  }

  /** Adds a chunk; with `rho`, sample r counts with weight rho[r] (features are degree-2, so rows are scaled by ρ^{1/4}). */
  add(chunk: Chunk, rho?: Float64Array): void {
    const c = rho ? this.scaler.scale(chunk, rho, 0.25) : chunk;
    this.kernels.detector(this.T, this.plan, c.x, c.y, c.rows);
    this.n += chunk.rows;
    this.weight += rho ? sum(rho) : chunk.rows;
  }

  merge(other: DetectorAccumulator): void {
    if (other.mh !== this.mh || other.mz !== this.mz) throw new RangeError('cannot merge detector sums of different shapes');
    addInto(this.T, other.T);
    this.n += other.n;
    this.weight += other.weight;
  }
}

export function sum(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}
