/** Pass 3 in JS (twin of assembly/readout.ts): R = relu(X·Wᵀ), then RᵀR (upper) and RᵀY. */
import { BATCH_ROWS, type ReadoutSums } from '../types.js';
import { PANEL, gemmTN, packPanels, packWT, pad4, project } from './gemm.js';
import { scratch } from './scratch.js';

export function readout(sums: ReadoutSums, W: Float64Array, k: number, x: Float64Array, y: Float64Array, rows: number, d: number, l: number): void {
  const kPad = pad4(k);
  const WT = packWT(W, k, d, scratch('ro.wt', kPad * d));
  // R row-major with leading dimension kPad: a panel layout with ps = 4, rs = kPad.
  const R = scratch('ro.r', BATCH_ROWS * kPad);
  const Yp = scratch('ro.y', (pad4(l) >> 2) * PANEL);
  for (let r0 = 0; r0 < rows; r0 += BATCH_ROWS) {
    const nb = Math.min(rows - r0, BATCH_ROWS);
    project(R, kPad, false, x, r0 * d, d, 1, nb, d, WT, k, true);
    packPanels(Yp, y, l, r0, nb, l);
    gemmTN(sums.rr, k, k, k, R, 0, 4, kPad, R, 0, 4, kPad, nb, true);
    gemmTN(sums.ry, l, k, l, R, 0, 4, kPad, Yp, 0, PANEL, 4, nb, false);
  }
}
