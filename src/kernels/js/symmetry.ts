/** The symmetry test's sums in JS (twin of assembly/symmetry.ts; definition: Moments1Sums.odd in ../types.ts). */
import { BATCH_ROWS } from '../types.js';

export function oddMoments(out: Float64Array, x: Float64Array, rows: number, d: number, rho?: Float64Array | null): void {
  for (let r0 = 0; r0 < rows; r0 += BATCH_ROWS) {
    const r1 = Math.min(rows, r0 + BATCH_ROWS);
    for (let j = 0; j < d; j++) {
      let s1 = 0, v1 = 0, s3 = 0, v3 = 0;
      for (let r = r0, o = r0 * d + j; r < r1; r++, o += d) {
        const v = x[o];
        const wv = rho ? rho[r] * v : v;
        const wv3 = wv * v * v;
        s1 += wv;
        v1 += wv * wv;
        s3 += wv3;
        v3 += wv3 * wv3;
      }
      out[j] += s1;
      out[d + j] += v1;
      out[2 * d + j] += s3;
      out[3 * d + j] += v3;
    }
  }
}
