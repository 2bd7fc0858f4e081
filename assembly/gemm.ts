// Packed, register-tiled f64x2 GEMM and the projection kernel shared by every family.
//
// The accumulation contract (src/kernels/types.ts) fixes the order of every sum:
//   within a batch each output element sums its per-row products in increasing row order into
//   a scalar that starts at +0, with separate mul and add (never FMA, never relaxed SIMD); the
//   batch sum is then added to the destination once (dst = dst + s).
// So SIMD lanes here always run across *outputs* (two adjacent columns of a tile), and every
// accumulator is a plain f64x2.add(acc, f64x2.mul(a, b)) chain over the rows. The JS twin in
// src/kernels/js/gemm.ts performs the identical scalar sequence per output element.
//
// ## "Panel" layout (used for both operands of gemmTN)
// An operand is a rows×cols matrix read 4 columns at a time. Column c of row r lives at
//   base + (c >> 2)·panelStride + r·rowStride + (c & 3)·8     (bytes)
// i.e. 4 consecutive columns are always contiguous. Two concrete layouts fit this:
//   - packed panels  [c/4][r][4]: rowStride = 32, panelStride = rowsCap·32 (contiguous stream);
//   - row-major with leading dimension ld: rowStride = ld·8, panelStride = 32.
// Columns beyond `cols` in the last panel may hold anything (zeros when packed, the next row's
// values or slack bytes when row-major): they only feed tile lanes whose outputs are never
// written, and float lanes are independent, so they cannot affect a written result. Callers
// keep ≥ 32 readable bytes after the last row for the row-major case.

// @ts-ignore: decorator
@inline const TILE: i32 = 4;

/** Rows per accumulation batch (BATCH_ROWS in src/kernels/types.ts). */
// @ts-ignore: decorator
@inline export const BATCH: i32 = 256;

/** Byte stride between consecutive 4-column panels of a packed batch: BATCH rows × 32 B. */
// @ts-ignore: decorator
@inline export const PANEL_BYTES: usize = <usize>BATCH << 5;

/**
 * dst(m×p, leading dimension ldd, row-major) += Σ_{r<nb} A[r][i]·B[r][j] (one batch).
 * A: nb×m in panel layout (aPs, aRs); B: nb×p in panel layout (bPs, bRs).
 * upper ≠ 0: only tiles with jTile ≥ iTile are computed and only j ≥ i is written.
 * Tiles are 4×4 outputs held in 8 f64x2 accumulators (rows i..i+3 × two column pairs).
 */
export function gemmTN(
  dst: usize, ldd: i32, m: i32, p: i32,
  a: usize, aPs: usize, aRs: usize,
  b: usize, bPs: usize, bRs: usize,
  nb: i32, upper: i32,
): void {
  if (nb < 1) return; // tile4x4's loop runs at least once
  // Column blocks of B sized so that one block of panels stays in L2 while every A panel
  // streams past it once (A panel: 8 KB for 256 rows, lives in L1 during its row of tiles).
  const pPanels = (p + 3) >> 2;
  const mPanels = (m + 3) >> 2;
  const blockPanels: i32 = 64; // 64 panels × 256 rows × 32 B = 512 KB
  for (let jb = 0; jb < pPanels; jb += blockPanels) {
    const jbEnd = min(pPanels, jb + blockPanels);
    for (let ip = 0; ip < mPanels; ip++) {
      const j0 = upper ? max(jb, ip) : jb;
      const ap = a + <usize>ip * aPs;
      for (let jp = j0; jp < jbEnd; jp++) {
        tile4x4(dst, ldd, m, p, ip << 2, jp << 2, ap, aRs, b + <usize>jp * bPs, bRs, nb, upper);
      }
    }
  }
}

