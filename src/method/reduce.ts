/**
 * Step 1 of the method (README, Method in brief): the linear part, and the reduction and
 * whitening of x and y that pass 2 works in, from the pass-1 moments.
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
import { PureneuronError } from '../errors.js';
import type { DetectorPlan, Kernels, SymEigResult } from '../kernels/types.js';
import { matmul, svd, symmetrizeUpper, transpose } from '../math/linalg.js';
import type { Moments1Sums } from '../kernels/types.js';

/** Pass-1 statistics in whitened-x coordinates and the SVD of the linear part (k-independent). */
export interface LinearPart {
  d: number;
  l: number;
  /** Whitening map x̃ = Mx·x (r×d) on the numerical range of E[xxᵀ], rank r. */
  Mx: Float64Array;
  r: number;
  /** E[yxᵀ] (l×d), E[yyᵀ] (l×l), E[y] (l), all under the sample weights. */
  Cyx: Float64Array;
  Cyy: Float64Array;
  my: Float64Array;
  /** Thin SVD of P̃ = 2·E[y x̃ᵀ] (l×r): s descending, U l×q, V r×q with q = min(l, r). */
  s: Float64Array;
  U: Float64Array;
  V: Float64Array;
  q: number;
  /**
   * Size of the largest singular value that estimation noise alone would give P̃: its entries
   * have standard error ≈ 2·√(σ²/n), σ² the per-output variance of y left after its linear
   * part (x̃ is white), and an l×r matrix of such errors has spectral norm ≈ that × (√l + √r).
   */
  noiseFloor: number;
}

export interface Reduction {
  plan: DetectorPlan;
  /** Rank of E[xxᵀ] used (≤ d). */
  rankX: number;
  /** Singular values of P̃ (whitened-x linear part), descending. */
  linearSingularValues: Float64Array;
  /** Mean of z = Ry·y (zDim): the sign of E[uᵀz] tells the sign of a pure neuron's output weight. */
  zMean: Float64Array;
}

/**
 * Kernels.symEig of a·2⁻ᵉ (2ᵉ ≈ the largest diagonal entry), eigenvalues scaled back. The QL
 * iteration squares entries, so a covariance of magnitude ≳ 1e150 (data ≳ 1e75) would
 * overflow unscaled; a power-of-two scale is exact, so other inputs get the same bits.
 */
function symEigScaled(kernels: Kernels, a: Float64Array, m: number): SymEigResult {
  let s = 0;
  for (let i = 0; i < m; i++) s = Math.max(s, Math.abs(a[i * m + i]));
  if (!(s > 0) || !Number.isFinite(s)) return kernels.symEig(a, m);
  const e = Math.max(-1000, Math.min(1000, Math.round(Math.log2(s))));
  const down = 2 ** -e;
  const r = kernels.symEig(a.map((v) => v * down), m);
  return { values: r.values.map((v) => v * 2 ** e), vectors: r.vectors };
}

/** Relative eigenvalue threshold below which a direction of E[xxᵀ] counts as absent. */
const RANK_TOL = 1e-10;

/**
 * Whitening of x and the SVD of the linear part from the pass-1 sums.
 * `n` normalizes the sums (the sample count, or Σρ when weighted); `count` is the number of
 * samples (for the noise floor).
 */
