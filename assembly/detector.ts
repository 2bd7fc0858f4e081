// Pass 2: the detector matrix T += Σ F·Gᵀ, one batch. The dominant cost of the learner.
// Twin: src/kernels/js/detector.ts. Feature definitions: DetectorPlan in src/kernels/types.ts.
import { BATCH, PANEL_BYTES, gemmTN, project } from './gemm';
import { gemmTNf32, toF32Panels } from './gemm32';

// @ts-ignore: decorator
@inline const SQRT2: f64 = 1.4142135623730951; // Math.SQRT2, the same double

/** Bytes between consecutive features of a feature-major (transposed) batch: BATCH rows. */
// @ts-ignore: decorator
@inline const FEAT_BYTES: usize = <usize>BATCH << 3;

/**
 * Accumulate one batch of nb ≤ 256 rows into T (mh×mz row-major), mh = hDim(hDim+1)/2,
 * mz = zDim(zDim+1)/2:
 *   H = X·Rxᵀ, Z = Y·Ryᵀ, P = H·Phᵀ       (project: dots in increasing inner index from +0)
 *   F[r] = upper-triangle features of H[r], G[r] = detector features of (Z[r], P[r])
 *   T += FᵀG                              (gemmTN on packed panels, contract order; with
 *                                          f32 ≠ 0 float32 products and batch sums, gemm32.ts)
 * X: nb×d, Y: nb×l row-major (raw batch). RxT/RyT/PhT = packWT(Rx/Ry/Ph).
 * Scratch, in doubles (pad(n) = 4·ceil(n/4)):
 *   Ht pad(hDim)·256, Zt pad(zDim)·256, Pt pad(zDim)·256, Et zDim·256: feature-major
 *     ("transposed", out + (i·256 + r)·8), so features are formed with lanes across rows;
 *   Fp 256·pad(mh), Gp 256·pad(mz): packed float64 panels [f/4][r][4];
 *   f32 ≠ 0 only: Fs 128·pad(mh), Fp as float32 4-wide panels; Gs 128·pad8(mz), Gp as
 *   float32 8-wide panels (pad8(n) = 8·ceil(n/8)).
 * Weighted (rho ≠ 0): rho holds the batch's weights (ρ_r at rho + r·8, readable up to row
 * 2·ceil(nb/2)); every G entry of row r is multiplied by ρ_r after it is formed (g' = g·ρ_r).
 */
export function detectorBatch(
  T: usize, X: usize, Y: usize, nb: i32, d: i32, l: i32, hDim: i32, zDim: i32,
  RxT: usize, RyT: usize, PhT: usize, literal: i32,
  Ht: usize, Zt: usize, Pt: usize, Et: usize, Fp: usize, Gp: usize, Fs: usize, Gs: usize, rho: usize, f32: i32,
): void {
  project(Ht, 0, 1, X, <usize>d << 3, 8, nb, d, RxT, hDim, 0);
  project(Zt, 0, 1, Y, <usize>l << 3, 8, nb, l, RyT, zDim, 0);
  project(Pt, 0, 1, Ht, 8, FEAT_BYTES, nb, hDim, PhT, zDim, 0);
  const mh = (hDim * (hDim + 1)) >> 1;
  const mz = (zDim * (zDim + 1)) >> 1;
  // Rows are handled in pairs (one f64x2); an odd nb also forms junk row nb, which exists
  // (buffers hold 256 rows) and is never read by gemmTN (it stops at nb).
  const nb2 = (nb + 1) & ~1;
  hFeatures(Fp, Ht, hDim, mh, nb2);
  qFeatures(Gp, Zt, Pt, Et, zDim, mz, nb2, literal, rho);
  if (f32) {
    // DetectorPlan.float32 (gemm32.ts): F as 4-wide panels (16 B rows), G as 8-wide (32 B rows).
    toF32Panels(Fs, PANEL_BYTES >> 1, Fp, PANEL_BYTES, mh, nb, 4);
    toF32Panels(Gs, PANEL_BYTES, Gp, PANEL_BYTES, mz, nb, 8);
    gemmTNf32(T, mz, mh, mz, Fs, PANEL_BYTES >> 1, Gs, PANEL_BYTES, nb);
  } else {
    gemmTN(T, mz, mh, mz, Fp, PANEL_BYTES, 32, Gp, PANEL_BYTES, 32, nb, 0);
  }
}

