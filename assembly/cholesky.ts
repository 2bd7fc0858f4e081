// Dense SPD linear algebra for the refinement (src/method/refine.ts): Cholesky factor and the inverse
// of a lower-triangular matrix. The exact twin of src/kernels/js/cholesky.ts: the same IEEE
// operations in the same order per output element, so both backends return the same bits.
//
// Numerical contract (Kernels.cholesky / Kernels.triInverse in src/kernels/types.ts): every
// output element is one plain sequential chain — start value, then v = v − a·b for the terms
// in ascending index order (separate mul and sub, never FMA, no relaxed SIMD), then the sqrt or
// the divide. SIMD lanes run across *outputs* (4 adjacent columns of U = Lᵀ, resp. of X = L⁻¹,
// held as two f64x2), never across a sum's terms; register tiles of 4 rows × 4 columns keep 8
// independent chains in flight (as gemm.ts does), which is where the speed comes from.
//
// ## cholesky: order per element
//   L[i][j] (i ≥ j):  v = A[i][j];  for t = 0 .. j−1:  v = v − L[j][t]·L[i][t];
//                     j == i: L[j][j] = sqrt(v), failure unless v > 0;   i > j: L[i][j] = v / L[j][j].
// This is also the order of the textbook row-oriented loop (the code the refinement used before),
// so the factor has the same bits as that code.
// Storage: U = Lᵀ in "compact panels": panel q (columns 4q..4q+3 of U, i.e. rows 4q..4q+3 of L)
// holds rows t = 0 .. 4q+3 of those 4 columns, 32 bytes per row, panel q at byte offset
// 64·q·(q+1) (sizes 128·(q'+1) for q' < q). Entry (t, c) of panel q = U[t][4q+c] = L[4q+c][t].
// The packing stores A[4q+c][t] for t ≤ 4q+c < p and +0 elsewhere (the upper triangle of A is
// never read). Block row jb (rows j0 = 4jb .. j0+3 of U) is done tile by tile, the diagonal
// tile (panel jb) first: a tile starts from its stored values, subtracts the terms t < j0 in a
// 4×4 register tile, then finishes the terms t = j0 .. j0+r−1 row by row (r = row in the block),
// taking the pivots and U[j0+r'][j0+r] from the just-finished diagonal tile. Lanes below U's
// diagonal (c < r in the diagonal tile) and lanes/rows past p are computed but never read by a
// valid output (float lanes are independent) and never copied out; only pivots of rows < p are
// tested.
//
// ## triInverse: order per element (X = L⁻¹, columns in groups of 4 lanes, e0 = 4·⌊e/4⌋)
//   X[i][e] (i ≥ e0):  v = (i == e ? 1 : 0);  for t = e0 .. i−1:  v = v − L[i][t]·X[t][e];  X[i][e] = v / L[i][i].
// The terms t in [e0, e) multiply X[t][e] with t < e, the values the same recurrence gives above
// the diagonal (+0 for finite L with positive diagonal: then v stays exactly +0, or 1, through
// them, and X[i][e] has the bits of plain forward substitution started at t = e). The output's
// strict upper triangle is written as +0. One panel of X (rows e0 .. p−1 of 4 columns, 32 bytes
// per row) is computed at a time in scratch, then copied out.

import { ld, st } from './scalar';

/** Byte offset of row t within a panel (32 bytes per row). */
// @ts-ignore: decorator
@inline function row(panel: usize, t: i32): usize { return panel + (<usize>t << 5); }
/** Start of compact panel q of U: 64·q·(q+1) bytes in. */
// @ts-ignore: decorator
@inline function panelAt(U: usize, q: i32): usize { return U + ((<usize>q * <usize>(q + 1)) << 6); }

/**
 * In-place Cholesky factor of the SPD p×p row-major matrix at `a` (lower triangle read).
 * Returns 1 on success (lower triangle of `a` = L; strict upper triangle never touched), 0 when
 * a pivot is not > 0 (`a` untouched). `U`: scratch of 64·P·(P+1) bytes, P = ⌈p/4⌉.
 */
