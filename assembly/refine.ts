// The refinement's sums, one batch each. Twin: src/kernels/js/refine.ts. Definitions and the
// order of every sum: Kernels.refineVarPro and Kernels.refineHessian in src/kernels/types.ts.
//
// Sparsity: unit i's sums S1_i, S2_i only take the rows where r_i > 0, and the Hessian block of
// a unit pair only the rows where both units are active. Those rows (in increasing order) are
// gathered into packed panels and fed to gemmTN with nb = their count, so every output element
// still sums its terms in increasing row order from +0, once per batch. Which rows are active
// is read from the same bits of R in both backends, so the skipping is deterministic.
import { PANEL_BYTES, gemmTN, packPanels, project, scalePanels } from './gemm';

/** Rows r < nb with R[r][i] > 0 (R row-major, row stride rs bytes) as i32 into idx; returns the count. */
// @ts-ignore: decorator
@inline function activeRows(idx: usize, R: usize, rs: usize, i: i32, nb: i32): i32 {
  let n = 0;
  let q = R + (<usize>i << 3);
  for (let r = 0; r < nb; r++) {
    if (load<f64>(q) > 0.0) {
      store<i32>(idx + (<usize>n << 2), r);
      n++;
    }
    q += rs;
  }
  return n;
}

/**
 * Gather rows idx[0..n) of an operand in panel layout (panel stride sPs, row stride sRs, bytes)
 * into packed panels dst[ip][q][4] (panel stride PANEL_BYTES): 32 bytes per row and panel.
 */
function gather(dst: usize, src: usize, sPs: usize, sRs: usize, panels: i32, idx: usize, n: i32): void {
  for (let ip = 0; ip < panels; ip++) {
    const s0 = src + <usize>ip * sPs;
    let q = dst + <usize>ip * PANEL_BYTES;
    for (let t = 0; t < n; t++) {
      const s = s0 + <usize>load<i32>(idx + (<usize>t << 2)) * sRs;
      v128.store(q, v128.load(s));
      v128.store(q, v128.load(s, 16), 16);
      q += 32;
    }
  }
}

/**
 * Accumulate one batch of nb ≤ 256 rows into the variable-projection sums (Kernels.refineVarPro):
 *   rr (k×k, upper) += RᵀR', ry (k×l) += RᵀY', yy[0] += Σ_r Σ_o y·y',
 *   S1 + i·d·l (d×l) += X_iᵀY'_i, S2 + i·d·k (d×k) += X_iᵀR'_i over the rows where r_i > 0,
 * with R = relu(X·Wᵀ) and, weighted (rho ≠ 0), Y' = ρ·Y, R' = ρ·R (else Y' = Y, R' = R).
 * X: nb×d, Y: nb×l row-major (raw batch); WT = packWT(W).
 * Scratch (doubles; pad(n) = 4·ceil(n/4)): R 256·pad(k) (row-major, ld pad(k)); Xp, Gx
 * pad(d)·256; Yp, Gy pad(l)·256; Gr pad(k)·256 (packed panels); idx 256 i32.
 * Weighted: rho (nb doubles), Rw the size of R, Yw the size of Yp.
 */
