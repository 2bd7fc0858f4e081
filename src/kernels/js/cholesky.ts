/**
 * Dense SPD linear algebra for the refinement (src/method/refine.ts) in plain JS: the bit-exact twin
 * of assembly/cholesky.ts (same storage, same tiles, same IEEE operations in the same order;
 * a wasm f64x2 lane there is one scalar accumulator here).
 *
 * Numerical contract (Kernels.cholesky / Kernels.triInverse in ../types.ts): every output
 * element is one plain sequential chain — start value, then v = v − a·b for its terms in
 * ascending index order (one multiply and one subtract each: JS never fuses), then the sqrt or
 * the divide. Tiling only changes *when* an element is computed, never its chain.
 *
 * cholesky, per element (i ≥ j):
 *   v = A[i][j];  for t = 0 .. j−1:  v = v − L[j][t]·L[i][t];
 *   i == j: L[j][j] = sqrt(v) (fail unless v > 0);   i > j: L[i][j] = v / L[j][j].
 * That is also the chain of the textbook row-oriented loop the refinement used before these kernels
 * (L[i][t]·L[j][t] there: IEEE multiplication is commutative), so the factor keeps its bits.
 * Storage: U = Lᵀ in compact 4-column panels, panel q (rows 4q..4q+3 of L) at element
 * 8·q·(q+1), rows t = 0 .. 4q+3 of 4 elements each: U[t][4q+c] = L[4q+c][t] at
 * 8q(q+1) + 4t + c. Block row jb of U (rows j0 = 4jb .. j0+3) is computed tile by tile, the
 * diagonal tile first: the terms t < j0 in a 4×4 register tile (16 accumulators), then the
 * in-block terms t = j0 .. j0+r−1 and the sqrt/divide row by row.
 *
 * triInverse, per element (X = L⁻¹, columns in groups of 4, e0 = 4·⌊e/4⌋, i ≥ e0):
 *   v = (i == e ? 1 : 0);  for t = e0 .. i−1:  v = v − L[i][t]·X[t][e];  X[i][e] = v / L[i][i].
 * Terms with t < e use the values this recurrence gives above the diagonal (+0 for finite L
 * with positive diagonal, so they leave v unchanged and X[i][e] has the bits of forward
 * substitution started at t = e); the output's strict upper triangle is written as +0.
 *
 * Lanes/rows past p and lanes below U's diagonal are computed (from zeros) as in wasm but never
 * feed a valid output and are never copied out; only pivots of rows < p are tested.
 */
import { scratch } from './scratch.js';

