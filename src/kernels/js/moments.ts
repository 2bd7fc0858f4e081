/** Pass 1 in JS (twin of assembly/moments.ts): per batch, pack x and y, then tiled GEMMs. */
import { BATCH_ROWS, type Moments1Sums } from '../types.js';
import { PANEL, colSum, gemmTN, packPanels, pad4 } from './gemm.js';
import { scratch } from './scratch.js';

export function moments1(sums: Moments1Sums, x: Float64Array, y: Float64Array, rows: number, d: number, l: number): void {
  const Xp = scratch('m1.x', (pad4(d) >> 2) * PANEL);
  const Yp = scratch('m1.y', (pad4(l) >> 2) * PANEL);
  for (let r0 = 0; r0 < rows; r0 += BATCH_ROWS) {
    const nb = Math.min(rows - r0, BATCH_ROWS);
    packPanels(Xp, x, d, r0, nb, d);
    packPanels(Yp, y, l, r0, nb, l);
    gemmTN(sums.xx, d, d, d, Xp, 0, PANEL, 4, Xp, 0, PANEL, 4, nb, true);
    gemmTN(sums.yx, d, l, d, Yp, 0, PANEL, 4, Xp, 0, PANEL, 4, nb, false);
    gemmTN(sums.yy, l, l, l, Yp, 0, PANEL, 4, Yp, 0, PANEL, 4, nb, true);
    colSum(sums.xs, 0, d, Xp, 0, PANEL, 4, nb);
    colSum(sums.ys, 0, l, Yp, 0, PANEL, 4, nb);
  }
}
