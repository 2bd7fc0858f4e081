/**
 * Pass 3 in JS (twin of assembly/readout.ts): R = relu(X·Wᵀ), then RᵀR (upper) and RᵀY.
 * Weighted: Rw = ρ·R (row by row) is the left operand, RwᵀR and RwᵀY (Kernels.readout).
 */
import { BATCH_ROWS, type ReadoutSums } from '../types.js';
import { PANEL, gemmTN, packPanels, packWT, pad4, project, scalePanels } from './gemm.js';
import { scratch } from './scratch.js';

export function readout(
  sums: ReadoutSums, W: Float64Array, k: number, x: Float64Array, y: Float64Array, rows: number, d: number, l: number,
  rho: Float64Array | null,
): void {
  const kPad = pad4(k);
  const WT = packWT(W, k, d, scratch('ro.wt', kPad * d));
  // R row-major with leading dimension kPad: a panel layout with ps = 4, rs = kPad.
  const R = scratch('ro.r', BATCH_ROWS * kPad);
  const A = rho ? scratch('ro.rw', BATCH_ROWS * kPad) : R;
  const Yp = scratch('ro.y', (pad4(l) >> 2) * PANEL);
  for (let r0 = 0; r0 < rows; r0 += BATCH_ROWS) {
    const nb = Math.min(rows - r0, BATCH_ROWS);
    project(R, kPad, false, x, r0 * d, d, 1, nb, d, WT, k, true);
    packPanels(Yp, y, l, r0, nb, l);
    if (rho) scalePanels(A, R, k, 4, kPad, nb, rho, r0);
    gemmTN(sums.rr, k, k, k, A, 0, 4, kPad, R, 0, 4, kPad, nb, true);
    gemmTN(sums.ry, l, k, l, A, 0, 4, kPad, Yp, 0, PANEL, 4, nb, false);
  }
}
