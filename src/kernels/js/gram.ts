/**
 * Kernels.gram in JS: each batch of rows packed into panels, then one upper-triangle gemmTN of
 * the panels with themselves — the steps the wasm glue runs with the module's packPanels and
 * gemmTN (kernels/wasm/kernels.ts), so the bits agree.
 */
import { BATCH_ROWS } from '../types.js';
import { PANEL, gemmTN, packPanels, pad4 } from './gemm.js';
import { scratch } from './scratch.js';

export function gram(G: Float64Array, a: Float64Array, rows: number, cols: number): void {
  const P = scratch('gram.p', (pad4(cols) >> 2) * PANEL);
  for (let r0 = 0; r0 < rows; r0 += BATCH_ROWS) {
    const nb = Math.min(rows - r0, BATCH_ROWS);
    packPanels(P, a, cols, r0, nb, cols);
    gemmTN(G, cols, cols, cols, P, 0, PANEL, 4, P, 0, PANEL, 4, nb, true);
  }
}