/** Kernels.cholesky on the JS backend (shapes checked by the caller). */
export function cholesky(a: Float64Array, p: number): boolean {
  const P = (p + 3) >> 2;
  const U = scratch('cholesky', 8 * P * (P + 1));
  for (let q = 0; q < P; q++) {
    const base = 8 * q * (q + 1);
    const rows = (q + 1) << 2;
    for (let c = 0; c < 4; c++) {
      const i = (q << 2) + c;
      const ar = i * p;
      const top = i < p ? i : -1;
      for (let t = 0; t <= top; t++) U[base + 4 * t + c] = a[ar + t];
      for (let t = top + 1; t < rows; t++) U[base + 4 * t + c] = 0;
    }
  }
  for (let jb = 0; jb < P; jb++) {
    const j0 = jb << 2;
    const nj = Math.min(4, p - j0);
    const D = 8 * jb * (jb + 1);
    const Dj = D + 4 * j0;
    let d0 = 0, d1 = 0, d2 = 0, d3 = 0;
    for (let q = jb; q < P; q++) {
      const X = 8 * q * (q + 1);
      const Xj = X + 4 * j0;
      let c00 = U[Xj], c01 = U[Xj + 1], c02 = U[Xj + 2], c03 = U[Xj + 3];
      let c10 = U[Xj + 4], c11 = U[Xj + 5], c12 = U[Xj + 6], c13 = U[Xj + 7];
      let c20 = U[Xj + 8], c21 = U[Xj + 9], c22 = U[Xj + 10], c23 = U[Xj + 11];
      let c30 = U[Xj + 12], c31 = U[Xj + 13], c32 = U[Xj + 14], c33 = U[Xj + 15];
      let xp = X;
      let sp = D;
      for (let t = 0; t < j0; t++) {
        const x0 = U[xp], x1 = U[xp + 1], x2 = U[xp + 2], x3 = U[xp + 3];
        const s0 = U[sp], s1 = U[sp + 1], s2 = U[sp + 2], s3 = U[sp + 3];
        c00 = c00 - s0 * x0; c01 = c01 - s0 * x1; c02 = c02 - s0 * x2; c03 = c03 - s0 * x3;
        c10 = c10 - s1 * x0; c11 = c11 - s1 * x1; c12 = c12 - s1 * x2; c13 = c13 - s1 * x3;
        c20 = c20 - s2 * x0; c21 = c21 - s2 * x1; c22 = c22 - s2 * x2; c23 = c23 - s2 * x3;
        c30 = c30 - s3 * x0; c31 = c31 - s3 * x1; c32 = c32 - s3 * x2; c33 = c33 - s3 * x3;
        xp += 4;
        sp += 4;
      }
      const diag = q === jb;
      // Row j0 (no in-block terms).
      if (diag) {
        if (!(c00 > 0)) return false;
        d0 = Math.sqrt(c00);
      }
      c00 = c00 / d0; c01 = c01 / d0; c02 = c02 / d0; c03 = c03 / d0;
      if (diag) c00 = d0; // U[j0][j0] = sqrt(v), not v / sqrt(v)
      U[Xj] = c00; U[Xj + 1] = c01; U[Xj + 2] = c02; U[Xj + 3] = c03;
      // Row j0+1: term t = j0.
      let u = U[Dj + 1];
      c10 = c10 - u * c00; c11 = c11 - u * c01; c12 = c12 - u * c02; c13 = c13 - u * c03;
      if (diag && nj > 1) {
        if (!(c11 > 0)) return false;
        d1 = Math.sqrt(c11);
      }
      c10 = c10 / d1; c11 = c11 / d1; c12 = c12 / d1; c13 = c13 / d1;
      if (diag) c11 = d1;
      U[Xj + 4] = c10; U[Xj + 5] = c11; U[Xj + 6] = c12; U[Xj + 7] = c13;
      // Row j0+2: terms t = j0, j0+1.
      u = U[Dj + 2];
      c20 = c20 - u * c00; c21 = c21 - u * c01; c22 = c22 - u * c02; c23 = c23 - u * c03;
      u = U[Dj + 6];
      c20 = c20 - u * c10; c21 = c21 - u * c11; c22 = c22 - u * c12; c23 = c23 - u * c13;
      if (diag && nj > 2) {
        if (!(c22 > 0)) return false;
        d2 = Math.sqrt(c22);
      }
      c20 = c20 / d2; c21 = c21 / d2; c22 = c22 / d2; c23 = c23 / d2;
      if (diag) c22 = d2;
      U[Xj + 8] = c20; U[Xj + 9] = c21; U[Xj + 10] = c22; U[Xj + 11] = c23;
      // Row j0+3: terms t = j0, j0+1, j0+2.
      u = U[Dj + 3];
      c30 = c30 - u * c00; c31 = c31 - u * c01; c32 = c32 - u * c02; c33 = c33 - u * c03;
      u = U[Dj + 7];
      c30 = c30 - u * c10; c31 = c31 - u * c11; c32 = c32 - u * c12; c33 = c33 - u * c13;
      u = U[Dj + 11];
      c30 = c30 - u * c20; c31 = c31 - u * c21; c32 = c32 - u * c22; c33 = c33 - u * c23;
      if (diag && nj > 3) {
        if (!(c33 > 0)) return false;
        d3 = Math.sqrt(c33);
      }
      c30 = c30 / d3; c31 = c31 / d3; c32 = c32 / d3; c33 = c33 / d3;
      if (diag) c33 = d3;
      U[Xj + 12] = c30; U[Xj + 13] = c31; U[Xj + 14] = c32; U[Xj + 15] = c33;
    }
  }
  // L = Uᵀ into the lower triangle of `a` (the strict upper triangle is never touched).
  for (let i = 0; i < p; i++) {
    const qi = i >> 2;
    const src = 8 * qi * (qi + 1) + (i & 3);
    const ar = i * p;
    for (let t = 0; t <= i; t++) a[ar + t] = U[src + 4 * t];
  }
  return true;
}

