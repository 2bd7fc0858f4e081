/**
 * Packed, register-tiled GEMM and projections in plain JS: the twin of assembly/gemm.ts.
 *
 * Every output element is summed exactly as the accumulation contract (../types.ts) says:
 * over the rows of one batch, in increasing row order, into a scalar starting at +0, one
 * IEEE multiply then one add per row (JS never fuses), then added to the destination once.
 * A wasm f64x2 lane performs the same operations on the same values, so results are bitwise
 * identical. Tiling, packing and loop order only change *when* each output is computed.
 *
 * Panel layout (offsets in elements): column c of row r of an operand lives at
 *   base + (c >> 2)·ps + r·rs + (c & 3)
 * packed panels [c/4][r][4]: rs = 4, ps = PANEL (= BATCH_ROWS·4); row-major with leading
 * dimension ld (a multiple of 4): rs = ld, ps = 4. Padding columns (c ≥ cols in the last
 * panel) must be finite-or-not-read: they only feed outputs that are never written.
 */
import { BATCH_ROWS } from '../types.js';

/** Elements between consecutive packed panels of one batch. */
export const PANEL = BATCH_ROWS * 4;

/** 4·ceil(n/4). */
export function pad4(n: number): number {
  return (n + 3) & ~3;
}

/**
 * dst (m×p, leading dimension ldd, from offset 0) += Σ_{r<nb} A[r][i]·B[r][j] for one batch.
 * upper: only tiles with jTile ≥ iTile are computed and only j ≥ i is written.
 * 4×4 output tiles in 16 scalar accumulators (the wasm kernel holds them in 8 f64x2).
 */
export function gemmTN(
  dst: Float64Array, ldd: number, m: number, p: number,
  A: Float64Array, aOff: number, aPs: number, aRs: number,
  B: Float64Array, bOff: number, bPs: number, bRs: number,
  nb: number, upper: boolean,
): void {
  const mPanels = (m + 3) >> 2;
  const pPanels = (p + 3) >> 2;
  for (let ip = 0; ip < mPanels; ip++) {
    const i0 = ip << 2;
    const a0 = aOff + ip * aPs;
    for (let jp = upper ? ip : 0; jp < pPanels; jp++) {
      const j0 = jp << 2;
      let ia = a0;
      let ib = bOff + jp * bPs;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
      let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
      let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let r = 0; r < nb; r++) {
        const b0 = B[ib], b1 = B[ib + 1], b2 = B[ib + 2], b3 = B[ib + 3];
        const x0 = A[ia], x1 = A[ia + 1], x2 = A[ia + 2], x3 = A[ia + 3];
        c00 += x0 * b0; c01 += x0 * b1; c02 += x0 * b2; c03 += x0 * b3;
        c10 += x1 * b0; c11 += x1 * b1; c12 += x1 * b2; c13 += x1 * b3;
        c20 += x2 * b0; c21 += x2 * b1; c22 += x2 * b2; c23 += x2 * b3;
        c30 += x3 * b0; c31 += x3 * b1; c32 += x3 * b2; c33 += x3 * b3;
        ia += aRs;
        ib += bRs;
      }
      if (i0 + 4 <= m && j0 + 4 <= p && (!upper || j0 > i0)) {
        let q = i0 * ldd + j0;
        dst[q] += c00; dst[q + 1] += c01; dst[q + 2] += c02; dst[q + 3] += c03; q += ldd;
        dst[q] += c10; dst[q + 1] += c11; dst[q + 2] += c12; dst[q + 3] += c13; q += ldd;
        dst[q] += c20; dst[q + 1] += c21; dst[q + 2] += c22; dst[q + 3] += c23; q += ldd;
        dst[q] += c30; dst[q + 1] += c31; dst[q + 2] += c32; dst[q + 3] += c33;
      } else {
        writeRow(dst, ldd, m, p, i0, j0, c00, c01, c02, c03, upper);
        writeRow(dst, ldd, m, p, i0 + 1, j0, c10, c11, c12, c13, upper);
        writeRow(dst, ldd, m, p, i0 + 2, j0, c20, c21, c22, c23, upper);
        writeRow(dst, ldd, m, p, i0 + 3, j0, c30, c31, c32, c33, upper);
      }
    }
  }
}

