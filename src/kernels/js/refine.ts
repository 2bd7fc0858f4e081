/**
 * The refinement's sums in JS (twin of assembly/refine.ts; definitions: Kernels.refineVarPro,
 * Kernels.refineHessian and Kernels.refineGradient in ../types.ts). Per batch of ≤ 256 rows:
 *   R = relu(X·Wᵀ)                  row-major, leading dimension kPad (a panel layout)
 *   Xp, Yp                           packed panels of the batch; Y' = ρ·Y, R' = ρ·R when weighted
 *   rr += RᵀR' (upper), ry += RᵀY'   gemmTN over every row
 *   per unit i: the rows with r_i > 0, in increasing order, are gathered into packed panels
 *   (X_i, Y'_i, R'_i), then S1_i += X_iᵀY'_i and S2_i += X_iᵀR'_i (gemmTN over those rows only).
 *   Hessian: per unit pair i ≤ i2, the rows where both are active are gathered (X'_p, X_p);
 *   D = X'_pᵀX_p (upper, into a zeroed d×d scratch: D = +0 + s = s exactly), then
 *   M[(i,i2)] += D in triangle order, and D is cleared again.
 * Skipping a unit's (pair's) inactive rows halves (quarters) the work; it is deterministic
 * because both backends test the same bits of R. Every output element still sums its terms in
 * increasing row order from +0 and is added to its destination once per batch.
 */
import { BATCH_ROWS, type GradientSums, type VarProSums } from '../types.js';
import { PANEL, gemmTN, packPanels, packWT, pad4, project, scalePanels } from './gemm.js';
import { scratch } from './scratch.js';

/** Row indices of one batch (kernels are synchronous and never re-entered: one set suffices). */
const idxA = new Int32Array(BATCH_ROWS);
const idxB = new Int32Array(BATCH_ROWS);

/** Rows r < nb with R[r][i] > 0 (R row-major, leading dimension ld), into idx; returns the count. */
function activeRows(idx: Int32Array, R: Float64Array, ld: number, i: number, nb: number): number {
  let n = 0;
  for (let r = 0, q = i; r < nb; r++, q += ld) if (R[q] > 0) idx[n++] = r;
  return n;
}

/**
 * Gather rows idx[0..n) of an operand in panel layout (src: panel stride sPs, row stride sRs,
 * from offset 0) into packed panels dst[ip][q][4] (panel stride PANEL): 4 values per panel.
 */
function gather(dst: Float64Array, src: Float64Array, sPs: number, sRs: number, panels: number, idx: Int32Array, n: number): void {
  for (let ip = 0; ip < panels; ip++) {
    const s0 = ip * sPs;
    let q = ip * PANEL;
    for (let t = 0; t < n; t++, q += 4) {
      const s = s0 + idx[t] * sRs;
      dst[q] = src[s]; dst[q + 1] = src[s + 1]; dst[q + 2] = src[s + 2]; dst[q + 3] = src[s + 3];
    }
  }
}

export function refineVarPro(
  sums: VarProSums, W: Float64Array, k: number, x: Float64Array, y: Float64Array, rows: number, d: number, l: number,
  rho: Float64Array | null,
): void {
  const B = BATCH_ROWS;
  const kPad = pad4(k), dPanels = pad4(d) >> 2, lPanels = pad4(l) >> 2, kPanels = kPad >> 2;
  const WT = packWT(W, k, d, scratch('rf.wt', kPad * d));
  const R = scratch('rf.r', B * kPad);
  const Xp = scratch('rf.x', dPanels * PANEL);
  const Yp = scratch('rf.y', lPanels * PANEL);
  // Right operands: weighted copies with weights, the plain ones without.
  const Rr = rho ? scratch('rf.rw', B * kPad) : R;
  const Yr = rho ? scratch('rf.yw', lPanels * PANEL) : Yp;
  const Gx = scratch('rf.gx', dPanels * PANEL);
  const Gy = scratch('rf.gy', lPanels * PANEL);
  const Gr = scratch('rf.gr', kPanels * PANEL);
  const { rr, ry, S1, S2, yy } = sums;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const nb = Math.min(rows - r0, B);
    project(R, kPad, false, x, r0 * d, d, 1, nb, d, WT, k, true);
    packPanels(Xp, x, d, r0, nb, d);
    packPanels(Yp, y, l, r0, nb, l);
    if (rho) {
      scalePanels(Rr, R, k, 4, kPad, nb, rho, r0);
      scalePanels(Yr, Yp, l, PANEL, 4, nb, rho, r0);
    }
    gemmTN(rr, k, k, k, R, 0, 4, kPad, Rr, 0, 4, kPad, nb, true);
    gemmTN(ry, l, k, l, R, 0, 4, kPad, Yr, 0, PANEL, 4, nb, false);
    // yy: per row q = Σ_o y_o·y'_o (increasing o from +0), then the batch sum in row order.
    let s = 0;
    for (let r = 0; r < nb; r++) {
      const o = (r0 + r) * l;
      let q = 0;
      if (rho) {
        const w = rho[r0 + r];
        for (let j = 0; j < l; j++) { const v = y[o + j]; q += v * (w * v); }
      } else {
        for (let j = 0; j < l; j++) { const v = y[o + j]; q += v * v; }
      }
      s += q;
    }
    yy[0] += s;
    for (let i = 0; i < k; i++) {
      const n = activeRows(idxA, R, kPad, i, nb);
      if (n === 0) continue;
      gather(Gx, Xp, PANEL, 4, dPanels, idxA, n);
      gather(Gy, Yr, PANEL, 4, lPanels, idxA, n);
      gather(Gr, Rr, 4, kPad, kPanels, idxA, n);
      gemmTN(S1.subarray(i * d * l), l, d, l, Gx, 0, PANEL, 4, Gy, 0, PANEL, 4, n, false);
      gemmTN(S2.subarray(i * d * k), k, d, k, Gx, 0, PANEL, 4, Gr, 0, PANEL, 4, n, false);
    }
  }
}