export function cholesky(a: usize, p: i32, U: usize): i32 {
  const P = (p + 3) >> 2;
  const rowBytes = <usize>p << 3;
  // Pack: panel q, lane c = row i = 4q + c of A, entries t ≤ i (zeros elsewhere).
  for (let q = 0; q < P; q++) {
    const base = panelAt(U, q);
    const rows = (q + 1) << 2;
    for (let c = 0; c < 4; c++) {
      const i = (q << 2) + c;
      const arow = a + <usize>i * rowBytes;
      const dst = base + (<usize>c << 3);
      if (i < p) {
        for (let t = 0; t <= i; t++) store<f64>(dst + (<usize>t << 5), ld(arow, t));
        for (let t = i + 1; t < rows; t++) store<f64>(dst + (<usize>t << 5), 0.0);
      } else {
        for (let t = 0; t < rows; t++) store<f64>(dst + (<usize>t << 5), 0.0);
      }
    }
  }
  for (let jb = 0; jb < P; jb++) {
    const j0 = jb << 2;
    const nj = min(4, p - j0);
    const D = panelAt(U, jb);
    const Dj = row(D, j0);
    // Pivots of the block's rows, set by the diagonal tile (q == jb, the first one).
    let d0 = 0.0, d1 = 0.0, d2 = 0.0, d3 = 0.0;
    for (let q = jb; q < P; q++) {
      const X = panelAt(U, q);
      const Xj = row(X, j0);
      let a00 = v128.load(Xj), a01 = v128.load(Xj, 16);
      let a10 = v128.load(Xj, 32), a11 = v128.load(Xj, 48);
      let a20 = v128.load(Xj, 64), a21 = v128.load(Xj, 80);
      let a30 = v128.load(Xj, 96), a31 = v128.load(Xj, 112);
      let xp = X;
      let sp = D;
      for (let t = 0; t < j0; t++) {
        const x0 = v128.load(xp);
        const x1 = v128.load(xp, 16);
        const s0 = v128.load64_splat(sp);
        const s1 = v128.load64_splat(sp, 8);
        const s2 = v128.load64_splat(sp, 16);
        const s3 = v128.load64_splat(sp, 24);
        a00 = f64x2.sub(a00, f64x2.mul(s0, x0)); a01 = f64x2.sub(a01, f64x2.mul(s0, x1));
        a10 = f64x2.sub(a10, f64x2.mul(s1, x0)); a11 = f64x2.sub(a11, f64x2.mul(s1, x1));
        a20 = f64x2.sub(a20, f64x2.mul(s2, x0)); a21 = f64x2.sub(a21, f64x2.mul(s2, x1));
        a30 = f64x2.sub(a30, f64x2.mul(s3, x0)); a31 = f64x2.sub(a31, f64x2.mul(s3, x1));
        xp += 32;
        sp += 32;
      }
      const diag = q == jb;
      // Row j0 (no in-block terms).
      if (diag) {
        const v = f64x2.extract_lane(a00, 0);
        if (!(v > 0.0)) return 0;
        d0 = sqrt(v);
      }
      let dv = f64x2.splat(d0);
      a00 = f64x2.div(a00, dv); a01 = f64x2.div(a01, dv);
      if (diag) a00 = f64x2.replace_lane(a00, 0, d0); // U[j0][j0] = sqrt(v), not v / sqrt(v)
      v128.store(Xj, a00); v128.store(Xj, a01, 16);
      // Row j0+1: term t = j0.
      let u = v128.load64_splat(Dj, 8);
      a10 = f64x2.sub(a10, f64x2.mul(u, a00)); a11 = f64x2.sub(a11, f64x2.mul(u, a01));
      if (diag && nj > 1) {
        const v = f64x2.extract_lane(a10, 1);
        if (!(v > 0.0)) return 0;
        d1 = sqrt(v);
      }
      dv = f64x2.splat(d1);
      a10 = f64x2.div(a10, dv); a11 = f64x2.div(a11, dv);
      if (diag) a10 = f64x2.replace_lane(a10, 1, d1);
      v128.store(Xj, a10, 32); v128.store(Xj, a11, 48);
      // Row j0+2: terms t = j0, j0+1.
      u = v128.load64_splat(Dj, 16);
      a20 = f64x2.sub(a20, f64x2.mul(u, a00)); a21 = f64x2.sub(a21, f64x2.mul(u, a01));
      u = v128.load64_splat(Dj, 48);
      a20 = f64x2.sub(a20, f64x2.mul(u, a10)); a21 = f64x2.sub(a21, f64x2.mul(u, a11));
      if (diag && nj > 2) {
        const v = f64x2.extract_lane(a21, 0);
        if (!(v > 0.0)) return 0;
        d2 = sqrt(v);
      }
      dv = f64x2.splat(d2);
      a20 = f64x2.div(a20, dv); a21 = f64x2.div(a21, dv);
      if (diag) a21 = f64x2.replace_lane(a21, 0, d2);
      v128.store(Xj, a20, 64); v128.store(Xj, a21, 80);
      // Row j0+3: terms t = j0, j0+1, j0+2.
      u = v128.load64_splat(Dj, 24);
      a30 = f64x2.sub(a30, f64x2.mul(u, a00)); a31 = f64x2.sub(a31, f64x2.mul(u, a01));
      u = v128.load64_splat(Dj, 56);
      a30 = f64x2.sub(a30, f64x2.mul(u, a10)); a31 = f64x2.sub(a31, f64x2.mul(u, a11));
      u = v128.load64_splat(Dj, 88);
      a30 = f64x2.sub(a30, f64x2.mul(u, a20)); a31 = f64x2.sub(a31, f64x2.mul(u, a21));
      if (diag && nj > 3) {
        const v = f64x2.extract_lane(a31, 1);
        if (!(v > 0.0)) return 0;
        d3 = sqrt(v);
      }
      dv = f64x2.splat(d3);
      a30 = f64x2.div(a30, dv); a31 = f64x2.div(a31, dv);
      if (diag) a31 = f64x2.replace_lane(a31, 1, d3);
      v128.store(Xj, a30, 96); v128.store(Xj, a31, 112);
    }
  }
  // Unpack L = Uᵀ into the lower triangle of `a`.
  for (let i = 0; i < p; i++) {
    const src = panelAt(U, i >> 2) + (<usize>(i & 3) << 3);
    const arow = a + <usize>i * rowBytes;
    for (let t = 0; t <= i; t++) st(arow, t, load<f64>(src + (<usize>t << 5)));
  }
  return 1;
}