export function refineVarProBatch(
  rr: usize, ry: usize, S1: usize, S2: usize, yy: usize,
  X: usize, Y: usize, nb: i32, d: i32, l: i32, k: i32, WT: usize,
  R: usize, Xp: usize, Yp: usize, Gx: usize, Gy: usize, Gr: usize, idx: usize,
  rho: usize, Rw: usize, Yw: usize,
): void {
  const kPad = (k + 3) & ~3;
  const rs = <usize>kPad << 3;
  project(R, kPad, 0, X, <usize>d << 3, 8, nb, d, WT, k, 1);
  packPanels(Xp, X, d, nb, d);
  packPanels(Yp, Y, l, nb, l);
  let Rr = R, Yr = Yp;
  if (rho != 0) {
    scalePanels(Rw, R, k, 32, rs, nb, rho);
    scalePanels(Yw, Yp, l, PANEL_BYTES, 32, nb, rho);
    Rr = Rw;
    Yr = Yw;
  }
  gemmTN(rr, k, k, k, R, 32, rs, Rr, 32, rs, nb, 1);
  gemmTN(ry, l, k, l, R, 32, rs, Yr, PANEL_BYTES, 32, nb, 0);
  // yy: per row q = Σ_o y_o·y'_o (increasing o from +0), then the batch sum in row order.
  let s: f64 = 0.0;
  for (let r = 0; r < nb; r++) {
    const yr = Y + ((<usize>r * l) << 3);
    let q: f64 = 0.0;
    if (rho != 0) {
      const w = load<f64>(rho + (<usize>r << 3));
      for (let j = 0; j < l; j++) {
        const v = load<f64>(yr + (<usize>j << 3));
        q += v * (w * v);
      }
    } else {
      for (let j = 0; j < l; j++) {
        const v = load<f64>(yr + (<usize>j << 3));
        q += v * v;
      }
    }
    s += q;
  }
  store<f64>(yy, load<f64>(yy) + s);
  const dPanels = (d + 3) >> 2, lPanels = (l + 3) >> 2, kPanels = kPad >> 2;
  for (let i = 0; i < k; i++) {
    const n = activeRows(idx, R, rs, i, nb);
    if (n == 0) continue;
    gather(Gx, Xp, PANEL_BYTES, 32, dPanels, idx, n);
    gather(Gy, Yr, PANEL_BYTES, 32, lPanels, idx, n);
    gather(Gr, Rr, 32, rs, kPanels, idx, n);
    gemmTN(S1 + ((<usize>i * d * l) << 3), l, d, l, Gx, PANEL_BYTES, 32, Gy, PANEL_BYTES, 32, n, 0);
    gemmTN(S2 + ((<usize>i * d * k) << 3), k, d, k, Gx, PANEL_BYTES, 32, Gr, PANEL_BYTES, 32, n, 0);
  }
}

/**
 * Accumulate one batch of nb ≤ 256 rows into the Gauss–Newton pieces (Kernels.refineHessian):
 * M (mk×md, row p = triIndex(i, i2, k), column triIndex(j, j2, d)) += X'_pᵀX_p over the rows
 * where units i and i2 are both active, X' = ρ·X when weighted (rho ≠ 0), else X.
 * X: nb×d row-major; WT = packWT(W). Scratch (doubles): R 256·pad(k); Xp, Gl, Gr pad(d)·256
 * (packed panels); idxI, idxP 256 i32 each; D d·d (the pair's batch sums, cleared as read);
 * weighted: Xw pad(d)·256 and rho (nb doubles).
 */
export function refineHessianBatch(
  M: usize, X: usize, nb: i32, d: i32, k: i32, WT: usize,
  R: usize, Xp: usize, Gl: usize, Gr: usize, idxI: usize, idxP: usize, D: usize,
  rho: usize, Xw: usize,
): void {
  const kPad = (k + 3) & ~3;
  const rs = <usize>kPad << 3;
  const dPanels = (d + 3) >> 2;
  const md = (d * (d + 1)) >> 1;
  project(R, kPad, 0, X, <usize>d << 3, 8, nb, d, WT, k, 1);
  packPanels(Xp, X, d, nb, d);
  let Xl = Xp, Gb = Gl;
  if (rho != 0) {
    scalePanels(Xw, Xp, d, PANEL_BYTES, 32, nb, rho);
    Xl = Xw;
    Gb = Gr;
  }
  memory.fill(D, 0, (<usize>d * d) << 3);
  let p = 0; // triIndex(i, i2, k): pairs enumerated row by row
  for (let i = 0; i < k; i++) {
    const nI = activeRows(idxI, R, rs, i, nb);
    for (let i2 = i; i2 < k; i2++, p++) {
      if (nI == 0) continue;
      let ids = idxI;
      let n = nI;
      if (i2 != i) {
        ids = idxP;
        n = 0;
        const col = R + (<usize>i2 << 3);
        for (let t = 0; t < nI; t++) {
          const r = load<i32>(idxI + (<usize>t << 2));
          if (load<f64>(col + <usize>r * rs) > 0.0) {
            store<i32>(idxP + (<usize>n << 2), r);
            n++;
          }
        }
        if (n == 0) continue;
      }
      gather(Gl, Xl, PANEL_BYTES, 32, dPanels, ids, n);
      if (rho != 0) gather(Gr, Xp, PANEL_BYTES, 32, dPanels, ids, n);
      gemmTN(D, d, d, d, Gl, PANEL_BYTES, 32, Gb, PANEL_BYTES, 32, n, 1);
      let o = M + ((<usize>p * md) << 3);
      for (let j = 0; j < d; j++) {
        let q = D + ((<usize>(j * d + j)) << 3);
        const e = D + ((<usize>((j + 1) * d)) << 3);
        for (; q < e; q += 8, o += 8) {
          store<f64>(o, load<f64>(o) + load<f64>(q));
          store<f64>(q, 0.0);
        }
      }
    }
  }
}

