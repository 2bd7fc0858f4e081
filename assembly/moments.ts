// Pass 1: second moments of one batch (≤ BATCH rows). Twin: src/kernels/js/moments.ts.
import { PANEL_BYTES, colSum, gemmTN, packPanels, scalePanels } from './gemm';
import { oddMomentsBatch } from './symmetry';

/**
 * Accumulate one batch of nb ≤ 256 rows:
 *   xx (d×d, upper j ≥ i only) += XᵀX,  yx (l×d) += YᵀX,  yy (l×l, upper) += YᵀY,
 *   xs (d) += Σ x,  ys (l) += Σ y.
 * X: nb×d row-major, Y: nb×l row-major (raw batch copied in by the glue).
 * Xp, Yp: scratch for the packed panels, ceil(d/4)·PANEL_BYTES and ceil(l/4)·PANEL_BYTES bytes.
 * Symmetric outputs compute only the tiles on or above the diagonal (gemmTN upper = 1).
 * Weighted (rho ≠ 0, nb doubles): Xw = ρ·X and Yw = ρ·Y (row r scaled by ρ_r, scratch of the
 * sizes of Xp and Yp) become the LEFT operand of every product and the column-sum operand:
 *   xx += XwᵀX, yx += YwᵀX, yy += YwᵀY, xs += Σ xw, ys += Σ yw.
 * odd ≠ 0 (4d doubles): also the symmetry test's odd-moment sums of X (oddMomentsBatch, with
 * the same weights), read from the batch already in memory.
 */
export function moments1Batch(
  xx: usize, yx: usize, yy: usize, xs: usize, ys: usize,
  X: usize, Y: usize, nb: i32, d: i32, l: i32, Xp: usize, Yp: usize,
  rho: usize, Xw: usize, Yw: usize, odd: usize,
): void {
  if (odd != 0) oddMomentsBatch(odd, X, nb, d, rho);
  packPanels(Xp, X, d, nb, d);
  packPanels(Yp, Y, l, nb, l);
  if (rho == 0) {
    gemmTN(xx, d, d, d, Xp, PANEL_BYTES, 32, Xp, PANEL_BYTES, 32, nb, 1);
    gemmTN(yx, d, l, d, Yp, PANEL_BYTES, 32, Xp, PANEL_BYTES, 32, nb, 0);
    gemmTN(yy, l, l, l, Yp, PANEL_BYTES, 32, Yp, PANEL_BYTES, 32, nb, 1);
    colSum(xs, d, Xp, PANEL_BYTES, 32, nb);
    colSum(ys, l, Yp, PANEL_BYTES, 32, nb);
    return;
  }
  scalePanels(Xw, Xp, d, PANEL_BYTES, 32, nb, rho);
  scalePanels(Yw, Yp, l, PANEL_BYTES, 32, nb, rho);
  gemmTN(xx, d, d, d, Xw, PANEL_BYTES, 32, Xp, PANEL_BYTES, 32, nb, 1);
  gemmTN(yx, d, l, d, Yw, PANEL_BYTES, 32, Xp, PANEL_BYTES, 32, nb, 0);
  gemmTN(yy, l, l, l, Yw, PANEL_BYTES, 32, Yp, PANEL_BYTES, 32, nb, 1);
  colSum(xs, d, Xw, PANEL_BYTES, 32, nb);
  colSum(ys, l, Yw, PANEL_BYTES, 32, nb);
}
