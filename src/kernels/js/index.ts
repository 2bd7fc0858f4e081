/**
 * Pure-JS kernels: the bit-exact twin of the wasm kernels in assembly/ (one family per file:
 * gemm.ts, moments.ts, symmetry.ts, detector.ts, readout.ts, refine.ts, weights.ts, gram.ts, eig.ts,
 * cholesky.ts, polish.ts, eigNonsym.ts). Tuned (4×4 register tiles, packed panels, persistent
 * scratch) but following the accumulation contract in ../types.ts exactly.
 */
import type { Kernels, RowWeights } from '../types.js';
import {
  checkCholesky, checkDetector, checkEigNonsym, checkGram, checkMoments1, checkPolish, checkReadout, checkRefineGradient, checkRefineHessian, checkRefineVarPro, checkRobustWeights, checkSymEig, checkTriInverse,
} from '../validate.js';
import { cholesky, triInverse } from './cholesky.js';
import { detector } from './detector.js';
import { gram } from './gram.js';
import { symEig } from './eig.js';
import { eigNonsym } from './eigNonsym.js';
import { moments1 } from './moments.js';
import { detectorObjectives, polish } from './polish.js';
import { readout } from './readout.js';
import { refineGradient, refineHessian, refineVarPro } from './refine.js';
import { robustWeights } from './weights.js';
import { oddMoments } from './symmetry.js';

/**
 * The weights a kernel applies: a RobustWeighting is computed here, for all rows at once, into
 * its `out` (row by row as Kernels.robustWeights; the wasm backend does it per batch, the same
 * bits); an array is used as is.
 */
function rowWeights(rho: RowWeights | undefined, x: Float64Array, rows: number, d: number): Float64Array | null {
  if (!rho) return null;
  if (rho instanceof Float64Array) return rho;
  robustWeights(rho.out, x, rows, d, rho.invScale, rho.denom);
  return rho.out;
}

export const jsKernels: Kernels = {
  name: 'js',
  moments1(sums, x, y, rows, d, l, rho) {
    checkMoments1(sums, x, y, rows, d, l, rho);
    const w = rowWeights(rho, x, rows, d);
    moments1(sums, x, y, rows, d, l, w);
    if (sums.odd) oddMoments(sums.odd, x, rows, d, w);
  },
  detector(T, plan, x, y, rows, rho) {
    checkDetector(T, plan, x, y, rows, rho);
    detector(T, plan, x, y, rows, rowWeights(rho, x, rows, plan.d));
  },
  readout(sums, W, k, x, y, rows, d, l, rho) {
    checkReadout(sums, W, k, x, y, rows, d, l, rho);
    readout(sums, W, k, x, y, rows, d, l, rowWeights(rho, x, rows, d));
  },
  refineVarPro(sums, W, k, x, y, rows, d, l, rho) {
    checkRefineVarPro(sums, W, k, x, y, rows, d, l, rho);
    refineVarPro(sums, W, k, x, y, rows, d, l, rowWeights(rho, x, rows, d));
  },
  refineHessian(M, W, k, x, rows, d, rho) {
    checkRefineHessian(M, W, k, x, rows, d, rho);
    refineHessian(M, W, k, x, rows, d, rowWeights(rho, x, rows, d));
  },
  refineGradient(sums, W, A, k, x, y, rows, d, l) {
    checkRefineGradient(sums, W, A, k, x, y, rows, d, l);
    refineGradient(sums, W, A, k, x, y, rows, d, l);
  },
  robustWeights(out, x, rows, d, invScale, denom) {
    checkRobustWeights(out, x, rows, d, invScale, denom);
    robustWeights(out, x, rows, d, invScale, denom);
  },
  gram(G, a, rows, cols) {
    checkGram(G, a, rows, cols);
    gram(G, a, rows, cols);
  },
  detectorObjectives(G, k, U, count) {
    checkPolish(G, k, U, count);
    return detectorObjectives(G, k, U, count);
  },
  polish(G, k, U, count, maxIter) {
    checkPolish(G, k, U, count, maxIter);
    return polish(G, k, U, count, maxIter);
  },
  symEig(a, m) {
    checkSymEig(a, m);
    return symEig(a, m);
  },
  eigNonsym(a, n) {
    checkEigNonsym(a, n);
    return eigNonsym(a, n);
  },
  cholesky(a, p) {
    checkCholesky(a, p);
    return cholesky(a, p);
  },
  triInverse(L, p, out) {
    checkTriInverse(L, p, out);
    triInverse(L, p, out);
  },
};