/** Masked write-back of one tile row: i < m, j < p, and j ≥ i when upper. */
export function writeRow(
  dst: Float64Array, ldd: number, m: number, p: number, i: number, j0: number,
  s0: number, s1: number, s2: number, s3: number, upper: boolean,
): void {
  if (i >= m) return;
  const q = i * ldd;
  const jMin = upper ? i : 0;
  if (j0 < p && j0 >= jMin) dst[q + j0] += s0;
  if (j0 + 1 < p && j0 + 1 >= jMin) dst[q + j0 + 1] += s1;
  if (j0 + 2 < p && j0 + 2 >= jMin) dst[q + j0 + 2] += s2;
  if (j0 + 3 < p && j0 + 3 >= jMin) dst[q + j0 + 3] += s3;
}

/** dst[dOff + c] += Σ_{r<nb} A[r][c] for c < cols (A in panel layout), contract order. */
export function colSum(
  dst: Float64Array, dOff: number, cols: number, A: Float64Array, aOff: number, aPs: number, aRs: number, nb: number,
): void {
  const panels = (cols + 3) >> 2;
  for (let ip = 0; ip < panels; ip++) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    let q = aOff + ip * aPs;
    for (let r = 0; r < nb; r++) {
      s0 += A[q]; s1 += A[q + 1]; s2 += A[q + 2]; s3 += A[q + 3];
      q += aRs;
    }
    const c = dOff + (ip << 2);
    const left = cols - (ip << 2);
    dst[c] += s0;
    if (left > 1) dst[c + 1] += s1;
    if (left > 2) dst[c + 2] += s2;
    if (left > 3) dst[c + 3] += s3;
  }
}

/**
 * Row weights on an operand in panel layout: dst(r, c) = ρ * src(r, c) with ρ = rho[rhoOff + r],
 * for r < nb and every column of every panel (4·ceil(cols/4), padding included): the
 * "weighted operand" of ../types.ts, one IEEE multiply per element. dst and src share the
 * layout (ps, rs), both from offset 0.
 */
export function scalePanels(
  dst: Float64Array, src: Float64Array, cols: number, ps: number, rs: number, nb: number, rho: Float64Array, rhoOff: number,
): void {
  const panels = (cols + 3) >> 2;
  for (let ip = 0; ip < panels; ip++) {
    let q = ip * ps;
    for (let r = 0; r < nb; r++, q += rs) {
      const w = rho[rhoOff + r];
      dst[q] = w * src[q]; dst[q + 1] = w * src[q + 1]; dst[q + 2] = w * src[q + 2]; dst[q + 3] = w * src[q + 3];
    }
  }
}

/**
 * Pack rows [r0, r0 + nb) of src (row-major, leading dimension ld) into panels
 * dst[c >> 2][r][c & 3] (panel stride PANEL, from offset 0), zero padding columns.
 */
export function packPanels(dst: Float64Array, src: Float64Array, ld: number, r0: number, nb: number, cols: number): void {
  const full = cols >> 2;
  for (let r = 0; r < nb; r++) {
    const s = (r0 + r) * ld;
    let q = r << 2;
    for (let ip = 0; ip < full; ip++) {
      const c = s + (ip << 2);
      dst[q] = src[c]; dst[q + 1] = src[c + 1]; dst[q + 2] = src[c + 2]; dst[q + 3] = src[c + 3];
      q += PANEL;
    }
    const rest = cols & 3;
    if (rest) {
      const c = s + (full << 2);
      dst[q] = src[c];
      dst[q + 1] = rest > 1 ? src[c + 1] : 0;
      dst[q + 2] = rest > 2 ? src[c + 2] : 0;
      dst[q + 3] = 0;
    }
  }
}

/**
 * Pack M (rows×cols row-major) transposed into 4-output panels for `project`:
 * dst[ip][j][t] = M[4·ip + t][j], zero for 4·ip + t ≥ rows. Returns dst (pad4(rows)·cols).
 */
export function packWT(M: Float64Array, rows: number, cols: number, dst: Float64Array = new Float64Array(pad4(rows) * cols)): Float64Array {
  const panels = (rows + 3) >> 2;
  for (let ip = 0; ip < panels; ip++) {
    for (let j = 0; j < cols; j++) {
      const q = (ip * cols + j) << 2;
      for (let t = 0; t < 4; t++) {
        const i = (ip << 2) + t;
        dst[q + t] = i < rows ? M[i * cols + j] : 0;
      }
    }
  }
  return dst;
}

