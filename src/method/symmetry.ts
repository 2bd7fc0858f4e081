/**
 * A test of the method's one assumption, p(x) = p(−x), from pass-1 data.
 *
 * Under symmetry every odd moment of x vanishes (also under the even weights ρ, since ρ(x)p(x)
 * is symmetric too). Per input column j we accumulate the weighted first and third moments
 * and their self-normalized standard errors:
 *   z1_j = Σρx_j / √(Σρ²x_j²),   z3_j = Σρx_j³ / √(Σρ²x_j⁶),
 * each approximately N(0, 1) under symmetry (a t-statistic of a sum of independent zero-mean
 * terms). The largest |z| over the 2d statistics is compared with a family-wise threshold
 * √(2·ln(2·2d)) + 3, so a symmetric sample raises a false alarm with probability well under
 * 1e-3 whatever d is, while a skewed input with a few thousand samples is caught.
 */

export interface SymmetryReport {
  /** Largest |z| over the first- and third-moment statistics of all columns. */
  maxZ: number;
  /** Column (0-based) and moment order (1 or 3) where maxZ occurs. */
  column: number;
  order: 1 | 3;
  /** maxZ above which the input is reported as asymmetric. */
  threshold: number;
  asymmetric: boolean;
}

export class SymmetryAccumulator {
  /**
   * S1 | V1 | S3 | V3, d values each (the layout of Moments1Sums.odd: pass 1's moments1 calls
   * accumulate into it, see parallel/jobs.ts); s1…v3 are views.
   */
  readonly sums: Float64Array;
  readonly s1: Float64Array;
  readonly v1: Float64Array;
  readonly s3: Float64Array;
  readonly v3: Float64Array;

  constructor(readonly d: number) {
    this.sums = new Float64Array(4 * d);
    this.s1 = this.sums.subarray(0, d);
    this.v1 = this.sums.subarray(d, 2 * d);
    this.s3 = this.sums.subarray(2 * d, 3 * d);
    this.v3 = this.sums.subarray(3 * d, 4 * d);
  }

  report(): SymmetryReport {
    const threshold = Math.sqrt(2 * Math.log(4 * this.d)) + 3;
    let maxZ = 0;
    let column = 0;
    let order: 1 | 3 = 1;
    for (let j = 0; j < this.d; j++) {
      const z1 = this.v1[j] > 0 ? Math.abs(this.s1[j]) / Math.sqrt(this.v1[j]) : 0;
      const z3 = this.v3[j] > 0 ? Math.abs(this.s3[j]) / Math.sqrt(this.v3[j]) : 0;
      if (z1 > maxZ) { maxZ = z1; column = j; order = 1; }
      if (z3 > maxZ) { maxZ = z3; column = j; order = 3; }
    }
    return { maxZ, column, order, threshold, asymmetric: maxZ > threshold };
  }
}
