/**
 * Pass 1 in JS (twin of assembly/moments.ts): per batch, pack x and y, then tiled GEMMs.
 * Weighted: the packed panels scaled row by row (Xw = ρ·X, Yw = ρ·Y) are the left operand of
 * every product and the operand of the column sums (Kernels.moments1 in ../types.ts).
 */
import { BATCH_ROWS, type Moments1Sums } from '../types.js';
import { PANEL, colSum, gemmTN, packPanels, pad4, scalePanels } from './gemm.js';
import { scratch } from './scratch.js';

export function moments1(
  sums: Moments1Sums, x: Float64Array, y: Float64Array, rows: number, d: number, l: number, rho: Float64Array | null,
): void {
  const Xp = scratch('m1.x', (pad4(d) >> 2) * PANEL);
  const Yp = scratch('m1.y', (pad4(l) >> 2) * PANEL);
  const Xw = rho ? scratch('m1.xw', (pad4(d) >> 2) * PANEL) : Xp;
  const Yw = rho ? scratch('m1.yw', (pad4(l) >> 2) * PANEL) : Yp;
  for (let r0 = 0; r0 < rows; r0 += BATCH_ROWS) {
    const nb = Math.min(rows - r0, BATCH_ROWS);
    packPanels(Xp, x, d, r0, nb, d);
    packPanels(Yp, y, l, r0, nb, l);
    if (rho) {
      scalePanels(Xw, Xp, d, PANEL, 4, nb, rho, r0);
      scalePanels(Yw, Yp, l, PANEL, 4, nb, rho, r0);
    }
    gemmTN(sums.xx, d, d, d, Xw, 0, PANEL, 4, Xp, 0, PANEL, 4, nb, true);
    gemmTN(sums.yx, d, l, d, Yw, 0, PANEL, 4, Xp, 0, PANEL, 4, nb, false);
    gemmTN(sums.yy, l, l, l, Yw, 0, PANEL, 4, Yp, 0, PANEL, 4, nb, true);
    colSum(sums.xs, 0, d, Xw, 0, PANEL, 4, nb);
    colSum(sums.ys, 0, l, Yw, 0, PANEL, 4, nb);
  }
}
