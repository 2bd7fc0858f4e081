/**
 * Pass 2: the detector matrix T = Σ φ(h)·φ(q)ᵀ (see DetectorPlan in kernels/types.ts), each
 * half of the samples apart (the half-sample error estimate refits each half); and the rows of
 * the refinement's in-memory subsample (a fraction of the samples, chosen by row hash).
 *
 * State fields (h = 0, 1): T{h} mh×mz row-major (mh = triLen(hDim), mz = triLen(zDim)),
 * n{h} samples, w{h} Σρ; sample.x (ns×d) and sample.y (ns×l), the subsample's rows in data
 * order (merged by concatenation), and ns their count.
 */
import type { DetectorPlan } from '../kernels/types.js';
import { triLen } from '../math/symcoords.js';
import type { DetectorSums, Pass2Sums } from '../method/stages.js';
import { robustWeighting, weightSum, type Weighting } from '../method/weights.js';
import { halves, hashRows, subsample, type PassDef } from './pass.js';
import type { PassState } from './state.js';

export interface Pass2Params {
  plan: DetectorPlan;
  weighting?: Weighting;
  /** The fraction of the samples collected for the refinement (0: none). */
  sampleFraction: number;
}

/**
 * Pass 2's parameters under the refinement plan `refine` (method/refine.ts refinePlan): the
 * share of rows collected for the refinement's subsample, and the detector's GEMM in float32
 * whenever a refinement follows. Its end point, the all-sample optimum, does not depend on
 * the spectral start, so float32 rounding (~1e-7 of the batch sums, far below the detector's
 * sampling error) costs no accuracy while pass 2, the dominant cost, runs at twice the SIMD
 * width. A spectral estimate that is the answer keeps float64 (exact on exact data).
 */
export function pass2Params(plan: DetectorPlan, refine: { passes: number; sampleRows: number }, n: number): Pass2Params {
  const refines = refine.passes > 0;
  return { plan: { ...plan, float32: refines }, sampleFraction: refines ? Math.min(1, refine.sampleRows / n) : 0 };
}

export const pass2: PassDef<Pass2Params, Pass2Sums> = {
  run(kernels, { plan, weighting, sampleFraction }, chunk) {
    const rho = weighting ? robustWeighting(weighting, plan.d, chunk.rows) : undefined;
    const mn = triLen(plan.hDim) * triLen(plan.zDim);
    const sums: DetectorSums[] = [0, 1].map(() => ({ T: new Float64Array(mn), n: 0, weight: 0 }));
    // With weights the kernel scales its q-features by ρ (given, or computed from x).
    const hash = hashRows(chunk, plan.d, plan.l);
    halves(chunk, hash, rho, plan.d, plan.l, (h, part, w) => {
      kernels.detector(sums[h].T, plan, part.x, part.y, part.rows, w ?? null);
      sums[h].n += part.rows;
      sums[h].weight += weightSum(w, part.rows);
    });
    const out: PassState = {};
    sums.forEach((s, h) => Object.assign(out, { ['T' + h]: s.T, ['n' + h]: s.n, ['w' + h]: s.weight }));
    const sample = sampleFraction > 0 ? subsample(chunk, hash, plan.d, plan.l, sampleFraction) : undefined;
    out['sample.x'] = sample ? sample.x.slice() : new Float64Array(0);
    out['sample.y'] = sample ? sample.y.slice() : new Float64Array(0);
    out.ns = sample ? sample.rows : 0;
    return out;
  },

  read(state) {
    const half = (h: number): DetectorSums => ({ T: state['T' + h] as Float64Array, n: state['n' + h] as number, weight: state['w' + h] as number });
    const x = state['sample.x'] as Float64Array;
    const y = state['sample.y'] as Float64Array;
    return { halves: [half(0), half(1)], sample: { x, y, rows: state.ns as number } };
  },

  finite: [{ fields: ['T'], overflow: { what: "detector's fourth-order sums", scale: '1e75', fix: 'x and y' } }],
};
