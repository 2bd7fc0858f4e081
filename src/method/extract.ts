/**
 * Step 3 of the method (README, Method in brief): the rank-one extraction of the pure
 * directions from the detector's null space, and the policy that chooses among its attempts.
 *
 * The null-space basis vectors b_j (svec coordinates) are symmetric matrices N_j = Ũ D_j Ũᵀ,
 * where the columns of Ũ = A'^{-T} are the pure directions u_i (A' the output weights in the
 * reduced, whitened coordinates). For random combinations M₁ = Σα_jN_j, M₂ = Σβ_jN_j,
 * M₁M₂⁻¹ = Ũ D₁D₂⁻¹ Ũ⁻¹, so its eigenvectors are the u_i (Jennrich). Several random pairs are
 * tried and the one whose Ũ best jointly diagonalizes all N_j (Ũ⁻¹ N_j Ũ⁻ᵀ diagonal) is kept.
 */
import { inverse } from 'ml-matrix';
import { PureneuronError } from '../errors.js';
import type { Kernels } from '../kernels/types.js';
import { fromMatrix, normalizeRows, toMatrix } from '../math/linalg.js';
import { Rng } from '../math/random.js';
import { smat, triLen } from '../math/symcoords.js';
import { detectorNullSpace } from './nullspace.js';
import { selectAndPolish } from './polish.js';

export interface JennrichResult {
  /** k×k row-major (columns = unit directions) of the pair that best jointly diagonalizes all N_j, if any pair was fully real. */
  best?: Float64Array;
  /** Its joint-diagonalization residual (Infinity when no pair was fully real). */
  residual: number;
  /** Every unit eigenvector (or real/imaginary part of a complex one) of every pair: the candidate pool for the polish. */
  candidates: Float64Array[];
  /** Pairs with complex eigenvalues or a singular M₂. */
  rejectedPairs: number;
}

/** Basis matrices N_j (k×k each) from the null-space basis (mz×k, columns). */
export function basisMatrices(basis: Float64Array, k: number): Float64Array[] {
  const mz = triLen(k);
  const out: Float64Array[] = [];
  for (let j = 0; j < k; j++) {
    const b = new Float64Array(mz);
    for (let i = 0; i < mz; i++) b[i] = basis[i * k + j];
    out.push(smat(b, k));
  }
  return out;
}

/** Off-diagonal energy of V N_j Vᵀ (rows of V normalized) relative to the total, over all j. */
export function jointDiagResidual(Uc: Float64Array, N: Float64Array[], k: number): number {
  let V: Float64Array;
  try {
    V = fromMatrix(inverse(toMatrix(Uc, k, k)));
  } catch {
    return Infinity;
  }
  if (!V.every(Number.isFinite)) return Infinity;
  normalizeRows(V, k, k);
  let off = 0;
  let tot = 0;
  const VN = new Float64Array(k * k);
  for (const Nj of N) {
    VN.fill(0);
    for (let a = 0; a < k; a++) for (let t = 0; t < k; t++) { const v = V[a * k + t]; for (let c = 0; c < k; c++) VN[a * k + c] += v * Nj[t * k + c]; }
    for (let a = 0; a < k; a++)
      for (let b = 0; b < k; b++) {
        let s = 0;
        for (let c = 0; c < k; c++) s += VN[a * k + c] * V[b * k + c];
        tot += s * s;
        if (a !== b) off += s * s;
      }
  }
  return tot > 0 ? off / tot : Infinity;
}

/**
 * Jennrich over `pairs` random pairs (M₁, M₂) of combinations of the N_j: the eigenvectors of
 * M₁M₂⁻¹ by Kernels.eigNonsym (ml-matrix's EigenvalueDecomposition, bit for bit, as compiled code).
 */
