/** Robust sample weights in JS (twin of assembly/weights.ts; definition: Kernels.robustWeights). */
export function robustWeights(out: Float64Array, x: Float64Array, rows: number, d: number, invScale: Float64Array, denom: number): void {
  for (let r = 0, o = 0; r < rows; r++, o += d) {
    let q = 0;
    for (let j = 0; j < d; j++) {
      const v = x[o + j] * invScale[j];
      q += v * v;
    }
    const t = 1 + q * denom;
    out[r] = 1 / (t * t);
  }
}