export function linearPart(kernels: Kernels, sums: Moments1Sums, n: number, count: number, d: number, l: number): LinearPart {
  const inv = 1 / n;
  const Cxx = symmetrizeUpper(Float64Array.from(sums.xx, (v) => v * inv), d);
  const Cyx = Float64Array.from(sums.yx, (v) => v * inv);
  const Cyy = symmetrizeUpper(Float64Array.from(sums.yy, (v) => v * inv), l);
  const my = Float64Array.from(sums.ys, (v) => v * inv);

  // Whitening of x on its numerical range. symEig returns ascending eigenvalues.
  const ex = symEigScaled(kernels, Cxx, d);
  const lmax = ex.values[d - 1];
  if (!(lmax > 0)) throw new PureneuronError('RANK_DEFICIENT', 'x is identically zero: E[xxᵀ] has no positive eigenvalue');
  const keep: number[] = [];
  for (let j = d - 1; j >= 0; j--) if (ex.values[j] > RANK_TOL * lmax) keep.push(j);
  const r = keep.length;
  const Mx = new Float64Array(r * d);
  keep.forEach((j, a) => {
    const sc = 1 / Math.sqrt(ex.values[j]);
    for (let c = 0; c < d; c++) Mx[a * d + c] = ex.vectors[c * d + j] * sc;
  });

  // Linear part in whitened x: P̃ = 2·Cyx·Mxᵀ (l×r).
  const Pt = matmul(Cyx, transpose(Mx, r, d), l, d, r);
  for (let i = 0; i < Pt.length; i++) Pt[i] *= 2;
  const dec = svd(Pt, l, r);
  // Residual variance of y after its linear part: E‖y‖² − ¼‖P̃‖²_F (x̃ is white).
  let resid = 0;
  for (let a = 0; a < l; a++) resid += Cyy[a * l + a];
  for (const v of dec.s) resid -= 0.25 * v * v;
  const noiseFloor = 2 * Math.sqrt(Math.max(resid, 0) / l / count) * (Math.sqrt(l) + Math.sqrt(r));
  return { d, l, Mx, r, Cyx, Cyy, my, s: dec.s, U: dec.U, V: dec.V, q: dec.r, noiseFloor };
}

/** A singular value below this fraction of the one before it marks the exact rank (see significantRank). */
const EXACT_GAP = 1e-8;

/**
 * The rank of the linear part the data support: this is what `k: 'auto'` uses.
 *
 * Exact data — a sample exactly symmetric and noiseless, e.g. inputs augmented with their
 * negations — carry no estimation noise in P̃ at all: its rank shows as a drop of many orders of
 * magnitude (0.057, then 4.7e-15), which no sampling noise of a realistic sample gives (the floor
 * below is ~σ/√n). There the rank is the place of that gap, whatever the noise floor says (it
 * counts the even part of y as noise, which exact data cancel). Otherwise: the singular values
 * above 1.5× the noise floor (and above 1e-8 of the largest).
 */
export function significantRank(lp: LinearPart): number {
  const { s } = lp;
  for (let j = 0; j + 1 < s.length; j++) if (s[j] > 0 && s[j + 1] < EXACT_GAP * s[j]) return j + 1;
  let m = 0;
  for (const v of s) if (v > 1.5 * lp.noiseFloor && v > 1e-8 * s[0]) m++;
  return m;
}

/** Reduction and whitening for k hidden units (see the header comment). */
export function reduce(
  kernels: Kernels,
  lp: LinearPart,
  k: number,
  opts: { reduceX: boolean; whitenY: boolean; literal: boolean },
): Reduction {
  const { d, l, Mx, r, Cyx, Cyy, my, q } = lp;
  if (r < k) {
    throw new PureneuronError(
      'RANK_DEFICIENT',
      `x spans only ${r} dimensions (E[xxᵀ] has rank ${r} < k = ${k}); at most k = ${r} hidden units can be identified`,
    );
  }
  const Uk = new Float64Array(l * k);
  const Vk = new Float64Array(r * k);
  for (let i = 0; i < l; i++) for (let j = 0; j < k; j++) Uk[i * k + j] = lp.U[i * q + j];
  for (let i = 0; i < r; i++) for (let j = 0; j < k; j++) Vk[i * k + j] = lp.V[i * q + j];

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
    const ez = symEigScaled(kernels, Cz, k);
    if (!(ez.values[0] > 1e-14 * ez.values[k - 1])) {
      const m = significantRank(lp);
      throw new PureneuronError('RANK_DEFICIENT', `the outputs y vary in fewer than k = ${k} directions (the linear part A·W has rank ≈ ${m}); lower k to ${Math.max(m, 1)} or use k: 'auto'`);
    }
    // B = E diag(1/√λ) Eᵀ (symmetric inverse square root).
    const B = new Float64Array(k * k);
    for (let i = 0; i < k; i++)
      for (let j = 0; j < k; j++) {
        let sum = 0;
        for (let t = 0; t < k; t++) sum += (ez.vectors[i * k + t] * ez.vectors[j * k + t]) / Math.sqrt(ez.values[t]);
        B[i * k + j] = sum;
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
    linearSingularValues: lp.s,
    zMean,
  };
}