/** One 4×4 output tile at (i0, j0): 8 accumulators over nb rows, then masked write-back. */
// @ts-ignore: decorator
@inline function tile4x4(
  dst: usize, ldd: i32, m: i32, p: i32, i0: i32, j0: i32,
  a: usize, aRs: usize, b: usize, bRs: usize, nb: i32, upper: i32,
): void {
  let c00 = f64x2.splat(0.0), c01 = f64x2.splat(0.0);
  let c10 = f64x2.splat(0.0), c11 = f64x2.splat(0.0);
  let c20 = f64x2.splat(0.0), c21 = f64x2.splat(0.0);
  let c30 = f64x2.splat(0.0), c31 = f64x2.splat(0.0);
  // A do-while on an end pointer, not a counted for: V8 then emits a tighter loop (one compare
  // and branch at the bottom, no counter), and the loop is issue-bound (docs/measurements.md).
  // Same operations in the same order. nb ≥ 1: gemmTN returns before any tile otherwise.
  const aEnd = a + <usize>nb * aRs;
  do {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    const a0 = v128.load64_splat(a);
    const a1 = v128.load64_splat(a, 8);
    const a2 = v128.load64_splat(a, 16);
    const a3 = v128.load64_splat(a, 24);
    c00 = f64x2.add(c00, f64x2.mul(a0, b0)); c01 = f64x2.add(c01, f64x2.mul(a0, b1));
    c10 = f64x2.add(c10, f64x2.mul(a1, b0)); c11 = f64x2.add(c11, f64x2.mul(a1, b1));
    c20 = f64x2.add(c20, f64x2.mul(a2, b0)); c21 = f64x2.add(c21, f64x2.mul(a2, b1));
    c30 = f64x2.add(c30, f64x2.mul(a3, b0)); c31 = f64x2.add(c31, f64x2.mul(a3, b1));
    a += aRs;
    b += bRs;
  } while (a < aEnd);
  // Full interior tile off the diagonal: vector read-modify-write (lane-wise dst + s).
  if (i0 + TILE <= m && j0 + TILE <= p && (!upper || j0 > i0)) {
    let q = dst + ((<usize>i0 * ldd + j0) << 3);
    const row = <usize>ldd << 3;
    v128.store(q, f64x2.add(v128.load(q), c00)); v128.store(q, f64x2.add(v128.load(q, 16), c01), 16); q += row;
    v128.store(q, f64x2.add(v128.load(q), c10)); v128.store(q, f64x2.add(v128.load(q, 16), c11), 16); q += row;
    v128.store(q, f64x2.add(v128.load(q), c20)); v128.store(q, f64x2.add(v128.load(q, 16), c21), 16); q += row;
    v128.store(q, f64x2.add(v128.load(q), c30)); v128.store(q, f64x2.add(v128.load(q, 16), c31), 16);
    return;
  }
  writeRow(dst, ldd, p, i0 + 0, j0, c00, c01, m, upper);
  writeRow(dst, ldd, p, i0 + 1, j0, c10, c11, m, upper);
  writeRow(dst, ldd, p, i0 + 2, j0, c20, c21, m, upper);
  writeRow(dst, ldd, p, i0 + 3, j0, c30, c31, m, upper);
}

/** Masked scalar write-back of one tile row: j < p, i < m, and j ≥ i when upper. */
// @ts-ignore: decorator
@inline function writeRow(dst: usize, ldd: i32, p: i32, i: i32, j0: i32, lo: v128, hi: v128, m: i32, upper: i32): void {
  if (i >= m) return;
  const q = dst + ((<usize>i * ldd) << 3);
  addAt(q, i, j0 + 0, p, upper, f64x2.extract_lane(lo, 0));
  addAt(q, i, j0 + 1, p, upper, f64x2.extract_lane(lo, 1));
  addAt(q, i, j0 + 2, p, upper, f64x2.extract_lane(hi, 0));
  addAt(q, i, j0 + 3, p, upper, f64x2.extract_lane(hi, 1));
}

// @ts-ignore: decorator
@inline function addAt(rowPtr: usize, i: i32, j: i32, p: i32, upper: i32, s: f64): void {
  if (j < p && (!upper || j >= i)) {
    const q = rowPtr + (<usize>j << 3);
    store<f64>(q, load<f64>(q) + s);
  }
}

/**
 * Column sums of one batch: dst[c] += Σ_{r<nb} A[r][c] for c < cols, A in panel layout.
 * Each lane is one column's own running sum in row order from +0 (the contract's order).
 */
export function colSum(dst: usize, cols: i32, a: usize, aPs: usize, aRs: usize, nb: i32): void {
  const panels = (cols + 3) >> 2;
  for (let ip = 0; ip < panels; ip++) {
    let s0 = f64x2.splat(0.0), s1 = f64x2.splat(0.0);
    let q = a + <usize>ip * aPs;
    const end = q + <usize>nb * aRs;
    do { // nb ≥ 1 (the batch kernels' contract)
      s0 = f64x2.add(s0, v128.load(q));
      s1 = f64x2.add(s1, v128.load(q, 16));
      q += aRs;
    } while (q < end);
    const c = ip << 2;
    const d = dst + (<usize>c << 3);
    if (c + 0 < cols) store<f64>(d, load<f64>(d) + f64x2.extract_lane(s0, 0));
    if (c + 1 < cols) store<f64>(d, load<f64>(d, 8) + f64x2.extract_lane(s0, 1), 8);
    if (c + 2 < cols) store<f64>(d, load<f64>(d, 16) + f64x2.extract_lane(s1, 0), 16);
    if (c + 3 < cols) store<f64>(d, load<f64>(d, 24) + f64x2.extract_lane(s1, 1), 24);
  }
}

