/**
 * The refinement's pass over its in-memory subsample at a first layer W: the
 * variable-projection sums (Kernels.refineVarPro) and, for the matrix, the pieces M of the
 * Gauss–Newton matrix (Kernels.refineHessian) over the same rows. See method/refine.ts
 * (sampleMatrix, allSampleStep) for what is made of them.
 *
 * State fields: S1 (k·d)×l, S2 (k·d)×k, rr k×k (upper triangle), ry k×l, yy Σρ‖y‖², w Σρ, and
 * M triLen(k)×triLen(d).
 */
import type { VarProSums } from '../kernels/types.js';
import { triLen } from '../math/symcoords.js';
import type { RefineSums } from '../method/refine.js';
import { robustWeighting, weightSum, type Weighting } from '../method/weights.js';
import type { PassDef } from './pass.js';

export interface RefineParams {
  /** k×d row-major first layer the sums are taken at. */
  W: Float64Array;
  k: number;
  d: number;
  l: number;
  weighting?: Weighting;
  /** Also the pieces M of the Gauss–Newton matrix (false: the variable-projection sums alone; M is then empty). */
  hessian: boolean;
}

const VARPRO = ['S1', 'S2', 'rr', 'ry'] as const;

export const refinePass: PassDef<RefineParams, RefineSums> = {
  run(kernels, { W, k, d, l, weighting, hessian }, chunk) {
    const rho = weighting ? robustWeighting(weighting, d, chunk.rows) : undefined;
    const sums: VarProSums = { rr: new Float64Array(k * k), ry: new Float64Array(k * l), S1: new Float64Array(k * d * l), S2: new Float64Array(k * d * k), yy: new Float64Array(1) };
    const M = new Float64Array(hessian ? triLen(k) * triLen(d) : 0);
    // The first call computes the robust weights into rho.out; the second reads them from there.
    kernels.refineVarPro(sums, W, k, chunk.x, chunk.y, chunk.rows, d, l, rho ?? null);
    if (hessian) kernels.refineHessian(M, W, k, chunk.x, chunk.rows, d, rho?.out ?? null);
    const out: Record<string, Float64Array | number> = { yy: sums.yy[0], w: weightSum(rho, chunk.rows), M };
    for (const key of VARPRO) out[key] = sums[key];
    return out;
  },

  read(state) {
    const sums = Object.fromEntries(VARPRO.map((key) => [key, state[key] as Float64Array])) as unknown as VarProSums;
    sums.yy = Float64Array.of(state.yy as number);
    return { part: { sums, weight: state.w as number }, M: state.M as Float64Array };
  },

  // learn() checks the refinement's sums through its loss instead: a non-finite loss is a failed step.
  finite: [],
};
