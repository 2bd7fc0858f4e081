/**
 * Pass 2 in JS (twin of assembly/detector.ts). Per batch of ≤ 256 rows:
 *   H = X·Rxᵀ, Z = Y·Ryᵀ, P = H·Phᵀ   (feature-major: output i of row r at [i·256 + r])
 *   F, G = upper-triangle features, one panel of 4 features per pass over the rows, written
 *          straight into packed panels [f/4][r][4]
 *   T += FᵀG                           (4×4-tiled gemmTN on the panels; float32 products and
 *                                       batch sums with plan.float32, gemm32.ts)
 * Feature formulas and the √2 weighting: DetectorPlan in ../types.ts. Layouts differ from the
 * wasm kernel where convenient; every value is formed by the same IEEE operations.
 */
import { BATCH_ROWS, SQRT2, type DetectorPlan } from '../types.js';
import { PANEL, gemmTN, packWT, pad4, project } from './gemm.js';
import { gemmTNf32, toF32Panels } from './gemm32.js';
import { scratch, scratch32 } from './scratch.js';

export function detector(T: Float64Array, plan: DetectorPlan, x: Float64Array, y: Float64Array, rows: number, rho: Float64Array | null): void {
  const { d, l, hDim, zDim, Rx, Ry, Ph, literal } = plan;
  const hPad = pad4(hDim);
  const zPad = pad4(zDim);
  const mh = (hDim * (hDim + 1)) / 2;
  const mz = (zDim * (zDim + 1)) / 2;
  const B = BATCH_ROWS;
  const RxT = packWT(Rx, hDim, d, scratch('dt.rx', hPad * d));
  const RyT = packWT(Ry, zDim, l, scratch('dt.ry', zPad * l));
  const PhT = packWT(Ph, zDim, hDim, scratch('dt.ph', zPad * hDim));
  // Feature-major ("transposed") batch buffers: value of output i for row r at [i·B + r].
  const Ht = scratch('dt.h', B * hPad);
  const Zt = scratch('dt.z', B * zPad);
  const Pt = scratch('dt.p', B * zPad);
  const Et = scratch('dt.e', B * zDim);
  const Fp = scratch('dt.f', (pad4(mh) >> 2) * PANEL);
  const Gp = scratch('dt.g', (pad4(mz) >> 2) * PANEL);
  const Fs = scratch32('dt.fs', plan.float32 ? (pad4(mh) >> 2) * PANEL : 0);
  const Gs = scratch32('dt.gs', plan.float32 ? (pad4(mz) >> 2) * PANEL : 0);
  for (let r0 = 0; r0 < rows; r0 += B) {
    const nb = Math.min(rows - r0, B);
    project(Ht, 0, true, x, r0 * d, d, 1, nb, d, RxT, hDim, false);
    project(Zt, 0, true, y, r0 * l, l, 1, nb, l, RyT, zDim, false);
    project(Pt, 0, true, Ht, 0, 1, B, nb, hDim, PhT, zDim, false);
    hFeatures(Fp, Ht, hDim, nb);
    qFeatures(Gp, Zt, Pt, Et, zDim, nb, literal, rho, r0);
    if (plan.float32) {
      toF32Panels(Fs, Fp, mh, nb);
      toF32Panels(Gs, Gp, mz, nb);
      gemmTNf32(T, mz, mh, mz, Fs, Gs, nb);
    } else {
      gemmTN(T, mz, mh, mz, Fp, 0, PANEL, 4, Gp, 0, PANEL, 4, nb, false);
    }
  }
}

/**
 * Feature index tables for an m-vector, padded to a multiple of 4: feature f is (I[f], J[f]),
 * i ≤ j in row-major upper order, with weight W[f] = 1 on the diagonal and SQRT2 off it
 * (v·1 = v exactly, so diagonal features keep the plain product). Padding: (0, 0), weight 0.
 */
interface Pairs { m: number; I: Int32Array; J: Int32Array; W: Float64Array }
const pairCache = new Map<number, Pairs>();
function pairs(m: number): Pairs {
  let p = pairCache.get(m);
  if (!p) {
    const n = pad4((m * (m + 1)) / 2);
    p = { m, I: new Int32Array(n), J: new Int32Array(n), W: new Float64Array(n) };
    let f = 0;
    for (let i = 0; i < m; i++) {
      for (let j = i; j < m; j++, f++) {
        p.I[f] = i;
        p.J[f] = j;
        p.W[f] = i === j ? 1 : SQRT2;
      }
    }
    if (pairCache.size > 64) pairCache.clear();
    pairCache.set(m, p);
  }
  return p;
}

