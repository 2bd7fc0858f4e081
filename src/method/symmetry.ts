/**
 * The symmetry test: a check of the method's one assumption, p(x) = p(−x), from pass-1 data.
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

/**
 * The report from pass 1's odd sums `odd` (4d: S1 | V1 | S3 | V3, the layout of
 * Moments1Sums.odd, summed by the pass-1 kernel).
 */
export function symmetryReport(odd: Float64Array, d: number): SymmetryReport {
  const threshold = Math.sqrt(2 * Math.log(4 * d)) + 3;
  let maxZ = 0;
  let column = 0;
  let order: 1 | 3 = 1;
  for (let j = 0; j < d; j++) {
    const s1 = odd[j], v1 = odd[d + j], s3 = odd[2 * d + j], v3 = odd[3 * d + j];
    const z1 = v1 > 0 ? Math.abs(s1) / Math.sqrt(v1) : 0;
    const z3 = v3 > 0 ? Math.abs(s3) / Math.sqrt(v3) : 0;
    if (z1 > maxZ) { maxZ = z1; column = j; order = 1; }
    if (z3 > maxZ) { maxZ = z3; column = j; order = 3; }
  }
  return { maxZ, column, order, threshold, asymmetric: maxZ > threshold };
}