// Features are formed two at a time (f, f+1 with f even, so both sit in the same 4-wide panel)
// across all rows of the batch, two rows per step: f64x2 lanes = rows r, r+1 (independent
// outputs, the same per-element expression as the JS twin). A shuffle regroups the two
// features' values by row, and one v128 store writes each row's pair into the packed panels
// [f/4][r][4] (row stride 32 B). Feature f is the pair (i, j), i ≤ j, in row-major upper order;
// its weight w is 1 on the diagonal and SQRT2 off it (v·1 = v exactly, so the diagonal gets
// the plain product). Padding features (f ≥ mf) are formed from (0, 0) with weight 0: finite
// junk that only feeds outputs that are never written.

/** Next (i, j) in row-major upper-triangle order, packed as i·65536 + j (m ≤ 65535). */
// @ts-ignore: decorator
@inline function nextIJ(ij: i32, m: i32): i32 {
  const i = ij >>> 16;
  const j = (ij & 0xffff) + 1;
  return j < m ? (i << 16) | j : ((i + 1) << 16) | (i + 1);
}

/** F(r) = (h_i·h_j)·w over i ≤ j; Ht feature-major. */
function hFeatures(Fp: usize, Ht: usize, m: i32, mf: i32, nb2: i32): void {
  const mfPad = (mf + 3) & ~3;
  let ij = 0;
  for (let f = 0; f < mfPad; f += 2) {
    // Feature f = (i0, j0), f + 1 = (i1, j1); weights w0, w1.
    let i0 = 0, j0 = 0, i1 = 0, j1 = 0;
    let w0: f64 = 0.0, w1: f64 = 0.0;
    if (f < mf) { i0 = ij >>> 16; j0 = ij & 0xffff; w0 = i0 == j0 ? 1.0 : SQRT2; ij = nextIJ(ij, m); }
    if (f + 1 < mf) { i1 = ij >>> 16; j1 = ij & 0xffff; w1 = i1 == j1 ? 1.0 : SQRT2; ij = nextIJ(ij, m); }
    const a0 = Ht + <usize>i0 * FEAT_BYTES, b0 = Ht + <usize>j0 * FEAT_BYTES;
    const a1 = Ht + <usize>i1 * FEAT_BYTES, b1 = Ht + <usize>j1 * FEAT_BYTES;
    const wv0 = f64x2.splat(w0), wv1 = f64x2.splat(w1);
    let q = Fp + <usize>(f >> 2) * PANEL_BYTES + (<usize>(f & 3) << 3);
    const end = <usize>nb2 << 3;
    let o: usize = 0;
    do {
      const v0 = f64x2.mul(f64x2.mul(v128.load(a0 + o), v128.load(b0 + o)), wv0);
      const v1 = f64x2.mul(f64x2.mul(v128.load(a1 + o), v128.load(b1 + o)), wv1);
      v128.store(q, v128.shuffle<f64>(v0, v1, 0, 2));
      v128.store(q, v128.shuffle<f64>(v0, v1, 1, 3), 32);
      q += 64;
      o += 16;
    } while (o < end);
  }
}

/**
 * G(r) = (e_i·e_j − c·(p_i·p_j))·w: even detector e = z − 0.5·p, c = 0.25; literal e = z,
 * c = 0.5. Et: scratch for e (feature-major), formed once (the same value as per use).
 * rho ≠ 0: then G(r) = G(r)·ρ_r (lanes = rows r, r+1, so one v128 load of rho per step).
 */