/**
 * F(r) = (h_i·h_j)·w, i ≤ j: one panel (4 features) per pass over the rows, so each row's four
 * values are stored contiguously in the packed panels [f/4][r][4].
 */
function hFeatures(Fp: Float64Array, Ht: Float64Array, m: number, nb: number): void {
  const B = BATCH_ROWS;
  const { I, J, W } = pairs(m);
  for (let f = 0; f < I.length; f += 4) {
    const a0 = I[f] * B, b0 = J[f] * B, a1 = I[f + 1] * B, b1 = J[f + 1] * B;
    const a2 = I[f + 2] * B, b2 = J[f + 2] * B, a3 = I[f + 3] * B, b3 = J[f + 3] * B;
    const w0 = W[f], w1 = W[f + 1], w2 = W[f + 2], w3 = W[f + 3];
    let q = (f >> 2) * PANEL;
    for (let r = 0; r < nb; r++, q += 4) {
      Fp[q] = Ht[a0 + r] * Ht[b0 + r] * w0;
      Fp[q + 1] = Ht[a1 + r] * Ht[b1 + r] * w1;
      Fp[q + 2] = Ht[a2 + r] * Ht[b2 + r] * w2;
      Fp[q + 3] = Ht[a3 + r] * Ht[b3 + r] * w3;
    }
  }
}

/**
 * G(r) = (e_i·e_j − c·(p_i·p_j))·w: even detector e = z − 0.5·p, c = 0.25; literal e = z,
 * c = 0.5. Et: scratch for e, formed once per batch (the same value as forming it per use).
 * Weighted: then G(r) = G(r)·ρ with ρ = rho[r0 + r].
 */
function qFeatures(
  Gp: Float64Array, Zt: Float64Array, Pt: Float64Array, Et: Float64Array, m: number, nb: number, literal: boolean,
  rho: Float64Array | null, r0: number,
): void {
  const B = BATCH_ROWS;
  const c = literal ? 0.5 : 0.25;
  let E = Zt;
  if (!literal) {
    E = Et;
    for (let i = 0; i < m; i++) {
      const o = i * B;
      for (let r = 0; r < nb; r++) Et[o + r] = Zt[o + r] - 0.5 * Pt[o + r];
    }
  }
  const { I, J, W } = pairs(m);
  for (let f = 0; f < I.length; f += 4) {
    const a0 = I[f] * B, b0 = J[f] * B, a1 = I[f + 1] * B, b1 = J[f + 1] * B;
    const a2 = I[f + 2] * B, b2 = J[f + 2] * B, a3 = I[f + 3] * B, b3 = J[f + 3] * B;
    const w0 = W[f], w1 = W[f + 1], w2 = W[f + 2], w3 = W[f + 3];
    let q = (f >> 2) * PANEL;
    if (!rho) {
      for (let r = 0; r < nb; r++, q += 4) {
        Gp[q] = (E[a0 + r] * E[b0 + r] - c * (Pt[a0 + r] * Pt[b0 + r])) * w0;
        Gp[q + 1] = (E[a1 + r] * E[b1 + r] - c * (Pt[a1 + r] * Pt[b1 + r])) * w1;
        Gp[q + 2] = (E[a2 + r] * E[b2 + r] - c * (Pt[a2 + r] * Pt[b2 + r])) * w2;
        Gp[q + 3] = (E[a3 + r] * E[b3 + r] - c * (Pt[a3 + r] * Pt[b3 + r])) * w3;
      }
    } else {
      for (let r = 0; r < nb; r++, q += 4) {
        const w = rho[r0 + r];
        Gp[q] = ((E[a0 + r] * E[b0 + r] - c * (Pt[a0 + r] * Pt[b0 + r])) * w0) * w;
        Gp[q + 1] = ((E[a1 + r] * E[b1 + r] - c * (Pt[a1 + r] * Pt[b1 + r])) * w1) * w;
        Gp[q + 2] = ((E[a2 + r] * E[b2 + r] - c * (Pt[a2 + r] * Pt[b2 + r])) * w2) * w;
        Gp[q + 3] = ((E[a3 + r] * E[b3 + r] - c * (Pt[a3 + r] * Pt[b3 + r])) * w3) * w;
      }
    }
  }
}
