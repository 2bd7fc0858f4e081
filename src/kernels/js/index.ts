/**
 * Pure-JS kernels: the twin of the wasm kernels in assembly/. Straightforward loops that follow
 * the accumulation contract in ../types.ts exactly. (To be tuned; the order must not change.)
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { BATCH_ROWS, SQRT2, type DetectorPlan, type Kernels, type Moments1Sums, type ReadoutSums, type SymEigResult } from '../types.js';

/** dst(m×p) += Σ_r a[r]ᵢ b[r]ⱼ under the batch contract; a rows×m (stride sa), b rows×p (stride sb). */
function gemmTN(dst: Float64Array, a: Float64Array, sa: number, m: number, b: Float64Array, sb: number, p: number, rows: number, upper: boolean): void {
  for (let r0 = 0; r0 < rows; r0 += BATCH_ROWS) {
    const r1 = Math.min(rows, r0 + BATCH_ROWS);
    for (let i = 0; i < m; i++) {
      for (let j = upper ? i : 0; j < p; j++) {
        let s = 0;
        for (let r = r0; r < r1; r++) s += a[r * sa + i] * b[r * sb + j];
        dst[i * p + j] += s;
      }
    }
  }
}

function colSum(dst: Float64Array, a: Float64Array, m: number, rows: number): void {
  for (let r0 = 0; r0 < rows; r0 += BATCH_ROWS) {
    const r1 = Math.min(rows, r0 + BATCH_ROWS);
    for (let i = 0; i < m; i++) {
      let s = 0;
      for (let r = r0; r < r1; r++) s += a[r * m + i];
      dst[i] += s;
    }
  }
}

/** out(rows×mo) = in(rows×mi)·Mᵀ with M mo×mi. */
function project(out: Float64Array, inp: Float64Array, M: Float64Array, mo: number, mi: number, rows: number): void {
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < mo; i++) {
      let s = 0;
      for (let j = 0; j < mi; j++) s += M[i * mi + j] * inp[r * mi + j];
      out[r * mo + i] = s;
    }
  }
}

export const jsKernels: Kernels = {
  name: 'js',

  moments1(sums: Moments1Sums, x, y, rows, d, l) {
    gemmTN(sums.xx, x, d, d, x, d, d, rows, true);
    gemmTN(sums.yx, y, l, l, x, d, d, rows, false);
    gemmTN(sums.yy, y, l, l, y, l, l, rows, true);
    colSum(sums.xs, x, d, rows);
    colSum(sums.ys, y, l, rows);
  },

  detector(T: Float64Array, plan: DetectorPlan, x, y, rows) {
    const { d, l, hDim, zDim, Rx, Ry, Ph, literal } = plan;
    const mh = (hDim * (hDim + 1)) / 2;
    const mz = (zDim * (zDim + 1)) / 2;
    const B = Math.min(rows, BATCH_ROWS);
    const h = new Float64Array(B * hDim);
    const z = new Float64Array(B * zDim);
    const p = new Float64Array(B * zDim);
    const F = new Float64Array(B * mh);
    const G = new Float64Array(B * mz);
    for (let r0 = 0; r0 < rows; r0 += BATCH_ROWS) {
      const nb = Math.min(rows, r0 + BATCH_ROWS) - r0;
      project(h, x.subarray(r0 * d), Rx, hDim, d, nb);
      project(z, y.subarray(r0 * l), Ry, zDim, l, nb);
      project(p, h, Ph, zDim, hDim, nb);
      for (let r = 0; r < nb; r++) {
        let o = r * mh;
        for (let i = 0; i < hDim; i++) {
          const hi = h[r * hDim + i];
          F[o++] = hi * hi;
          for (let j = i + 1; j < hDim; j++) F[o++] = hi * h[r * hDim + j] * SQRT2;
        }
        o = r * mz;
        const zr = r * zDim;
        for (let i = 0; i < zDim; i++) {
          const pi = p[zr + i];
          const ei = literal ? z[zr + i] : z[zr + i] - 0.5 * pi;
          for (let j = i; j < zDim; j++) {
            const pj = p[zr + j];
            const ej = literal ? z[zr + j] : z[zr + j] - 0.5 * pj;
            let v = literal ? ei * ej - 0.5 * (pi * pj) : ei * ej - 0.25 * (pi * pj);
            if (j > i) v = v * SQRT2;
            G[o++] = v;
          }
        }
      }
      gemmTN(T, F, mh, mh, G, mz, mz, nb, false);
    }
  },

  readout(sums: ReadoutSums, W, k, x, y, rows, d, l) {
    const B = Math.min(rows, BATCH_ROWS);
    const rbuf = new Float64Array(B * k);
    for (let r0 = 0; r0 < rows; r0 += BATCH_ROWS) {
      const nb = Math.min(rows, r0 + BATCH_ROWS) - r0;
      project(rbuf, x.subarray(r0 * d), W, k, d, nb);
      for (let t = 0; t < nb * k; t++) rbuf[t] = rbuf[t] > 0 ? rbuf[t] : 0;
      gemmTN(sums.rr, rbuf, k, k, rbuf, k, k, nb, true);
      gemmTN(sums.ry, rbuf, k, k, y.subarray(r0 * l), l, l, nb, false);
    }
  },

  symEig(a: Float64Array, m: number): SymEigResult {
    // Placeholder until the hand-written twin lands: ml-matrix (JAMA tred2/tql2).
    const M = new Matrix(m, m);
    for (let i = 0; i < m; i++) for (let j = i; j < m; j++) { M.set(i, j, a[i * m + j]); M.set(j, i, a[i * m + j]); }
    const e = new EigenvalueDecomposition(M, { assumeSymmetric: true });
    const vals = e.realEigenvalues;
    const order = vals.map((_, i) => i).sort((p, q) => vals[p] - vals[q]);
    const V = e.eigenvectorMatrix;
    const values = new Float64Array(m);
    const vectors = new Float64Array(m * m);
    order.forEach((src, dst) => {
      values[dst] = vals[src];
      for (let i = 0; i < m; i++) vectors[i * m + dst] = V.get(i, src);
    });
    return { values, vectors };
  },
};
