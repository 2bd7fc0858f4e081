/**
 * Pure-JS kernels: the bit-exact twin of the wasm kernels in assembly/ (one family per file:
 * gemm.ts, moments.ts, detector.ts, readout.ts, refine.ts, weights.ts, eig.ts, cholesky.ts). Tuned (4×4 register
 * tiles, packed panels, persistent scratch) but following the accumulation contract in
 * ../types.ts exactly.
 */
import type { Kernels } from '../types.js';
import {
  checkCholesky, checkDetector, checkMoments1, checkOddMoments, checkReadout, checkRefineHessian, checkRefineVarPro, checkRobustWeights, checkSymEig,
  checkTriInverse,
} from '../validate.js';
import { cholesky, triInverse } from './cholesky.js';
import { detector } from './detector.js';
import { symEig } from './eig.js';
import { moments1 } from './moments.js';
import { readout } from './readout.js';
import { refineHessian, refineVarPro } from './refine.js';
import { robustWeights } from './weights.js';
import { oddMoments } from './symmetry.js';

export const jsKernels: Kernels = {
  name: 'js',
  moments1(sums, x, y, rows, d, l, rho) {
    checkMoments1(sums, x, y, rows, d, l, rho);
    moments1(sums, x, y, rows, d, l, rho ?? null);
  },
  detector(T, plan, x, y, rows, rho) {
    checkDetector(T, plan, x, y, rows, rho);
    detector(T, plan, x, y, rows, rho ?? null);
  },
  readout(sums, W, k, x, y, rows, d, l, rho) {
    checkReadout(sums, W, k, x, y, rows, d, l, rho);
    readout(sums, W, k, x, y, rows, d, l, rho ?? null);
  },
  refineVarPro(sums, W, k, x, y, rows, d, l, rho) {
    checkRefineVarPro(sums, W, k, x, y, rows, d, l, rho);
    refineVarPro(sums, W, k, x, y, rows, d, l, rho ?? null);
  },
  refineHessian(M, W, k, x, rows, d, rho) {
    checkRefineHessian(M, W, k, x, rows, d, rho);
    refineHessian(M, W, k, x, rows, d, rho ?? null);
  },
  robustWeights(out, x, rows, d, invScale, denom) {
    checkRobustWeights(out, x, rows, d, invScale, denom);
    robustWeights(out, x, rows, d, invScale, denom);
  },
  oddMoments(out, x, rows, d, rho) {
    checkOddMoments(out, x, rows, d, rho);
    oddMoments(out, x, rows, d, rho ?? null);
  },
  symEig(a, m) {
    checkSymEig(a, m);
    return symEig(a, m);
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
