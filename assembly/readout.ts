// Pass 3: normal equations of y on r = relu(W·x), one batch. Twin: src/kernels/js/readout.ts.
import { PANEL_BYTES, gemmTN, packPanels, project, scalePanels } from './gemm';

/**
 * Accumulate one batch of nb ≤ 256 rows: rr (k×k, upper only) += RᵀR, ry (k×l) += RᵀY, where
 * R[r][i] = relu(Σ_j W[i][j]·X[r][j]) (dot in increasing j from +0; relu(v) = v > 0 ? v : 0).
 * X: nb×d row-major, Y: nb×l row-major; WT = packWT(W) (ceil(k/4)·4·d doubles).
 * R: scratch, 256 × kPad doubles (kPad = 4·ceil(k/4)), written row-major with ld kPad;
 * Yp: scratch for Y's packed panels (ceil(l/4)·PANEL_BYTES bytes).
 * Weighted (rho ≠ 0, nb doubles): Rw = ρ·R (row r scaled by ρ_r; scratch the size of R) is the
 * LEFT operand: rr += RwᵀR, ry += RwᵀY.
 */
export function readoutBatch(
  rr: usize, ry: usize, X: usize, Y: usize, nb: i32, d: i32, l: i32, k: i32,
  WT: usize, R: usize, Yp: usize, rho: usize, Rw: usize,
): void {
  const kPad = (k + 3) & ~3;
  project(R, kPad, 0, X, <usize>d << 3, 8, nb, d, WT, k, 1);
  packPanels(Yp, Y, l, nb, l);
  // R row-major is a panel layout with panel stride 32 B and row stride kPad·8 B.
  const rs = <usize>kPad << 3;
  let A = R;
  if (rho != 0) {
    scalePanels(Rw, R, k, 32, rs, nb, rho);
    A = Rw;
  }
  gemmTN(rr, k, k, k, A, 32, rs, R, 32, rs, nb, 1);
  gemmTN(ry, l, k, l, A, 32, rs, Yp, PANEL_BYTES, 32, nb, 0);
}
