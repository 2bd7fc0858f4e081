/**
 * Symmetric-matrix coordinates: the upper triangle (i ≤ j) of an m×m symmetric matrix as a
 * vector of length m(m+1)/2, row by row, off-diagonal entries weighted by √2 so that the
 * Frobenius inner product of two matrices equals the dot product of their vectors.
 */
export const triLen = (m: number): number => (m * (m + 1)) / 2;

/** Position of (i, j), i ≤ j, in the coordinates of an m×m matrix. */
export const triIndex = (i: number, j: number, m: number): number => i * m - (i * (i - 1)) / 2 + (j - i);

/** smat(v): vector → m×m symmetric matrix (row-major); inverse of svec. */
export function smat(v: Float64Array, m: number): Float64Array {
  const S = new Float64Array(m * m);
  let o = 0;
  for (let i = 0; i < m; i++)
    for (let j = i; j < m; j++) {
      const s = j === i ? v[o] : v[o] / Math.SQRT2;
      S[i * m + j] = s;
      S[j * m + i] = s;
      o++;
    }
  return S;
}

/** svec(u uᵀ) for a vector u of length m. */
export function svecOuter(u: Float64Array): Float64Array {
  const m = u.length;
  const v = new Float64Array(triLen(m));
  let o = 0;
  for (let i = 0; i < m; i++) for (let j = i; j < m; j++) v[o++] = j === i ? u[i] * u[i] : u[i] * u[j] * Math.SQRT2;
  return v;
}