function qFeatures(Gp: usize, Zt: usize, Pt: usize, Et: usize, m: i32, mf: i32, nb2: i32, literal: i32, rho: usize): void {
  const half = f64x2.splat(0.5);
  const cv = f64x2.splat(literal ? 0.5 : 0.25);
  let E = Zt;
  if (!literal) {
    E = Et;
    for (let i = 0; i < m; i++) {
      const o = <usize>i * FEAT_BYTES;
      for (let r = 0; r < nb2; r += 2) {
        const q = o + (<usize>r << 3);
        v128.store(Et + q, f64x2.sub(v128.load(Zt + q), f64x2.mul(half, v128.load(Pt + q))));
      }
    }
  }
  const mfPad = (mf + 3) & ~3;
  let ij = 0;
  for (let f = 0; f < mfPad; f += 2) {
    let i0 = 0, j0 = 0, i1 = 0, j1 = 0;
    let w0: f64 = 0.0, w1: f64 = 0.0;
    if (f < mf) { i0 = ij >>> 16; j0 = ij & 0xffff; w0 = i0 == j0 ? 1.0 : SQRT2; ij = nextIJ(ij, m); }
    if (f + 1 < mf) { i1 = ij >>> 16; j1 = ij & 0xffff; w1 = i1 == j1 ? 1.0 : SQRT2; ij = nextIJ(ij, m); }
    const ei0 = E + <usize>i0 * FEAT_BYTES, ej0 = E + <usize>j0 * FEAT_BYTES;
    const pi0 = Pt + <usize>i0 * FEAT_BYTES, pj0 = Pt + <usize>j0 * FEAT_BYTES;
    const ei1 = E + <usize>i1 * FEAT_BYTES, ej1 = E + <usize>j1 * FEAT_BYTES;
    const pi1 = Pt + <usize>i1 * FEAT_BYTES, pj1 = Pt + <usize>j1 * FEAT_BYTES;
    const wv0 = f64x2.splat(w0), wv1 = f64x2.splat(w1);
    let q = Gp + <usize>(f >> 2) * PANEL_BYTES + (<usize>(f & 3) << 3);
    const end = <usize>nb2 << 3;
    if (rho == 0) {
      let o: usize = 0;
      do {
        const v0 = f64x2.mul(f64x2.sub(
          f64x2.mul(v128.load(ei0 + o), v128.load(ej0 + o)),
          f64x2.mul(cv, f64x2.mul(v128.load(pi0 + o), v128.load(pj0 + o))),
        ), wv0);
        const v1 = f64x2.mul(f64x2.sub(
          f64x2.mul(v128.load(ei1 + o), v128.load(ej1 + o)),
          f64x2.mul(cv, f64x2.mul(v128.load(pi1 + o), v128.load(pj1 + o))),
        ), wv1);
        v128.store(q, v128.shuffle<f64>(v0, v1, 0, 2));
        v128.store(q, v128.shuffle<f64>(v0, v1, 1, 3), 32);
        q += 64;
        o += 16;
      } while (o < end);
    } else {
      let o: usize = 0;
      do {
        const w = v128.load(rho + o);
        const v0 = f64x2.mul(f64x2.mul(f64x2.sub(
          f64x2.mul(v128.load(ei0 + o), v128.load(ej0 + o)),
          f64x2.mul(cv, f64x2.mul(v128.load(pi0 + o), v128.load(pj0 + o))),
        ), wv0), w);
        const v1 = f64x2.mul(f64x2.mul(f64x2.sub(
          f64x2.mul(v128.load(ei1 + o), v128.load(ej1 + o)),
          f64x2.mul(cv, f64x2.mul(v128.load(pi1 + o), v128.load(pj1 + o))),
        ), wv1), w);
        v128.store(q, v128.shuffle<f64>(v0, v1, 0, 2));
        v128.store(q, v128.shuffle<f64>(v0, v1, 1, 3), 32);
        q += 64;
        o += 16;
      } while (o < end);
    }
  }
}
