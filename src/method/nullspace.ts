/**
 * Step 3 of the method (README, Method in brief), first part: the detector's null space.
 *
 * T̂ = T/n maps symmetric k×k matrices U (in svec coordinates, length mz) to symmetric hDim×hDim
 * matrices (length mh). Output noise adds (uᵀΣ_ξu)·svec(I) to every column, so the direction
 * ν = svec(I)/√hDim is projected out of the output space first: T̂ ← (I − ννᵀ)·T̂.
 * The null space is then spanned by the eigenvectors of G = T̂ᵀT̂ (mz×mz) with the k smallest
 * eigenvalues, i.e. the right singular vectors of T̂ with the k smallest singular values.
 */
import type { Kernels } from '../kernels/types.js';
import { triIndex } from '../math/symcoords.js';

export interface NullSpace {
  /** mz×k row-major: column j is the j-th null-space basis vector (svec coordinates). */
  basis: Float64Array;
  /** G = T̂ᵀT̂ after the noise projection, mz×mz (used by the polish). */
  G: Float64Array;
  /** All singular values of the projected T̂, ascending. */
  singularValues: Float64Array;
  mz: number;
}

export function detectorNullSpace(kernels: Kernels, T: Float64Array, n: number, mh: number, mz: number, hDim: number, k: number): NullSpace {
  const Th = new Float64Array(mh * mz);
  for (let i = 0; i < Th.length; i++) Th[i] = T[i] / n;

  // Project ν = svec(I_hDim)/√hDim out of the rows: Th ← Th − ν (νᵀ Th).
  const diag: number[] = [];
  for (let i = 0; i < hDim; i++) diag.push(triIndex(i, i, hDim));
  const nu = 1 / Math.sqrt(hDim);
  const proj = new Float64Array(mz);
  for (const r of diag) for (let j = 0; j < mz; j++) proj[j] += nu * Th[r * mz + j];
  for (const r of diag) for (let j = 0; j < mz; j++) Th[r * mz + j] -= nu * proj[j];

  // G = Thᵀ Th: the upper triangle by the gram kernel (all symEig reads), mirrored for the polish.
  const G = new Float64Array(mz * mz);
  kernels.gram(G, Th, mh, mz);
  for (let i = 0; i < mz; i++) for (let j = i + 1; j < mz; j++) G[j * mz + i] = G[i * mz + j];

  const eig = kernels.symEig(G, mz);
  const basis = new Float64Array(mz * k);
  for (let i = 0; i < mz; i++) for (let j = 0; j < k; j++) basis[i * k + j] = eig.vectors[i * mz + j];
  const singularValues = Float64Array.from(eig.values, (v) => Math.sqrt(Math.max(v, 0)));
  return { basis, G, singularValues, mz };
}