/**
 * Row weights applied to an operand in panel layout: dst(r, c) = ρ_r * src(r, c) for r < nb and
 * every column of every panel (4·ceil(cols/4) columns, padding included), one IEEE multiply per
 * element (the "weighted operand" of src/kernels/types.ts). dst and src share the layout
 * (ps, rs); rho holds nb doubles (ρ_r at rho + r·8).
 */
export function scalePanels(dst: usize, src: usize, cols: i32, ps: usize, rs: usize, nb: i32, rho: usize): void {
  const panels = (cols + 3) >> 2;
  for (let ip = 0; ip < panels; ip++) {
    let q: usize = <usize>ip * ps;
    let w = rho;
    const end = rho + (<usize>nb << 3);
    do { // nb ≥ 1
      const wv = v128.load64_splat(w);
      v128.store(dst + q, f64x2.mul(wv, v128.load(src + q)));
      v128.store(dst + q, f64x2.mul(wv, v128.load(src + q, 16)), 16);
      q += rs;
      w += 8;
    } while (w < end);
  }
}

/**
 * Pack a weight matrix M (rows×cols, row-major, leading dimension cols) transposed into
 * 4-output panels: dst[ip][j][t] = M[4·ip + t][j], zero for 4·ip + t ≥ rows.
 * dst holds ceil(rows/4)·cols·4 doubles. Used by `project`.
 */
export function packWT(dst: usize, M: usize, rows: i32, cols: i32): void {
  const panels = (rows + 3) >> 2;
  for (let ip = 0; ip < panels; ip++) {
    for (let j = 0; j < cols; j++) {
      const q = dst + ((<usize>(ip * cols + j) << 2) << 3);
      for (let t = 0; t < TILE; t++) {
        const i = (ip << 2) + t;
        store<f64>(q + (<usize>t << 3), i < rows ? load<f64>(M + ((<usize>i * cols + j) << 3)) : 0.0);
      }
    }
  }
}

/**
 * Projection of a batch: out(r, i) = Σ_{j<cols} X(r, j)·M[i][j] (inner index increasing from
 * +0), for r < nb and i < outPad (= 4·ceil(outRows/4); padded outputs are 0 for finite X).
 * X(r, j) is read at X + r·xRs + j·xCs (bytes): row-major input has xRs = ld·8, xCs = 8; a
 * transposed input (feature-major, see below) has xRs = 8, xCs = PANEL_BYTES / 4 = 256·8.
 * MT = packWT(M). relu ≠ 0 maps every output v to (v > 0 ? v : 0).
 * Output, trans = 0: row-major, out + (r·ldo + i)·8 (ldo a multiple of 4, ≥ outPad).
 * Output, trans ≠ 0: feature-major, out + (i·BATCH + r)·8: each output's BATCH rows are
 * contiguous, so feature formation can run SIMD lanes across rows (ldo is ignored).
 * Tiles: 4 rows × 4 outputs, 8 accumulators; rows are processed in groups of 4 up to
 * 4·ceil(nb/4), so X and out must have room for that many rows (the extra rows are junk).
 */
