/** The network function itself: y = A·relu(W·x), plain loops (dot products in index order). */
import type { Network, NumericArray } from '../types.js';

/** Outputs for n samples (x n×d row-major) as an n×l row-major array. */
export function forward(net: Network, x: NumericArray, n: number): Float64Array {
  const { d, k, l, W, A } = net;
  const y = new Float64Array(n * l);
  const r = new Float64Array(k);
  for (let s = 0; s < n; s++) {
    for (let i = 0; i < k; i++) {
      let v = 0;
      for (let j = 0; j < d; j++) v += W[i * d + j] * x[s * d + j];
      r[i] = v > 0 ? v : 0;
    }
    for (let o = 0; o < l; o++) {
      let v = 0;
      for (let i = 0; i < k; i++) v += A[o * k + i] * r[i];
      y[s * l + o] = v;
    }
  }
  return y;
}