export function refineHessian(M: Float64Array, W: Float64Array, k: number, x: Float64Array, rows: number, d: number, rho: Float64Array | null): void {
  const B = BATCH_ROWS;
  const kPad = pad4(k), dPanels = pad4(d) >> 2;
  const md = (d * (d + 1)) / 2;
  const WT = packWT(W, k, d, scratch('rh.wt', kPad * d));
  const R = scratch('rh.r', B * kPad);
  const Xp = scratch('rh.x', dPanels * PANEL);
  const Xl = rho ? scratch('rh.xw', dPanels * PANEL) : Xp; // left operand: ρ·x when weighted
  const Gl = scratch('rh.gl', dPanels * PANEL);
  const Gr = rho ? scratch('rh.gr', dPanels * PANEL) : Gl;
  const D = scratch('rh.d', d * d);
  for (let r0 = 0; r0 < rows; r0 += B) {
    const nb = Math.min(rows - r0, B);
    project(R, kPad, false, x, r0 * d, d, 1, nb, d, WT, k, true);
    packPanels(Xp, x, d, r0, nb, d);
    if (rho) scalePanels(Xl, Xp, d, PANEL, 4, nb, rho, r0);
    D.fill(0, 0, d * d);
    let p = 0; // triIndex(i, i2, k): pairs enumerated row by row
    for (let i = 0; i < k; i++) {
      const nI = activeRows(idxA, R, kPad, i, nb);
      for (let i2 = i; i2 < k; i2++, p++) {
        if (nI === 0) continue;
        let ids = idxA;
        let n = nI;
        if (i2 !== i) {
          ids = idxB;
          n = 0;
          for (let t = 0, q = i2; t < nI; t++) if (R[idxA[t] * kPad + q] > 0) idxB[n++] = idxA[t];
          if (n === 0) continue;
        }
        gather(Gl, Xl, PANEL, 4, dPanels, ids, n);
        if (rho) gather(Gr, Xp, PANEL, 4, dPanels, ids, n);
        gemmTN(D, d, d, d, Gl, 0, PANEL, 4, Gr, 0, PANEL, 4, n, true);
        let o = p * md;
        for (let j = 0; j < d; j++) {
          for (let q = j * d + j, e = (j + 1) * d; q < e; q++, o++) {
            M[o] += D[q];
            D[q] = 0;
          }
        }
      }
    }
  }
}

/**
 * The refinement's all-sample sums at (A, W) (Kernels.refineGradient), unweighted. Per batch:
 *   R = relu(X·Wᵀ), P = R·Aᵀ (row-major, leading dimensions kPad and lPad), E = Y − P in place,
 *   the per-row sums of squares of E and Y, U = E·A with U' = U on the active units (+0 else),
 *   then rr += RᵀR (upper), ry += RᵀY, gW += U'ᵀX (gemmTN over every row).
 */
export function refineGradient(
  sums: GradientSums, W: Float64Array, A: Float64Array, k: number, x: Float64Array, y: Float64Array, rows: number, d: number, l: number,
): void {
  const B = BATCH_ROWS;
  const kPad = pad4(k), lPad = pad4(l);
  const WT = packWT(W, k, d, scratch('rg.wt', kPad * d));
  const AT = packWT(A, l, k, scratch('rg.at', lPad * k));
  const At = scratch('rg.t', k * l);
  for (let o = 0; o < l; o++) for (let i = 0; i < k; i++) At[i * l + o] = A[o * k + i];
  const AtT = packWT(At, k, l, scratch('rg.att', kPad * l));
  const R = scratch('rg.r', B * kPad);
  const P = scratch('rg.p', B * lPad);
  const U = scratch('rg.u', B * kPad);
  const Xp = scratch('rg.x', (pad4(d) >> 2) * PANEL);
  const Yp = scratch('rg.y', (lPad >> 2) * PANEL);
  const { rr, ry, gW, ee, yy } = sums;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const nb = Math.min(rows - r0, B);
    project(R, kPad, false, x, r0 * d, d, 1, nb, d, WT, k, true);
    project(P, lPad, false, R, 0, kPad, 1, nb, k, AT, l, false);
    let se = 0, sy = 0;
    for (let r = 0; r < nb; r++) {
      const yr = (r0 + r) * l, pr = r * lPad;
      let qe = 0, qy = 0;
      for (let o = 0; o < l; o++) {
        const v = y[yr + o];
        const e = v - P[pr + o];
        P[pr + o] = e;
        qe += e * e;
        qy += v * v;
      }
      se += qe;
      sy += qy;
    }
    ee[0] += se;
    yy[0] += sy;
    project(U, kPad, false, P, 0, lPad, 1, nb, l, AtT, k, false);
    for (let r = 0; r < nb; r++) for (let i = 0, q = r * kPad; i < k; i++) if (!(R[q + i] > 0)) U[q + i] = 0;
    packPanels(Xp, x, d, r0, nb, d);
    packPanels(Yp, y, l, r0, nb, l);
    gemmTN(rr, k, k, k, R, 0, 4, kPad, R, 0, 4, kPad, nb, true);
    gemmTN(ry, l, k, l, R, 0, 4, kPad, Yp, 0, PANEL, 4, nb, false);
    gemmTN(gW, d, k, d, U, 0, 4, kPad, Xp, 0, PANEL, 4, nb, false);
  }
}
