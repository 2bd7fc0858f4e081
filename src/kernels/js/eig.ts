/**
 * Symmetric eigensolver: Householder tridiagonalization + implicit QL with shifts (JAMA's
 * tred2/tql2, public domain), written out so that the AssemblyScript twin in assembly/eig.ts
 * performs exactly the same IEEE operations in the same order (same bits on every backend).
 *
 * Differences from JAMA, all deliberate:
 * - Storage: the orthogonal matrix is held *transposed*, Wt[b·m + a] = V[a][b], so that every
 *   inner loop of both phases (and the QL rotations) walks contiguous memory; on return the
 *   eigenvectors are the rows of Wt and are transposed into the column-major-by-eigenvalue
 *   output.
 * - Dot products sum four interleaved partial sums (terms k ≡ 0,1,2,3 mod 4 from the loop
 *   start), combined as (s0 + s1) + (s2 + s3). The wasm twin holds (s0,s1) and (s2,s3) in two
 *   f64x2 registers; element-wise updates (axpy, rotations) are lane-independent anyway.
 * - hypot is written out from abs, div, mul, add and sqrt (library hypot differs across
 *   engines); max is written as a comparison.
 * - The QL iteration is capped (ITER_CAP per eigenvalue); exceeding it reports failure
 *   instead of spinning (NaN input also ends the loop through the comparisons).
 * Only the upper triangle (j ≥ i) of `a` is read.
 */
import type { SymEigResult } from '../types.js';
import { symEigFailure } from '../validate.js';

/** QL iterations allowed per eigenvalue (JAMA has no cap; ~2 are typical). */
export const ITER_CAP = 60;

const EPS = 2.220446049250313e-16; // 2^-52, as JAMA's Math.pow(2.0, -52.0)

/** √(a² + b²) as JAMA's (and ml-matrix's `hypotenuse`): the same bits as assembly/scalar.ts hypot. */
export function hypot(a: number, b: number): number {
  const aa = Math.abs(a);
  const ab = Math.abs(b);
  if (aa > ab) {
    const r = b / a;
    return aa * Math.sqrt(1 + r * r);
  }
  if (b !== 0) {
    const r = a / b;
    return ab * Math.sqrt(1 + r * r);
  }
  return 0;
}

/** Σ_{t<n} x[xo+t]·y[yo+t] with four interleaved partial sums (see the header). */
function dot4(x: Float64Array, xo: number, y: Float64Array, yo: number, n: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let t = 0;
  for (; t + 4 <= n; t += 4) {
    s0 = s0 + x[xo + t] * y[yo + t];
    s1 = s1 + x[xo + t + 1] * y[yo + t + 1];
    s2 = s2 + x[xo + t + 2] * y[yo + t + 2];
    s3 = s3 + x[xo + t + 3] * y[yo + t + 3];
  }
  if (t + 2 <= n) {
    s0 = s0 + x[xo + t] * y[yo + t];
    s1 = s1 + x[xo + t + 1] * y[yo + t + 1];
    t += 2;
  }
  if (t < n) s0 = s0 + x[xo + t] * y[yo + t];
  return (s0 + s1) + (s2 + s3);
}

/**
 * Core on caller-provided storage: Wt (m×m, in: any, out: eigenvector j in row j), d (m, out:
 * eigenvalues ascending), e (m, work). Returns false if the QL iteration did not converge.
 */
export function symEigInto(a: Float64Array, m: number, Wt: Float64Array, d: Float64Array, e: Float64Array): boolean {
  const n = m;
  if (n === 0) return true;
  // Wt = V = A made symmetric from its upper triangle (symmetric, so Vᵀ = V).
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const v = a[i * n + j];
      Wt[i * n + j] = v;
      Wt[j * n + i] = v;
    }
  }
  tred2(n, Wt, d, e);
  return tql2(n, Wt, d, e);
}