export function project(
  out: usize, ldo: i32, trans: i32, X: usize, xRs: usize, xCs: usize, nb: i32, cols: i32,
  MT: usize, outRows: i32, relu: i32,
): void {
  const panels = (outRows + 3) >> 2;
  const oRow = <usize>ldo << 3;
  const oCol = <usize>BATCH << 3;
  for (let r = 0; r < nb; r += 4) {
    const x0 = X + <usize>r * xRs;
    for (let ip = 0; ip < panels; ip++) {
      let c00 = f64x2.splat(0.0), c01 = f64x2.splat(0.0);
      let c10 = f64x2.splat(0.0), c11 = f64x2.splat(0.0);
      let c20 = f64x2.splat(0.0), c21 = f64x2.splat(0.0);
      let c30 = f64x2.splat(0.0), c31 = f64x2.splat(0.0);
      let w = MT + ((<usize>ip * cols) << 5);
      let x = x0;
      // do-while on an end pointer, as in tile4x4 (cols ≥ 1: the caller's d, l, k).
      const wEnd = w + (<usize>cols << 5);
      do {
        const b0 = v128.load(w);
        const b1 = v128.load(w, 16);
        const a0 = v128.load64_splat(x);
        const a1 = v128.load64_splat(x + xRs);
        const a2 = v128.load64_splat(x + 2 * xRs);
        const a3 = v128.load64_splat(x + 3 * xRs);
        c00 = f64x2.add(c00, f64x2.mul(a0, b0)); c01 = f64x2.add(c01, f64x2.mul(a0, b1));
        c10 = f64x2.add(c10, f64x2.mul(a1, b0)); c11 = f64x2.add(c11, f64x2.mul(a1, b1));
        c20 = f64x2.add(c20, f64x2.mul(a2, b0)); c21 = f64x2.add(c21, f64x2.mul(a2, b1));
        c30 = f64x2.add(c30, f64x2.mul(a3, b0)); c31 = f64x2.add(c31, f64x2.mul(a3, b1));
        w += 32;
        x += xCs;
      } while (w < wEnd);
      if (relu) {
        c00 = reluV(c00); c01 = reluV(c01); c10 = reluV(c10); c11 = reluV(c11);
        c20 = reluV(c20); c21 = reluV(c21); c30 = reluV(c30); c31 = reluV(c31);
      }
      if (trans) {
        // c_a0 = outputs (i0, i0+1) of row r+a, c_a1 = (i0+2, i0+3): regroup by output.
        const q = out + ((<usize>(ip << 2) * BATCH + r) << 3);
        v128.store(q, v128.shuffle<f64>(c00, c10, 0, 2)); v128.store(q, v128.shuffle<f64>(c20, c30, 0, 2), 16);
        v128.store(q + oCol, v128.shuffle<f64>(c00, c10, 1, 3)); v128.store(q + oCol, v128.shuffle<f64>(c20, c30, 1, 3), 16);
        v128.store(q + 2 * oCol, v128.shuffle<f64>(c01, c11, 0, 2)); v128.store(q + 2 * oCol, v128.shuffle<f64>(c21, c31, 0, 2), 16);
        v128.store(q + 3 * oCol, v128.shuffle<f64>(c01, c11, 1, 3)); v128.store(q + 3 * oCol, v128.shuffle<f64>(c21, c31, 1, 3), 16);
      } else {
        const q = out + <usize>r * oRow + (<usize>ip << 5);
        v128.store(q, c00); v128.store(q, c01, 16);
        v128.store(q + oRow, c10); v128.store(q + oRow, c11, 16);
        v128.store(q + 2 * oRow, c20); v128.store(q + 2 * oRow, c21, 16);
        v128.store(q + 3 * oRow, c30); v128.store(q + 3 * oRow, c31, 16);
      }
    }
  }
}

/** v > 0 ? v : +0 per lane (NaN and −0 map to +0, as the JS twin's conditional does). */
// @ts-ignore: decorator
@inline function reluV(v: v128): v128 {
  return v128.and(v, f64x2.gt(v, f64x2.splat(0.0)));
}

/**
 * Pack one batch into panels: dst[c >> 2][r][c & 3] = src[r·ld + c] for r < nb, c < cols,
 * with zeros in the padding columns cols..4·ceil(cols/4)−1; panel stride PANEL_BYTES.
 * src row-major with leading dimension ld.
 */
export function packPanels(dst: usize, src: usize, ld: i32, nb: i32, cols: i32): void {
  const panels = (cols + 3) >> 2;
  for (let r = 0; r < nb; r++) {
    const s = src + ((<usize>r * ld) << 3);
    let q = dst + (<usize>r << 5);
    for (let ip = 0; ip < panels; ip++) {
      const c = ip << 2;
      if (c + TILE <= cols) {
        v128.store(q, v128.load(s + (<usize>c << 3)));
        v128.store(q, v128.load(s + (<usize>c << 3), 16), 16);
      } else {
        for (let t = 0; t < TILE; t++) {
          store<f64>(q + (<usize>t << 3), c + t < cols ? load<f64>(s + (<usize>(c + t) << 3)) : 0.0);
        }
      }
      q += PANEL_BYTES;
    }
  }
}
