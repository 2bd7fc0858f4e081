/**
 * Reduction and whitening (between pass 1 and pass 2), from the pass-1 moments.
 *
 * Coordinates (C = empirical second moment, no centering: the method's moments are raw):
 *   Cxx = Q Λ Qᵀ restricted to its numerical range (rank r):  x̃ = Mx·x, Mx = Λ_r^{-1/2} Q_rᵀ (r×d),
 *   so E[x̃x̃ᵀ] = I.  The linear part in these coordinates is P̃ = 2·E[y x̃ᵀ] (l×r) = A·W·Mx⁺.
 *   Thin SVD P̃ = U S Vᵀ; the top-k singular subspaces are the column space of A and the row
 *   space of W (in x̃). Reduced coordinates:
 *     h = V_kᵀ x̃          (k, white)       — or h = x̃ (r) when reduceX = false
 *     z = B·U_kᵀ y        (k), B = Cov(U_kᵀy)^{-1/2} when whitenY, else I
 *   and Ph = 2·E[z hᵀ], the linear (odd) part of z as a function of h.
 */
import { PureneuronError } from './errors.js';
import type { DetectorPlan, Kernels } from './kernels/types.js';
import { matmul, svd, symmetrizeUpper, transpose } from './linalg.js';
import type { Moments1Sums } from './kernels/types.js';

export interface Reduction {
  plan: DetectorPlan;
  /** Rank of E[xxᵀ] used (≤ d). */
  rankX: number;
  /** Singular values of P̃ (whitened-x linear part), descending. */
  linearSingularValues: Float64Array;
  /** Mean of z = Ry·y (zDim): the sign of E[uᵀz] tells the sign of a pure neuron's output weight. */
  zMean: Float64Array;
}

/** Relative eigenvalue threshold below which a direction of E[xxᵀ] counts as absent. */
const RANK_TOL = 1e-10;

export function reduce(
  kernels: Kernels,
  sums: Moments1Sums,
  /** Normalizer of the sums: the sample count, or Σρ when samples are weighted. */
  n: number,
  d: number,
  l: number,
  k: number,
  opts: { reduceX: boolean; whitenY: boolean; literal: boolean },
): Reduction {
  const inv = 1 / n;
  const Cxx = symmetrizeUpper(Float64Array.from(sums.xx, (v) => v * inv), d);
  const Cyx = Float64Array.from(sums.yx, (v) => v * inv);
  const Cyy = symmetrizeUpper(Float64Array.from(sums.yy, (v) => v * inv), l);
  const my = Float64Array.from(sums.ys, (v) => v * inv);

  // Whitening of x on its numerical range. symEig returns ascending eigenvalues.
  const ex = kernels.symEig(Cxx, d);
  const lmax = ex.values[d - 1];
  if (!(lmax > 0)) throw new PureneuronError('RANK_DEFICIENT', 'x is identically zero: E[xxᵀ] has no positive eigenvalue');
  const keep: number[] = [];
  for (let j = d - 1; j >= 0; j--) if (ex.values[j] > RANK_TOL * lmax) keep.push(j);
  const r = keep.length;
  if (r < k) {
    throw new PureneuronError(
      'RANK_DEFICIENT',
      `x spans only ${r} dimensions (E[xxᵀ] has rank ${r} < k = ${k}); at most k = ${r} hidden units can be identified`,
    );
  }
  const Mx = new Float64Array(r * d);
  keep.forEach((j, a) => {
    const s = 1 / Math.sqrt(ex.values[j]);
    for (let c = 0; c < d; c++) Mx[a * d + c] = ex.vectors[c * d + j] * s;
  });

  // Linear part in whitened x: P̃ = 2·Cyx·Mxᵀ (l×r).
  const Pt = matmul(Cyx, transpose(Mx, r, d), l, d, r);
  for (let i = 0; i < Pt.length; i++) Pt[i] *= 2;
  const dec = svd(Pt, l, r);
  const q = dec.r; // min(l, r)
  const Uk = new Float64Array(l * k);
  const Vk = new Float64Array(r * k);
  for (let i = 0; i < l; i++) for (let j = 0; j < k; j++) Uk[i * k + j] = dec.U[i * q + j];
  for (let i = 0; i < r; i++) for (let j = 0; j < k; j++) Vk[i * k + j] = dec.V[i * q + j];

  // Input map Rx (hDim×d).
  const hDim = opts.reduceX ? k : r;
  const Rx = opts.reduceX ? matmul(transpose(Vk, r, k), Mx, k, r, d) : Mx;

  // Output map Ry (k×l) = B·U_kᵀ.
  const UkT = transpose(Uk, l, k);
  let Ry = UkT;
  if (opts.whitenY) {
    // Cov(U_kᵀy) = U_kᵀ (Cyy − my myᵀ) U_k.
    const Cov = new Float64Array(l * l);
    for (let i = 0; i < l; i++) for (let j = 0; j < l; j++) Cov[i * l + j] = Cyy[i * l + j] - my[i] * my[j];
    const Cz = matmul(matmul(UkT, Cov, k, l, l), Uk, k, l, k);
    const ez = kernels.symEig(Cz, k);
    if (!(ez.values[0] > 1e-14 * ez.values[k - 1])) {
      throw new PureneuronError('RANK_DEFICIENT', 'the outputs y vary in fewer than k directions; lower k or check y');
    }
    // B = E diag(1/√λ) Eᵀ (symmetric inverse square root).
    const B = new Float64Array(k * k);
    for (let i = 0; i < k; i++)
      for (let j = 0; j < k; j++) {
        let s = 0;
        for (let t = 0; t < k; t++) s += (ez.vectors[i * k + t] * ez.vectors[j * k + t]) / Math.sqrt(ez.values[t]);
        B[i * k + j] = s;
      }
    Ry = matmul(B, UkT, k, k, l);
  }

  // Ph = 2·E[z hᵀ] = Ry·(2·Cyx)·Rxᵀ  (k×hDim).
  const Ph = matmul(matmul(Ry, Cyx, k, l, d), transpose(Rx, hDim, d), k, d, hDim);
  for (let i = 0; i < Ph.length; i++) Ph[i] *= 2;

  const zMean = matmul(Ry, my, k, l, 1);
  return {
    plan: { d, l, hDim, zDim: k, Rx, Ry, Ph, literal: opts.literal },
    rankX: r,
    linearSingularValues: dec.s,
    zMean,
  };
}