export function jennrich(kernels: Kernels, N: Float64Array[], k: number, pairs: number, seed: number): JennrichResult {
  const rng = new Rng(seed);
  const out: JennrichResult = { residual: Infinity, candidates: [], rejectedPairs: 0 };
  for (let t = 0; t < pairs; t++) {
    const M1 = new Float64Array(k * k);
    const M2 = new Float64Array(k * k);
    for (const Nj of N) {
      const a = rng.normal();
      const b = rng.normal();
      for (let i = 0; i < k * k; i++) { M1[i] += a * Nj[i]; M2[i] += b * Nj[i]; }
    }
    let E;
    try {
      const prod = fromMatrix(toMatrix(M1, k, k).mmul(inverse(toMatrix(M2, k, k))));
      // A singular M₂ gives ±Inf/NaN rather than an exception, on which the eigensolver
      // (as ml-matrix's) would never converge (the kernel rejects it): reject such a pair here.
      if (!prod.every(Number.isFinite)) throw new Error('singular pair');
      E = kernels.eigNonsym(prod, k);
    } catch {
      out.rejectedPairs++;
      continue;
    }
    const { re, im, vectors: V } = E;
    const scale = Math.max(...Array.from(re, Math.abs), 1e-300);
    // Unit columns. A complex pair occupies two columns (real and imaginary parts of its
    // eigenvector): such a pair cannot be the pair's answer, but near a pure direction those
    // parts are still good starts for the polish, so they join the candidate pool too.
    const Uc = new Float64Array(k * k);
    let real = 0;
    for (let j = 0; j < k; j++) {
      let s2 = 0;
      for (let i = 0; i < k; i++) s2 += V[i * k + j] ** 2;
      const nrm = Math.sqrt(s2);
      for (let i = 0; i < k; i++) Uc[i * k + j] = V[i * k + j] / nrm;
      if (!(nrm > 0) || !Number.isFinite(nrm)) continue;
      if (Math.abs(im[j]) <= 1e-10 * scale && Number.isFinite(re[j])) real++;
      const u = new Float64Array(k);
      for (let i = 0; i < k; i++) u[i] = Uc[i * k + j];
      out.candidates.push(u);
    }
    if (real < k) {
      out.rejectedPairs++;
      continue;
    }
    const residual = jointDiagResidual(Uc, N, k);
    if (residual < out.residual) {
      out.residual = residual;
      out.best = Uc;
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------
// The extraction policy

/**
 * Joint-diagonalization residual above which a fit is suspect: the extraction retries with other
 * pairs, and the diagnostics warn. It separates good fits from failed ones in the sweeps
 * (docs/measurements.md).
 */
export const JD_WARN = 0.3;

/** The extraction choices among the fit options. */
export type ExtractOptions = { polish: boolean; jennrichPairs: number; seed: number };

/**
 * The detector's null space (nullspace.ts) from its sums T (mh×mz) over samples of total weight
 * `weight`, then the pure directions: U (k×k, unit columns), its joint-diagonalization
 * residual, the detector's singular values and the extraction's warnings. `budget`: how many
 * candidates are polished first (selectAndPolish).
 */
export function pureDirections(kernels: Kernels, T: Float64Array, weight: number, hDim: number, k: number, o: ExtractOptions, budget: number, cap = budget + k) {
  const ns = detectorNullSpace(kernels, T, weight, triLen(hDim), triLen(k), hDim, k);
  return { ...extractPure(kernels, ns.basis, ns.G, k, o, budget, cap), singularValues: ns.singularValues };
}

/**
 * Jennrich over several random pairs, then (default) the selection and polish of k distinct
 * directions from all pairs' candidates; without polish, the pair that best jointly
 * diagonalizes the null-space basis is used as is (the paper's procedure).
 */
function extractPure(kernels: Kernels, basis: Float64Array, G: Float64Array, k: number, o: ExtractOptions, budget: number, cap: number): { U: Float64Array; residual: number; warnings: string[] } {
  const N = basisMatrices(basis, k);
  const first = extractFromPairs(kernels, N, G, k, o, o.jennrichPairs, o.seed, budget, cap);
  if (first.ok && first.residual <= JD_WARN) return first;
  // A bad draw of pairs: the joint-diagonalization residual, the fit's own certificate, is
  // high (or no pair worked). Four times as many other pairs, and the better fit is kept (a
  // single unlucky draw can decide a whole fit: docs/measurements.md).
  const second = extractFromPairs(kernels, N, G, k, o, 4 * o.jennrichPairs, o.seed + 7919, budget, cap);
  const best = !first.ok ? second : second.ok && second.residual < first.residual ? second : first;
  if (!best.ok) {
    throw new PureneuronError('NUMERICAL_FAILURE', `rank-one extraction failed: no Jennrich pair gave ${k} real, distinct pure directions; the samples are too few or k = ${k} is too large`);
  }
  return best;
}

/** One extraction from `pairs` random Jennrich pairs (then the pooled selection and polish). */
function extractFromPairs(kernels: Kernels, N: Float64Array[], G: Float64Array, k: number, o: ExtractOptions, pairs: number, seed: number, budget: number, cap: number) {
  const warnings: string[] = [];
  let jr = jennrich(kernels, N, k, pairs, seed);
  if (!jr.best) {
    // Every pair had complex eigenvalues: retry with more pairs before giving up.
    jr = jennrich(kernels, N, k, pairs * 8, seed + 1);
  }
  if (!jr.best) warnings.push(`every Jennrich pair gave complex eigenvalues (a noisy null space); the pure directions come from the real ones alone`);
  let U: Float64Array | undefined = jr.best;
  if (o.polish) {
    const chosen = selectAndPolish(kernels, jr.candidates, G, k, budget, cap);
    if (chosen) {
      U = new Float64Array(k * k);
      chosen.forEach((u, i) => {
        for (let a = 0; a < k; a++) U![a * k + i] = u[a];
      });
    }
  }
  if (!U) return { ok: false as const, U: new Float64Array(0), residual: Infinity, warnings };
  return { ok: true as const, U, residual: jointDiagResidual(U, N, k), warnings };
}
