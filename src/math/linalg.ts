/**
 * Small dense linear algebra for the orchestration (matrices of size ≤ a few hundred).
 * Float64Array, row-major, shapes passed explicitly. Large eigenproblems go through the
 * kernels (Kernels.symEig); small general ones use ml-matrix, which is deterministic JS and so
 * gives the same bits whichever backend runs the hot loops.
 */
import { Matrix, SingularValueDecomposition, solve as mlSolve } from 'ml-matrix';
import { PureneuronError } from '../errors.js';

/** C (m×p) = A (m×n) · B (n×p). */
export function matmul(A: Float64Array, B: Float64Array, m: number, n: number, p: number): Float64Array {
  const C = new Float64Array(m * p);
  for (let i = 0; i < m; i++) {
    for (let t = 0; t < n; t++) {
      const a = A[i * n + t];
      if (a === 0) continue;
      for (let j = 0; j < p; j++) C[i * p + j] += a * B[t * p + j];
    }
  }
  return C;
}

/** Aᵀ for A m×n. */
export function transpose(A: Float64Array, m: number, n: number): Float64Array {
  const T = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) T[j * m + i] = A[i * n + j];
  return T;
}

/** Copies the upper triangle of the m×m matrix S onto its lower triangle (in place). */
export function symmetrizeUpper(S: Float64Array, m: number): Float64Array {
  for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) S[j * m + i] = S[i * m + j];
  return S;
}

export function toMatrix(A: Float64Array, m: number, n: number): Matrix {
  const M = new Matrix(m, n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) M.set(i, j, A[i * n + j]);
  return M;
}

export function fromMatrix(M: Matrix): Float64Array {
  const out = new Float64Array(M.rows * M.columns);
  for (let i = 0; i < M.rows; i++) for (let j = 0; j < M.columns; j++) out[i * M.columns + j] = M.get(i, j);
  return out;
}

/** Thin SVD of A (m×n): singular values descending, U m×r, V n×r with r = min(m, n). */
export function svd(A: Float64Array, m: number, n: number): { s: Float64Array; U: Float64Array; V: Float64Array; r: number } {
  // ml-matrix's SVD wants m ≥ n for its thin form; transpose otherwise and swap the factors.
  if (m < n) {
    const t = svd(transpose(A, m, n), n, m);
    return { s: t.s, U: t.V, V: t.U, r: t.r };
  }
  // Scaled to a largest entry of 1 first: ml-matrix's SVD never terminates on matrices of
  // subnormal size (mljs/matrix#70) and the scale is restored on the singular values.
  let amax = 0;
  for (let i = 0; i < A.length; i++) amax = Math.max(amax, Math.abs(A[i]));
  if (!Number.isFinite(amax)) throw new PureneuronError('NUMERICAL_FAILURE', 'SVD of a matrix with non-finite entries (the data overflow double precision: rescale them)');
  const sc = amax > 0 ? 1 / amax : 1;
  const dec = new SingularValueDecomposition(toMatrix(A.map((v) => v * sc), m, n), { autoTranspose: false });
  const r = Math.min(m, n);
  const U = dec.leftSingularVectors;
  const V = dec.rightSingularVectors;
  const s = Float64Array.from(dec.diagonal.slice(0, r), (v) => v / sc);
  const Uo = new Float64Array(m * r);
  const Vo = new Float64Array(n * r);
  for (let i = 0; i < m; i++) for (let j = 0; j < r; j++) Uo[i * r + j] = U.get(i, j);
  for (let i = 0; i < n; i++) for (let j = 0; j < r; j++) Vo[i * r + j] = V.get(i, j);
  return { s, U: Uo, V: Vo, r };
}

/** Solves A X = B for square A (n×n) and B (n×p) by LU (ml-matrix). */
export function solve(A: Float64Array, B: Float64Array, n: number, p: number): Float64Array {
  try {
    return fromMatrix(mlSolve(toMatrix(A, n, n), toMatrix(B, n, p)));
  } catch (e) {
    // ml-matrix throws plain Errors ("LU matrix is singular"): give callers a documented one.
    throw new PureneuronError('NUMERICAL_FAILURE', `a ${n}×${n} linear system is singular (${(e as Error).message})`);
  }
}

/**
 * x with A x = b for a small square A (n×n, row-major; not modified), by Gaussian elimination
 * with partial pivoting; undefined when a pivot is zero or the result is not finite. For the
 * many tiny systems of the polish, where ml-matrix's object overhead dominated.
 */
export function solveSmall(A: Float64Array, b: Float64Array, n: number): Float64Array | undefined {
  const M = Float64Array.from(A);
  const x = Float64Array.from(b);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r * n + c]) > Math.abs(M[piv * n + c])) piv = r;
    if (M[piv * n + c] === 0) return undefined;
    if (piv !== c) {
      for (let j = c; j < n; j++) [M[c * n + j], M[piv * n + j]] = [M[piv * n + j], M[c * n + j]];
      [x[c], x[piv]] = [x[piv], x[c]];
    }
    const inv = 1 / M[c * n + c];
    for (let r = c + 1; r < n; r++) {
      const f = M[r * n + c] * inv;
      if (f === 0) continue;
      for (let j = c + 1; j < n; j++) M[r * n + j] -= f * M[c * n + j];
      x[r] -= f * x[c];
    }
  }
  for (let c = n - 1; c >= 0; c--) {
    let v = x[c];
    for (let j = c + 1; j < n; j++) v -= M[c * n + j] * x[j];
    x[c] = v / M[c * n + c];
  }
  return x.every(Number.isFinite) ? x : undefined;
}

/** Divides every row of W (k×d) by its Euclidean norm, in place (a zero row stays zero); returns W. */
export function normalizeRows(W: Float64Array, k: number, d: number): Float64Array {
  for (let i = 0; i < k; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += W[i * d + j] * W[i * d + j];
    s = Math.sqrt(s);
    if (s > 0) for (let j = 0; j < d; j++) W[i * d + j] /= s;
  }
  return W;
}
