// The detector's GEMM in float32: f32x4 lanes do twice the work of f64x2 per instruction, and
// pass 2 is this one GEMM (O(n·k⁴)). Twin: gemmTNf32 in src/kernels/js/gemm32.ts.
//
// Accumulation contract (src/kernels/types.ts, "Float32 batch sums"): both operands are the
// float64 features rounded to float32 (round to nearest even: f32x4.demote_f64x2_zero here,
// a Float32Array store in JS); within a batch each output element sums its per-row products in
// increasing row order from +0 in float32, each product and each sum rounded to float32
// (separate mul and add, never FMA); the batch sum is then added to the float64 destination
// once (dst = dst + f64(s)). The batch sums carry a relative rounding error ~1e-7·√nb, far
// below the detector's sampling error (≳ 1e-3 at any n used in practice).
//
// Layouts (bytes):
//   A: 4-wide float32 panels [i/4][r][4]: element (r, i) at a + (i >> 2)·aPs + r·16 + (i & 3)·4
//   B: 8-wide float32 panels [j/8][r][8]: element (r, j) at b + (j >> 3)·bPs + r·32 + (j & 7)·4
// Columns past m (or p) in the last panel hold anything finite or not: they only feed lanes
// whose outputs are never written.

/**
 * dst(m×p, leading dimension ldd, float64, row-major) += Σ_{r<nb} A[r][i]·B[r][j] in float32
 * (one batch, nb ≥ 1). Tiles of 4×8 outputs in 8 f32x4 accumulators.
 */
export function gemmTNf32(dst: usize, ldd: i32, m: i32, p: i32, a: usize, aPs: usize, b: usize, bPs: usize, nb: i32): void {
  if (nb < 1) return;
  const mPanels = (m + 3) >> 2;
  const pPanels = (p + 7) >> 3;
  // Column blocks of B that stay in L2 while every A panel streams past (as gemmTN).
  const blockPanels: i32 = 64; // 64 panels × 256 rows × 32 B = 512 KB
  for (let jb = 0; jb < pPanels; jb += blockPanels) {
    const jbEnd = min(pPanels, jb + blockPanels);
    for (let ip = 0; ip < mPanels; ip++) {
      const ap = a + <usize>ip * aPs;
      for (let jp = jb; jp < jbEnd; jp++) tile4x8(dst, ldd, m, p, ip << 2, jp << 3, ap, b + <usize>jp * bPs, nb);
    }
  }
}

// @ts-ignore: decorator
@inline function tile4x8(dst: usize, ldd: i32, m: i32, p: i32, i0: i32, j0: i32, a: usize, b: usize, nb: i32): void {
  let c00 = f32x4.splat(0.0), c01 = f32x4.splat(0.0);
  let c10 = f32x4.splat(0.0), c11 = f32x4.splat(0.0);
  let c20 = f32x4.splat(0.0), c21 = f32x4.splat(0.0);
  let c30 = f32x4.splat(0.0), c31 = f32x4.splat(0.0);
  const aEnd = a + (<usize>nb << 4);
  do {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    const a0 = v128.load32_splat(a);
    const a1 = v128.load32_splat(a, 4);
    const a2 = v128.load32_splat(a, 8);
    const a3 = v128.load32_splat(a, 12);
    c00 = f32x4.add(c00, f32x4.mul(a0, b0)); c01 = f32x4.add(c01, f32x4.mul(a0, b1));
    c10 = f32x4.add(c10, f32x4.mul(a1, b0)); c11 = f32x4.add(c11, f32x4.mul(a1, b1));
    c20 = f32x4.add(c20, f32x4.mul(a2, b0)); c21 = f32x4.add(c21, f32x4.mul(a2, b1));
    c30 = f32x4.add(c30, f32x4.mul(a3, b0)); c31 = f32x4.add(c31, f32x4.mul(a3, b1));
    a += 16;
    b += 32;
  } while (a < aEnd);
  addRow(dst, ldd, m, p, i0, j0, c00, c01);
  addRow(dst, ldd, m, p, i0 + 1, j0, c10, c11);
  addRow(dst, ldd, m, p, i0 + 2, j0, c20, c21);
  addRow(dst, ldd, m, p, i0 + 3, j0, c30, c31);
}

/** dst[i][j0 .. j0+8) += the 8 float32 sums (lo: j0..j0+3, hi: j0+4..j0+7), within m×p. */
// @ts-ignore: decorator
@inline function addRow(dst: usize, ldd: i32, m: i32, p: i32, i: i32, j0: i32, lo: v128, hi: v128): void {
  if (i >= m) return;
  const q = dst + ((<usize>i * ldd + j0) << 3);
  const s0 = f64x2.promote_low_f32x4(lo);
  const s1 = f64x2.promote_low_f32x4(v128.shuffle<f32>(lo, lo, 2, 3, 2, 3));
  const s2 = f64x2.promote_low_f32x4(hi);
  const s3 = f64x2.promote_low_f32x4(v128.shuffle<f32>(hi, hi, 2, 3, 2, 3));
  if (j0 + 8 <= p) {
    v128.store(q, f64x2.add(v128.load(q), s0));
    v128.store(q, f64x2.add(v128.load(q, 16), s1), 16);
    v128.store(q, f64x2.add(v128.load(q, 32), s2), 32);
    v128.store(q, f64x2.add(v128.load(q, 48), s3), 48);
    return;
  }
  const n = p - j0;
  if (n > 0) store<f64>(q, load<f64>(q) + f64x2.extract_lane(s0, 0));
  if (n > 1) store<f64>(q, load<f64>(q, 8) + f64x2.extract_lane(s0, 1), 8);
  if (n > 2) store<f64>(q, load<f64>(q, 16) + f64x2.extract_lane(s1, 0), 16);
  if (n > 3) store<f64>(q, load<f64>(q, 24) + f64x2.extract_lane(s1, 1), 24);
  if (n > 4) store<f64>(q, load<f64>(q, 32) + f64x2.extract_lane(s2, 0), 32);
  if (n > 5) store<f64>(q, load<f64>(q, 40) + f64x2.extract_lane(s2, 1), 40);
  if (n > 6) store<f64>(q, load<f64>(q, 48) + f64x2.extract_lane(s3, 0), 48);
}

/**
 * float64 panels [c/4][r][4] (panel stride srcPs bytes, 32 B rows) → float32 panels of
 * `width` (4 or 8) columns [c/width][r][width] (panel stride dstPs, width·4 B rows), rows
 * r < nb, each value rounded to nearest even. With width 8 each source panel fills half of a
 * destination panel; an odd last panel leaves the other half as it was (junk lanes).
 */
export function toF32Panels(dst: usize, dstPs: usize, src: usize, srcPs: usize, cols: i32, nb: i32, width: i32): void {
  const srcPanels = (cols + 3) >> 2;
  const rowBytes = <usize>width << 2;
  for (let sp = 0; sp < srcPanels; sp++) {
    let s = src + <usize>sp * srcPs;
    // Source panel sp is the (sp·4 mod width)/4-th quarter-row group of destination panel sp·4/width.
    let q = dst + <usize>((sp << 2) / width) * dstPs + (<usize>((sp << 2) % width) << 2);
    const end = s + (<usize>nb << 5);
    do {
      const lo = f32x4.demote_f64x2_zero(v128.load(s));
      const hi = f32x4.demote_f64x2_zero(v128.load(s, 16));
      v128.store(q, v128.shuffle<f32>(lo, hi, 0, 1, 4, 5));
      s += 32;
      q += rowBytes;
    } while (s < end);
  }
}