/**
 * Accumulate one batch of nb ≤ 256 rows into the refinement's all-sample sums at (A, W)
 * (Kernels.refineGradient), unweighted:
 *   R = relu(X·Wᵀ)    P = R·Aᵀ    E = Y − P    U = E·A, U'[r][i] = R[r][i] > 0 ? U[r][i] : 0
 *   rr (k×k, upper) += RᵀR, ry (k×l) += RᵀY, gW (k×d) += U'ᵀX,
 *   ee[0] += Σ_r Σ_o E·E, yy[0] += Σ_r Σ_o Y·Y (per row over o from +0, then in row order).
 * X: nb×d, Y: nb×l row-major (raw batch). WT = packWT(W) (k×d), AT = packWT(A) (A l×k),
 * AtT = packWT(Aᵀ) (k×l). Scratch (doubles; pad(n) = 4·ceil(n/4)): R and U 256·pad(k)
 * (row-major, ld pad(k)); P 256·pad(l) (row-major, ld pad(l); holds E once formed); Xp pad(d)·256
 * and Yp pad(l)·256 (packed panels). `project` works on groups of 4 rows: rows past nb of R, P
 * and U hold junk that feeds no output.
 */
export function refineGradientBatch(
  rr: usize, ry: usize, gW: usize, ee: usize, yy: usize,
  X: usize, Y: usize, nb: i32, d: i32, l: i32, k: i32, WT: usize, AT: usize, AtT: usize,
  R: usize, P: usize, U: usize, Xp: usize, Yp: usize,
): void {
  const kPad = (k + 3) & ~3, lPad = (l + 3) & ~3;
  const rs = <usize>kPad << 3, ps = <usize>lPad << 3;
  project(R, kPad, 0, X, <usize>d << 3, 8, nb, d, WT, k, 1);
  project(P, lPad, 0, R, rs, 8, nb, k, AT, l, 0);
  // E = Y − P in place, and the per-row sums of squares of E and Y.
  let se: f64 = 0.0, sy: f64 = 0.0;
  for (let r = 0; r < nb; r++) {
    const yr = Y + ((<usize>r * l) << 3);
    const pr = P + <usize>r * ps;
    let qe: f64 = 0.0, qy: f64 = 0.0;
    for (let o = 0; o < l; o++) {
      const v = load<f64>(yr + (<usize>o << 3));
      const e = v - load<f64>(pr + (<usize>o << 3));
      store<f64>(pr + (<usize>o << 3), e);
      qe += e * e;
      qy += v * v;
    }
    se += qe;
    sy += qy;
  }
  store<f64>(ee, load<f64>(ee) + se);
  store<f64>(yy, load<f64>(yy) + sy);
  project(U, kPad, 0, P, ps, 8, nb, l, AtT, k, 0);
  // U' = U on the active units, +0 elsewhere.
  for (let r = 0; r < nb; r++) {
    const rr0 = R + <usize>r * rs, ur = U + <usize>r * rs;
    for (let i = 0; i < k; i++) {
      const at = <usize>i << 3;
      if (!(load<f64>(rr0 + at) > 0.0)) store<f64>(ur + at, 0.0);
    }
  }
  packPanels(Xp, X, d, nb, d);
  packPanels(Yp, Y, l, nb, l);
  gemmTN(rr, k, k, k, R, 32, rs, R, 32, rs, nb, 1);
  gemmTN(ry, l, k, l, R, 32, rs, Yp, PANEL_BYTES, 32, nb, 0);
  gemmTN(gW, d, k, d, U, 32, rs, Xp, PANEL_BYTES, 32, nb, 0);
}