/**
 * out = L⁻¹ for the p×p lower-triangular row-major L at `L` (lower triangle read); `out` p×p
 * row-major, fully written (strict upper triangle +0). `X`: scratch of 32·p bytes (one panel).
 * `out` may equal `L`: panel q reads only columns ≥ 4q of L and writes only columns 4q..4q+3.
 */
export function triInverse(L: usize, p: i32, out: usize, X: usize): void {
  const P = (p + 3) >> 2;
  const rowBytes = <usize>p << 3;
  const one = f64x2.replace_lane(f64x2.splat(0.0), 0, 1.0); // (1, 0)
  const eno = f64x2.replace_lane(f64x2.splat(0.0), 1, 1.0); // (0, 1)
  const zero = f64x2.splat(0.0);
  for (let q = 0; q < P; q++) {
    const e0 = q << 2;
    // Panel rows are i − e0 (X + (i − e0)·32), i = e0 .. p−1.
    for (let i0 = e0; i0 < p; i0 += 4) {
      const ni = min(4, p - i0);
      const L0 = L + <usize>i0 * rowBytes;
      // Rows past p (last block only) read row p−1 in the shared loop; never finished or stored.
      const L1 = L + <usize>min(i0 + 1, p - 1) * rowBytes;
      const L2 = L + <usize>min(i0 + 2, p - 1) * rowBytes;
      const L3 = L + <usize>min(i0 + 3, p - 1) * rowBytes;
      const first = i0 == e0;
      let a00 = first ? one : zero, a01 = zero;
      let a10 = first ? eno : zero, a11 = zero;
      let a20 = zero, a21 = first ? one : zero;
      let a30 = zero, a31 = first ? eno : zero;
      let xp = X;
      let lo = <usize>e0 << 3;
      for (let t = e0; t < i0; t++) {
        const x0 = v128.load(xp);
        const x1 = v128.load(xp, 16);
        const s0 = v128.load64_splat(L0 + lo);
        const s1 = v128.load64_splat(L1 + lo);
        const s2 = v128.load64_splat(L2 + lo);
        const s3 = v128.load64_splat(L3 + lo);
        a00 = f64x2.sub(a00, f64x2.mul(s0, x0)); a01 = f64x2.sub(a01, f64x2.mul(s0, x1));
        a10 = f64x2.sub(a10, f64x2.mul(s1, x0)); a11 = f64x2.sub(a11, f64x2.mul(s1, x1));
        a20 = f64x2.sub(a20, f64x2.mul(s2, x0)); a21 = f64x2.sub(a21, f64x2.mul(s2, x1));
        a30 = f64x2.sub(a30, f64x2.mul(s3, x0)); a31 = f64x2.sub(a31, f64x2.mul(s3, x1));
        xp += 32;
        lo += 8;
      }
      const Xi = row(X, i0 - e0);
      // Row i0.
      let dv = f64x2.splat(ld(L0, i0));
      a00 = f64x2.div(a00, dv); a01 = f64x2.div(a01, dv);
      v128.store(Xi, a00); v128.store(Xi, a01, 16);
      if (ni > 1) {
        let u = f64x2.splat(ld(L1, i0));
        a10 = f64x2.sub(a10, f64x2.mul(u, a00)); a11 = f64x2.sub(a11, f64x2.mul(u, a01));
        dv = f64x2.splat(ld(L1, i0 + 1));
        a10 = f64x2.div(a10, dv); a11 = f64x2.div(a11, dv);
        v128.store(Xi, a10, 32); v128.store(Xi, a11, 48);
        if (ni > 2) {
          u = f64x2.splat(ld(L2, i0));
          a20 = f64x2.sub(a20, f64x2.mul(u, a00)); a21 = f64x2.sub(a21, f64x2.mul(u, a01));
          u = f64x2.splat(ld(L2, i0 + 1));
          a20 = f64x2.sub(a20, f64x2.mul(u, a10)); a21 = f64x2.sub(a21, f64x2.mul(u, a11));
          dv = f64x2.splat(ld(L2, i0 + 2));
          a20 = f64x2.div(a20, dv); a21 = f64x2.div(a21, dv);
          v128.store(Xi, a20, 64); v128.store(Xi, a21, 80);
          if (ni > 3) {
            u = f64x2.splat(ld(L3, i0));
            a30 = f64x2.sub(a30, f64x2.mul(u, a00)); a31 = f64x2.sub(a31, f64x2.mul(u, a01));
            u = f64x2.splat(ld(L3, i0 + 1));
            a30 = f64x2.sub(a30, f64x2.mul(u, a10)); a31 = f64x2.sub(a31, f64x2.mul(u, a11));
            u = f64x2.splat(ld(L3, i0 + 2));
            a30 = f64x2.sub(a30, f64x2.mul(u, a20)); a31 = f64x2.sub(a31, f64x2.mul(u, a21));
            dv = f64x2.splat(ld(L3, i0 + 3));
            a30 = f64x2.div(a30, dv); a31 = f64x2.div(a31, dv);
            v128.store(Xi, a30, 96); v128.store(Xi, a31, 112);
          }
        }
      }
    }
    // Copy the panel out: out[i][e] = X[i][e] for e ≤ i, +0 above the diagonal.
    const ne = min(4, p - e0);
    for (let i = 0; i < e0; i++) {
      const orow = out + <usize>i * rowBytes;
      for (let c = 0; c < ne; c++) st(orow, e0 + c, 0.0);
    }
    for (let i = e0; i < p; i++) {
      const orow = out + <usize>i * rowBytes;
      const src = row(X, i - e0);
      for (let c = 0; c < ne; c++) {
        const e = e0 + c;
        if (i >= e) st(orow, e, load<f64>(src + (<usize>c << 3)));
        else st(orow, e, 0.0);
      }
    }
  }
}
