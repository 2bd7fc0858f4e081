/**
 * The detector's float32 GEMM in plain JS: the twin of assembly/gemm32.ts, under the same
 * contract (../types.ts, "Float32 batch sums"): operands are float64 values rounded to float32
 * (a Float32Array store rounds to nearest even, like f32x4.demote_f64x2_zero); per output,
 * s = fround(s + fround(a·b)) over the batch's rows in increasing order from +0, then
 * dst += s. Both fround steps give the float32 result exactly: a product of two float32
 * values is exact in float64 (48 ≤ 53 bits), and float64 holds ≥ 2·24 + 2 bits, so rounding
 * a float64 sum of two float32 values to float32 is the correctly rounded float32 sum.
 *
 * Operands here are 4-wide packed panels [c/4][r][4] (PANEL elements apart) for both A and B:
 * the order of operations per output is the wasm kernel's; only its panel widths differ.
 */
import { PANEL, writeRow } from './gemm.js';

/** dst (m×p, leading dimension ldd) += Σ_{r<nb} A[r][i]·B[r][j] in float32, one batch. */
export function gemmTNf32(dst: Float64Array, ldd: number, m: number, p: number, A: Float32Array, B: Float32Array, nb: number): void {
  const f = Math.fround;
  const mPanels = (m + 3) >> 2;
  const pPanels = (p + 3) >> 2;
  for (let ip = 0; ip < mPanels; ip++) {
    const i0 = ip << 2;
    for (let jp = 0; jp < pPanels; jp++) {
      const j0 = jp << 2;
      let ia = ip * PANEL;
      let ib = jp * PANEL;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
      let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
      let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let r = 0; r < nb; r++, ia += 4, ib += 4) {
        const b0 = B[ib], b1 = B[ib + 1], b2 = B[ib + 2], b3 = B[ib + 3];
        const x0 = A[ia], x1 = A[ia + 1], x2 = A[ia + 2], x3 = A[ia + 3];
        c00 = f(c00 + f(x0 * b0)); c01 = f(c01 + f(x0 * b1)); c02 = f(c02 + f(x0 * b2)); c03 = f(c03 + f(x0 * b3));
        c10 = f(c10 + f(x1 * b0)); c11 = f(c11 + f(x1 * b1)); c12 = f(c12 + f(x1 * b2)); c13 = f(c13 + f(x1 * b3));
        c20 = f(c20 + f(x2 * b0)); c21 = f(c21 + f(x2 * b1)); c22 = f(c22 + f(x2 * b2)); c23 = f(c23 + f(x2 * b3));
        c30 = f(c30 + f(x3 * b0)); c31 = f(c31 + f(x3 * b1)); c32 = f(c32 + f(x3 * b2)); c33 = f(c33 + f(x3 * b3));
      }
      writeRow(dst, ldd, m, p, i0, j0, c00, c01, c02, c03, false);
      writeRow(dst, ldd, m, p, i0 + 1, j0, c10, c11, c12, c13, false);
      writeRow(dst, ldd, m, p, i0 + 2, j0, c20, c21, c22, c23, false);
      writeRow(dst, ldd, m, p, i0 + 3, j0, c30, c31, c32, c33, false);
    }
  }
}

/** The first nb rows of every panel of a packed float64 operand with `cols` columns, rounded into dst. */
export function toF32Panels(dst: Float32Array, src: Float64Array, cols: number, nb: number): void {
  for (let o = 0; o < ((cols + 3) >> 2) * PANEL; o += PANEL) dst.set(src.subarray(o, o + 4 * nb), o);
}
