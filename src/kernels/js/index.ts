/**
 * Pure-JS kernels: the bit-exact twin of the wasm kernels in assembly/ (one family per file:
 * gemm.ts, moments.ts, detector.ts, readout.ts, eig.ts). Tuned (4×4 register tiles, packed
 * panels, persistent scratch) but following the accumulation contract in ../types.ts exactly.
 */
import type { Kernels } from '../types.js';
import { checkDetector, checkMoments1, checkReadout, checkSymEig } from '../validate.js';
import { detector } from './detector.js';
import { symEig } from './eig.js';
import { moments1 } from './moments.js';
import { readout } from './readout.js';

export const jsKernels: Kernels = {
  name: 'js',
  moments1(sums, x, y, rows, d, l) {
    checkMoments1(sums, x, y, rows, d, l);
    moments1(sums, x, y, rows, d, l);
  },
  detector(T, plan, x, y, rows) {
    checkDetector(T, plan, x, y, rows);
    detector(T, plan, x, y, rows);
  },
  readout(sums, W, k, x, y, rows, d, l) {
    checkReadout(sums, W, k, x, y, rows, d, l);
    readout(sums, W, k, x, y, rows, d, l);
  },
  symEig(a, m) {
    checkSymEig(a, m);
    return symEig(a, m);
  },
};
