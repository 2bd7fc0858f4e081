/**
 * A refinement pass at a first layer W: the variable-projection sums over every sample read,
 * and over a subsample of them (a fraction of the rows, chosen by row hash: subsample() in
 * pass.ts) the pieces of the Gauss–Newton matrix with the variable-projection sums of those same
 * samples (the reduced matrix must not mix sample sets). See method/refine.ts for what is made
 * of them.
 *
 * State fields: S1 (k·d)×l, S2 (k·d)×k, rr k×k (upper triangle), ry k×l, yy Σρ‖y‖², w Σρ —
 * over all samples (Kernels.refineVarPro); the same six with suffix H over the subsample; M
 * triLen(k)×triLen(d) and wM its Σρ (Kernels.refineHessian).
 */
import type { Kernels, RowWeights, VarProSums } from '../kernels/types.js';
import { triLen } from '../math/symcoords.js';
import type { RefineSums, VarProPart } from '../method/refine.js';
import { robustWeighting, weightSum, type Weighting } from '../method/weights.js';
import type { Chunk } from '../types.js';
import { subsample, type PassDef } from './pass.js';
import type { PassState } from './state.js';

export interface RefineParams {
  /** k×d row-major first layer the sums are taken at. */
  W: Float64Array;
  k: number;
  d: number;
  l: number;
  weighting?: Weighting;
  /** The fraction of the samples the Gauss–Newton matrix is formed from (a subsample by row hash); 0 for none. */
  hessianFraction: number;
}

const emptyVarPro = (k: number, d: number, l: number): VarProPart => ({
  sums: { rr: new Float64Array(k * k), ry: new Float64Array(k * l), S1: new Float64Array(k * d * l), S2: new Float64Array(k * d * k), yy: new Float64Array(1) },
  weight: 0,
});

function addVarPro(kernels: Kernels, p: VarProPart, { W, k, d, l }: RefineParams, c: Chunk, rho: RowWeights | undefined): void {
  kernels.refineVarPro(p.sums, W, k, c.x, c.y, c.rows, d, l, rho ?? null);
  p.weight += weightSum(rho, c.rows);
}

const VARPRO = ['S1', 'S2', 'rr', 'ry'] as const;

function varProFields(p: VarProPart, suffix: string, out: PassState): void {
  for (const key of VARPRO) out[key + suffix] = p.sums[key];
  out['yy' + suffix] = p.sums.yy[0];
  out['w' + suffix] = p.weight;
}

function readVarPro(state: PassState, suffix: string): VarProPart {
  const sums = Object.fromEntries(VARPRO.map((key) => [key, state[key + suffix] as Float64Array])) as unknown as VarProSums;
  sums.yy = Float64Array.of(state['yy' + suffix] as number);
  return { sums, weight: state['w' + suffix] as number };
}

export const refinePass: PassDef<RefineParams, RefineSums> = {
  run(kernels, p, chunk) {
    const { W, k, d, l, weighting, hessianFraction } = p;
    const rho = weighting ? robustWeighting(weighting, d, chunk.rows) : undefined;
    const all = emptyVarPro(k, d, l);
    const head = emptyVarPro(k, d, l);
    const M = new Float64Array(triLen(k) * triLen(d));
    let wM = 0;
    addVarPro(kernels, all, p, chunk, rho);
    // The subsample's rows, with the weights the first call computed.
    const sel = hessianFraction > 0 ? subsample(chunk, rho?.out, d, l, hessianFraction) : undefined;
    if (sel) {
      const { part } = sel;
      kernels.refineHessian(M, W, k, part.x, part.rows, d, sel.rho ?? null);
      wM += weightSum(sel.rho, part.rows);
      addVarPro(kernels, head, p, part, sel.rho);
    }
    const out: PassState = {};
    varProFields(all, '', out);
    Object.assign(out, { M, wM });
    varProFields(head, 'H', out);
    return out;
  },

  read(state) {
    return { all: readVarPro(state, ''), head: readVarPro(state, 'H'), M: state.M as Float64Array, wM: state.wM as number };
  },

  // learn() checks the refinement's sums through its loss instead: a non-finite loss is a failed step.
  finite: [],
};
