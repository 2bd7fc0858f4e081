/**
 * Pass 3: the normal equations of the least-squares fit of y on relu(Ŵx).
 *
 * State fields: rr k×k (upper triangle) Σρ r rᵀ, ry k×l Σρ r yᵀ, n samples, w Σρ.
 */
import type { ReadoutSums } from '../kernels/types.js';
import type { Pass3Sums } from '../method/stages.js';
import { robustWeighting, weightSum, type Weighting } from '../method/weights.js';
import type { PassDef } from './pass.js';

export interface Pass3Params {
  /** k×d row-major first layer. */
  W: Float64Array;
  k: number;
  d: number;
  l: number;
  weighting?: Weighting;
}

export const pass3: PassDef<Pass3Params, Pass3Sums> = {
  run(kernels, { W, k, d, l, weighting }, chunk) {
    const rho = weighting ? robustWeighting(weighting, d, chunk.rows) : undefined;
    const sums: ReadoutSums = { rr: new Float64Array(k * k), ry: new Float64Array(k * l) };
    // With weights the kernel scales its left relu features by ρ.
    kernels.readout(sums, W, k, chunk.x, chunk.y, chunk.rows, d, l, rho ?? null);
    return { rr: sums.rr, ry: sums.ry, n: chunk.rows, w: weightSum(rho, chunk.rows) };
  },

  read(state) {
    return { sums: { rr: state.rr as Float64Array, ry: state.ry as Float64Array }, n: state.n as number, weight: state.w as number };
  },

  finite: [{ fields: ['rr', 'ry'], overflow: { what: 'second-layer sums', scale: '1e150', fix: 'x and y' } }],
};