/**
 * Projection of a batch: out(r, i) = Σ_{j<cols} X(r, j)·M[i][j] for r < nb, i < pad4(outRows),
 * every dot product in increasing j from +0 (the contract's order); MT = packWT(M).
 * X(r, j) = X[xOff + r·xRs + j·xCs] (row-major: xRs = ld, xCs = 1; feature-major: xRs = 1,
 * xCs = BATCH_ROWS). Output row-major out[r·ldo + i] when !trans, feature-major
 * out[i·BATCH_ROWS + r] when trans. relu: v → v > 0 ? v : 0.
 * Tiles of 4 rows × 4 outputs (16 scalar accumulators), rows in groups of 4 plus a
 * single-row tail (unlike wasm, JS cannot read junk rows past the end of X).
 */
export function project(
  out: Float64Array, ldo: number, trans: boolean, X: Float64Array, xOff: number, xRs: number, xCs: number,
  nb: number, cols: number, MT: Float64Array, outRows: number, relu: boolean,
): void {
  const panels = (outRows + 3) >> 2;
  // Output strides: between rows (oR) and between outputs (oC).
  const oR = trans ? 1 : ldo;
  const oC = trans ? BATCH_ROWS : 1;
  let r = 0;
  for (; r + 4 <= nb; r += 4) {
    const x0 = xOff + r * xRs, x1 = x0 + xRs, x2 = x1 + xRs, x3 = x2 + xRs;
    for (let ip = 0; ip < panels; ip++) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
      let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
      let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      let w = ip * cols * 4;
      let xj = 0;
      for (let j = 0; j < cols; j++) {
        const b0 = MT[w], b1 = MT[w + 1], b2 = MT[w + 2], b3 = MT[w + 3];
        const a0 = X[x0 + xj], a1 = X[x1 + xj], a2 = X[x2 + xj], a3 = X[x3 + xj];
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
        c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
        c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
        w += 4;
        xj += xCs;
      }
      if (relu) {
        c00 = c00 > 0 ? c00 : 0; c01 = c01 > 0 ? c01 : 0; c02 = c02 > 0 ? c02 : 0; c03 = c03 > 0 ? c03 : 0;
        c10 = c10 > 0 ? c10 : 0; c11 = c11 > 0 ? c11 : 0; c12 = c12 > 0 ? c12 : 0; c13 = c13 > 0 ? c13 : 0;
        c20 = c20 > 0 ? c20 : 0; c21 = c21 > 0 ? c21 : 0; c22 = c22 > 0 ? c22 : 0; c23 = c23 > 0 ? c23 : 0;
        c30 = c30 > 0 ? c30 : 0; c31 = c31 > 0 ? c31 : 0; c32 = c32 > 0 ? c32 : 0; c33 = c33 > 0 ? c33 : 0;
      }
      const q0 = r * oR + (ip << 2) * oC, q1 = q0 + oC, q2 = q1 + oC, q3 = q2 + oC;
      out[q0] = c00; out[q1] = c01; out[q2] = c02; out[q3] = c03;
      out[q0 + oR] = c10; out[q1 + oR] = c11; out[q2 + oR] = c12; out[q3 + oR] = c13;
      out[q0 + 2 * oR] = c20; out[q1 + 2 * oR] = c21; out[q2 + 2 * oR] = c22; out[q3 + 2 * oR] = c23;
      out[q0 + 3 * oR] = c30; out[q1 + 3 * oR] = c31; out[q2 + 3 * oR] = c32; out[q3 + 3 * oR] = c33;
    }
  }
  for (; r < nb; r++) {
    const x0 = xOff + r * xRs;
    for (let ip = 0; ip < panels; ip++) {
      let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
      let w = ip * cols * 4;
      let xj = x0;
      for (let j = 0; j < cols; j++) {
        const a = X[xj];
        c0 += a * MT[w]; c1 += a * MT[w + 1]; c2 += a * MT[w + 2]; c3 += a * MT[w + 3];
        w += 4;
        xj += xCs;
      }
      if (relu) {
        c0 = c0 > 0 ? c0 : 0; c1 = c1 > 0 ? c1 : 0; c2 = c2 > 0 ? c2 : 0; c3 = c3 > 0 ? c3 : 0;
      }
      const q = r * oR + (ip << 2) * oC;
      out[q] = c0; out[q + oC] = c1; out[q + 2 * oC] = c2; out[q + 3 * oC] = c3;
    }
  }
}