/** Kernels.triInverse on the JS backend (shapes checked by the caller). `out` may be `L`. */
export function triInverse(L: Float64Array, p: number, out: Float64Array): void {
  const P = (p + 3) >> 2;
  const X = scratch('triInverse', 4 * p); // one panel: row i − e0 holds X[i][e0 .. e0+3]
  for (let q = 0; q < P; q++) {
    const e0 = q << 2;
    for (let i0 = e0; i0 < p; i0 += 4) {
      const ni = Math.min(4, p - i0);
      const L0 = i0 * p;
      // Rows past p (last block only) read row p−1 in the shared loop; never finished or stored.
      const L1 = Math.min(i0 + 1, p - 1) * p;
      const L2 = Math.min(i0 + 2, p - 1) * p;
      const L3 = Math.min(i0 + 3, p - 1) * p;
      const first = i0 === e0 ? 1 : 0;
      let c00 = first, c01 = 0, c02 = 0, c03 = 0;
      let c10 = 0, c11 = first, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = first, c23 = 0;
      let c30 = 0, c31 = 0, c32 = 0, c33 = first;
      let xp = 0;
      for (let t = e0; t < i0; t++) {
        const x0 = X[xp], x1 = X[xp + 1], x2 = X[xp + 2], x3 = X[xp + 3];
        const s0 = L[L0 + t], s1 = L[L1 + t], s2 = L[L2 + t], s3 = L[L3 + t];
        c00 = c00 - s0 * x0; c01 = c01 - s0 * x1; c02 = c02 - s0 * x2; c03 = c03 - s0 * x3;
        c10 = c10 - s1 * x0; c11 = c11 - s1 * x1; c12 = c12 - s1 * x2; c13 = c13 - s1 * x3;
        c20 = c20 - s2 * x0; c21 = c21 - s2 * x1; c22 = c22 - s2 * x2; c23 = c23 - s2 * x3;
        c30 = c30 - s3 * x0; c31 = c31 - s3 * x1; c32 = c32 - s3 * x2; c33 = c33 - s3 * x3;
        xp += 4;
      }
      const Xi = (i0 - e0) << 2;
      // Row i0.
      let d = L[L0 + i0];
      c00 = c00 / d; c01 = c01 / d; c02 = c02 / d; c03 = c03 / d;
      X[Xi] = c00; X[Xi + 1] = c01; X[Xi + 2] = c02; X[Xi + 3] = c03;
      if (ni > 1) {
        let u = L[L1 + i0];
        c10 = c10 - u * c00; c11 = c11 - u * c01; c12 = c12 - u * c02; c13 = c13 - u * c03;
        d = L[L1 + i0 + 1];
        c10 = c10 / d; c11 = c11 / d; c12 = c12 / d; c13 = c13 / d;
        X[Xi + 4] = c10; X[Xi + 5] = c11; X[Xi + 6] = c12; X[Xi + 7] = c13;
        if (ni > 2) {
          u = L[L2 + i0];
          c20 = c20 - u * c00; c21 = c21 - u * c01; c22 = c22 - u * c02; c23 = c23 - u * c03;
          u = L[L2 + i0 + 1];
          c20 = c20 - u * c10; c21 = c21 - u * c11; c22 = c22 - u * c12; c23 = c23 - u * c13;
          d = L[L2 + i0 + 2];
          c20 = c20 / d; c21 = c21 / d; c22 = c22 / d; c23 = c23 / d;
          X[Xi + 8] = c20; X[Xi + 9] = c21; X[Xi + 10] = c22; X[Xi + 11] = c23;
          if (ni > 3) {
            u = L[L3 + i0];
            c30 = c30 - u * c00; c31 = c31 - u * c01; c32 = c32 - u * c02; c33 = c33 - u * c03;
            u = L[L3 + i0 + 1];
            c30 = c30 - u * c10; c31 = c31 - u * c11; c32 = c32 - u * c12; c33 = c33 - u * c13;
            u = L[L3 + i0 + 2];
            c30 = c30 - u * c20; c31 = c31 - u * c21; c32 = c32 - u * c22; c33 = c33 - u * c23;
            d = L[L3 + i0 + 3];
            c30 = c30 / d; c31 = c31 / d; c32 = c32 / d; c33 = c33 / d;
            X[Xi + 12] = c30; X[Xi + 13] = c31; X[Xi + 14] = c32; X[Xi + 15] = c33;
          }
        }
      }
    }
    // Copy the panel out: out[i][e] = X[i][e] for e ≤ i, +0 above the diagonal.
    const ne = Math.min(4, p - e0);
    for (let i = 0; i < e0; i++) {
      const o = i * p + e0;
      for (let c = 0; c < ne; c++) out[o + c] = 0;
    }
    for (let i = e0; i < p; i++) {
      const o = i * p + e0;
      const s = (i - e0) << 2;
      for (let c = 0; c < ne; c++) out[o + c] = i >= e0 + c ? X[s + c] : 0;
    }
  }
}