function tred2(n: number, W: Float64Array, d: Float64Array, e: Float64Array): void {
  // V[a][b] ≡ W[b·n + a] throughout (comments give JAMA's V form).
  for (let j = 0; j < n; j++) d[j] = W[j * n + n - 1]; // V[n-1][j]
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale = scale + Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = W[j * n + i - 1]; // V[i-1][j]
        W[j * n + i] = 0; // V[i][j]
        W[i * n + j] = 0; // V[j][i]
      }
    } else {
      for (let k = 0; k < i; k++) d[k] = d[k] / scale;
      h = dot4(d, 0, d, 0, i);
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h = h - f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      // Apply the similarity transformation to the remaining columns.
      for (let j = 0; j < i; j++) {
        f = d[j];
        W[i * n + j] = f; // V[j][i]
        const row = j * n;
        // g = e[j] + V[j][j]·f + Σ_{k=j+1}^{i-1} V[k][j]·d[k]
        g = e[j] + W[row + j] * f + dot4(W, row + j + 1, d, j + 1, i - j - 1);
        for (let k = j + 1; k < i; k++) e[k] = e[k] + W[row + k] * f;
        e[j] = g;
      }
      for (let j = 0; j < i; j++) e[j] = e[j] / h;
      f = dot4(e, 0, d, 0, i);
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] = e[j] - hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        const row = j * n;
        for (let k = j; k < i; k++) W[row + k] = W[row + k] - (f * e[k] + g * d[k]); // V[k][j]
        d[j] = W[row + i - 1]; // V[i-1][j]
        W[row + i] = 0; // V[i][j]
      }
    }
    d[i] = h;
  }
  // Accumulate transformations.
  for (let i = 0; i < n - 1; i++) {
    W[i * n + n - 1] = W[i * n + i]; // V[n-1][i] = V[i][i]
    W[i * n + i] = 1;
    const h = d[i + 1];
    const q = (i + 1) * n; // V[k][i+1] = W[q + k]
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = W[q + k] / h;
      for (let j = 0; j <= i; j++) {
        const row = j * n;
        const g = dot4(W, q, W, row, i + 1);
        for (let k = 0; k <= i; k++) W[row + k] = W[row + k] - g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) W[q + k] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = W[j * n + n - 1];
    W[j * n + n - 1] = 0;
  }
  W[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

function tql2(n: number, W: Float64Array, d: Float64Array, e: Float64Array): boolean {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  for (let l = 0; l < n; l++) {
    // Find a small subdiagonal element.
    const t = Math.abs(d[l]) + Math.abs(e[l]);
    if (t > tst1) tst1 = t;
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]) <= EPS * tst1) break;
      m++;
    }
    // If m == l, d[l] is an eigenvalue; otherwise iterate. (m < n always: e[n-1] = 0.)
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > ITER_CAP) return false;
        // Compute the implicit shift.
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] = d[i] - h;
        f = f + h;
        // Implicit QL transformation.
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          // Accumulate the rotation on eigenvector rows i and i+1 (V columns i, i+1).
          const ri = i * n;
          const ri1 = ri + n;
          for (let k = 0; k < n; k++) {
            const hk = W[ri1 + k];
            const vk = W[ri + k];
            W[ri1 + k] = s * vk + c * hk;
            W[ri + k] = c * vk - s * hk;
          }
        }
        p = (((-s * s2) * c3) * el1) * e[l] / dl1;
        e[l] = s * p;
        d[l] = c * p;
        // Check for convergence.
      } while (Math.abs(e[l]) > EPS * tst1);
    }
    d[l] = d[l] + f;
    e[l] = 0;
  }
  // Sort eigenvalues (ascending) and vectors: selection sort, first minimum wins.
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    let p = d[i];
    for (let j = i + 1; j < n; j++) {
      if (d[j] < p) {
        k = j;
        p = d[j];
      }
    }
    if (k !== i) {
      d[k] = d[i];
      d[i] = p;
      const ri = i * n;
      const rk = k * n;
      for (let j = 0; j < n; j++) {
        const t = W[ri + j];
        W[ri + j] = W[rk + j];
        W[rk + j] = t;
      }
    }
  }
  return true;
}

/** Kernels.symEig on the JS backend. */
export function symEig(a: Float64Array, m: number): SymEigResult {
  const Wt = new Float64Array(m * m);
  const values = new Float64Array(m);
  const e = new Float64Array(m);
  if (!symEigInto(a, m, Wt, values, e)) {
    throw symEigFailure(m);
  }
  const vectors = new Float64Array(m * m);
  transposeInto(vectors, Wt, m);
  return { values, vectors };
}

/** out[i·m + j] = src[j·m + i] (eigenvector j from row j to column j). */
export function transposeInto(out: Float64Array, src: Float64Array, m: number): void {
  for (let j = 0; j < m; j++) {
    const row = j * m;
    for (let i = 0; i < m; i++) out[i * m + j] = src[row + i];
  }
}
