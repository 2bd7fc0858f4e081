/**
 * The refinement's passes over all the samples at a point (A, W): the sums of
 * Kernels.refineGradient — the A normal equations, the W-gradient and the loss — from which
 * method/refine.ts takes a Newton step. When the learner refines, its last such pass is pass 3:
 * the normal equations give the final A as the plain readout would.
 *
 * State fields: rr k×k (upper triangle) Σ r rᵀ, ry k×l Σ r yᵀ, gW k×d Σ (m∘Aᵀe) xᵀ, ee Σ‖e‖²,
 * yy Σ‖y‖², n samples. Unweighted: the refinement minimizes the plain squared loss.
 */
import type { GradientSums } from '../kernels/types.js';
import type { GradientPassSums } from '../method/refine.js';
import type { PassDef } from './pass.js';

export interface GradientParams {
  /** k×d row-major first layer. */
  W: Float64Array;
  /** l×k row-major second layer. */
  A: Float64Array;
  k: number;
  d: number;
  l: number;
}

export const gradientPass: PassDef<GradientParams, GradientPassSums> = {
  run(kernels, { W, A, k, d, l }, chunk) {
    const sums: GradientSums = { rr: new Float64Array(k * k), ry: new Float64Array(k * l), gW: new Float64Array(k * d), ee: new Float64Array(1), yy: new Float64Array(1) };
    kernels.refineGradient(sums, W, A, k, chunk.x, chunk.y, chunk.rows, d, l);
    return { rr: sums.rr, ry: sums.ry, gW: sums.gW, ee: sums.ee[0], yy: sums.yy[0], n: chunk.rows };
  },

  read(state) {
    const sums = { rr: state.rr, ry: state.ry, gW: state.gW, ee: Float64Array.of(state.ee as number), yy: Float64Array.of(state.yy as number) } as GradientSums;
    return { sums, n: state.n as number };
  },

  finite: [{ fields: ['rr', 'ry', 'gW', 'ee', 'yy'], overflow: { what: 'refinement sums', scale: '1e150', fix: 'x and y' } }],
};
