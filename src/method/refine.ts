/**
 * Step 5 of the method (README, Method in brief; not in the paper): local refinement of (A, W)
 * on the squared loss, started from the spectral estimate. Minimizes Σ_s ρ_s‖y_s − A·relu(W·x_s)‖²
 * (ρ the same even sample weights as the spectral passes, 1 when unweighted) by variable
 * projection — A eliminated by least squares for every W — and Gauss–Newton steps on W:
 *   g = Σρ (Aᵀe ∘ m) xᵀ  (e = y − A·relu(Wx), m = 1[Wx > 0]),
 *   H = Σρ [(AᵀA) ∘ (m mᵀ)] ⊗ (x xᵀ) (kd×kd), minus the coupling through A.
 * Each iteration is one streamed pass at the current W (passes/refine.ts) that sums g and the
 * A normal equations over every sample read, and H over a subsample of some thousands of them,
 * spread over all (H only steers the step: an approximate H costs convergence speed, never
 * accuracy). A step that raises
 * the loss is halved. The start is inside the basin, which is what makes a local method safe
 * here: no restarts, no learning rate to tune.
 *
 * Layouts: W k×d and A l×k row-major; H (kd)×(kd) with index i·d + j for unit i, input j.
 */
import { PureneuronError } from '../errors.js';
import type { Kernels, VarProSums } from '../kernels/types.js';
import { solve, symmetrizeUpper, transpose, normalizeRows } from '../math/linalg.js';
import { triIndex, triLen } from '../math/symcoords.js';
import { secondLayer } from './layers.js';

/** Variable-projection sums (Kernels.refineVarPro) over some samples, with their Σρ. */
export interface VarProPart {
  sums: VarProSums;
  weight: number;
}

/**
 * One refinement pass's sums at W: `all` over every sample read; `head` over a subsample of
 * them (by row hash), and M (Kernels.refineHessian) with its Σρ `wM` over the same samples.
 */
export interface RefineSums {
  all: VarProPart;
  head: VarProPart;
  M: Float64Array;
  wM: number;
}

/** What the refinement did (Diagnostics.refinement). */
export interface RefineReport {
  /** Gradient passes made. */
  iterations: number;
  /** Samples each pass read. */
  samples: number;
  /** Mean (weighted) squared loss at the start of each pass. */
  losses: number[];
  /** Asymptotic standard error of the refined W (see Diagnostics.errorEstimate), when computed. */
  standardError?: number;
  /** Why the refinement stopped before converging, when a step could not be formed (the W kept is the best one evaluated). */
  stopped?: string;
  /**
   * Whether the model's W is the refined one. refine: 'auto' keeps the spectral W when it has
   * the smaller estimated error (the refinement reads only the first refineSamples samples, the
   * spectral estimate all of them: with many more samples it can be the better one).
   */
  used: boolean;
}

export type RefineOptions = { refine: number | 'auto'; refineSamples: number };

/**
 * One refinement pass at W over the first `rows` samples (refinePlan's), with the Gauss–Newton
 * pieces from a fraction `hessianFraction` of them; the caller streams it over its data.
 */
export type RefinePass = (W: Float64Array, hessianFraction: number) => Promise<RefineSums>;

/** Passes of refine: 'auto', and the size limits it keeps to (see the refine option). */
const AUTO_REFINE_PASSES = 5;
const AUTO_REFINE_MAX_KD = 1024;
const AUTO_REFINE_SAMPLES_PER_WEIGHT = 10;

/** Samples the refinement's Gauss–Newton matrix is formed from in each pass (about: a subsample by row hash). */
const HESSIAN_ROWS = 20_000;

/**
 * The refinement to run: a pass budget, the relative loss improvement below which it stops, and
 * the samples each pass reads. 'auto' stops at 1e-4: on noisy data the loss is within 1e-4 of
 * its optimum after 2–3 passes and later passes move W by far less than its statistical error;
 * noiseless data keep improving by orders of magnitude per pass and use all
 * AUTO_REFINE_PASSES (docs/experiments.md). An explicit count stops only when the loss has
 * stalled (1e-9) or the step is negligible.
 */
export function refinePlan(o: RefineOptions, n: number, k: number, d: number, l: number): { passes: number; stopBelow: number; rows: number } {
  const rows = Math.min(n, o.refineSamples);
  if (o.refine !== 'auto') return { passes: o.refine, stopBelow: 1e-9, rows };
  const fits = k * d <= AUTO_REFINE_MAX_KD && rows >= AUTO_REFINE_SAMPLES_PER_WEIGHT * (k * d + l * k);
  return { passes: fits ? AUTO_REFINE_PASSES : 0, stopBelow: 1e-4, rows };
}

/**
 * The refinement reached the least-squares optimum of its samples: the loss stalled (last pass
 * gained < 1e-4) or fell 100-fold (noiseless data converge quadratically).
 */
export function refinementConverged(losses: number[]): boolean {
  const m = losses.length;
  return m >= 2 && (losses[m - 1] <= 1e-2 * losses[0] || losses[m - 2] - losses[m - 1] <= 1e-4 * losses[m - 2]);
}

/**
 * The refinement as learn() and the shard steps run it: refinePlan's passes from the spectral
 * W0 (unit rows, k×d), each streamed by `pass`. Returns the W to use (unit rows) and the report
 * (none when no pass ran). 'auto' keeps whichever W has the smaller estimated error when both
 * estimates are trustworthy (a clean spectral fit is vouched for by its half-sample estimate;
 * the refinement's standard error needs it to have converged): the refinement fits the first
 * refineSamples samples, the spectral estimate all n, so for n ≫ refineSamples the spectral W
 * can be the more accurate. `kernels` runs the Gauss–Newton solves' dense algebra.
 */
export async function refine(
  kernels: Kernels, o: RefineOptions, W0: Float64Array, n: number, k: number, d: number, l: number, spectralEstimate: number | undefined, pass: RefinePass,
): Promise<{ W: Float64Array; report?: RefineReport }> {
  const plan = refinePlan(o, n, k, d, l);
  if (plan.passes === 0) return { W: W0 };
  const r = await gaussNewton(kernels, plan, W0, k, d, l, pass);
  const se = r.report.standardError;
  r.report.used = !(o.refine === 'auto' && se !== undefined && spectralEstimate !== undefined && refinementConverged(r.report.losses) && spectralEstimate < se);
  return { W: r.report.used ? r.W : W0, report: r.report };
}

/** Up to plan.passes Gauss–Newton passes from W0; returns the best W evaluated, with unit rows. */
async function gaussNewton(
  kernels: Kernels, plan: { passes: number; stopBelow: number; rows: number }, W0: Float64Array, k: number, d: number, l: number, pass: RefinePass,
) {
  let W = W0;
  let Wprev = W0;
  let best = { W: W0, loss: Infinity };
  let iterations = 0;
  let halvings = 0;
  const losses: number[] = [];
  let H: Float64Array | undefined;
  let stopped: string | undefined;
  for (let it = 0; it < plan.passes; it++) {
    // The last pass only evaluates the loss (its step would never be tried): no Gauss–Newton matrix.
    const last = it === plan.passes - 1;
    const { all, head, M, wM } = await pass(W, last ? 0 : Math.min(1, HESSIAN_ROWS / plan.rows));
    iterations++;
    const A = leastSquaresA(all, k, l);
    const loss = A ? meanLoss(all, A, k, l) : Infinity;
    losses.push(loss);
    // The loss comes from sums (Σ‖y‖² − 2⟨A, Σyrᵀ⟩ + …), so near zero it carries rounding
    // error of order 1e-16·E‖y‖²: changes below that are not evidence of a worse step.
    if (!A || !(loss <= best.loss + 1e-13 * (all.sums.yy[0] / all.weight))) {
      // The step raised the loss: go halfway back.
      if (++halvings > 8) break;
      W = W.map((v, i) => Wprev[i] + 0.5 * (v - Wprev[i]));
      continue;
    }
    halvings = 0;
    // On noisy data the loss stops falling at the least-squares optimum: stop there too.
    const stalled = best.loss < Infinity && best.loss - loss <= plan.stopBelow * best.loss;
    best = { W, loss };
    if (stalled || last) break;
    let delta: Float64Array;
    try {
      H = reducedHessian(head, M, wM, leastSquaresA(head, k, l) ?? A, k, d, l);
      delta = newtonStep(H, gradient(all, A, k, d, l), kernels);
    } catch (e) {
      // A unit never active on the Gauss–Newton matrix's samples makes it singular: keep the
      // best W evaluated, and say so (the diagnostics warn).
      if (!(e instanceof PureneuronError && e.code === 'NUMERICAL_FAILURE')) throw e;
      stopped = e.message;
      H = undefined;
      break;
    }
    let dn = 0;
    let wn = 0;
    for (let i = 0; i < delta.length; i++) { dn += delta[i] * delta[i]; wn += W[i] * W[i]; }
    Wprev = W;
    W = W.map((v, i) => v + delta[i]);
    if (dn <= 1e-20 * wn) break; // relative step below 1e-10: converged
  }
  // The best evaluated W, with unit rows (the scale moves into A at the final least squares),
  // and its standard error from the latest Gauss–Newton matrix (at best.W or one step before it).
  const Wn = normalizeRows(Float64Array.from(best.W), k, d);
  const standardError = H && Number.isFinite(best.loss) ? refinedStandardError(H, best.W, k, d, best.loss, l, plan.rows, kernels) : undefined;
  const report: RefineReport = { iterations, samples: plan.rows, losses, standardError, used: true };
  if (stopped) report.stopped = stopped;
  return { W: Wn, report };
}

// ------------------------------------------------------------------------------------------
// The loss, its gradient and its Gauss–Newton matrix from the pass sums, with A eliminated:
// A*(W) is the least-squares A for this W, and the W-gradient is taken at (A*(W), W) without
// knowing A* during the pass, because g_i = Σρ m_i (a_iᵀe) x with e = y − A·r is linear in the
// per-unit sums S1_i = Σρ m_i x yᵀ (d×l) and S2_i = Σρ m_i x rᵀ (d×k): g_i = S1_i a_i − S2_i (Aᵀa_i).
// Alternating A and W steps instead converges only linearly (the two blocks are strongly
// coupled); this converges like Gauss–Newton.

/** A*(W) (l×k) from the sums, or undefined if the normal equations are singular. */
export function leastSquaresA(p: VarProPart, k: number, l: number): Float64Array | undefined {
  try {
    return secondLayer(p.sums, k, l);
  } catch {
    return undefined;
  }
}

/** Mean loss Σρ‖y − A·r‖² / Σρ at the sums' W for a given A. */
export function meanLoss(p: VarProPart, A: Float64Array, k: number, l: number): number {
  const { ry } = p.sums;
  const rr = symmetrizeUpper(Float64Array.from(p.sums.rr), k);
  let s = p.sums.yy[0];
  for (let o = 0; o < l; o++)
    for (let i = 0; i < k; i++) {
      const a = A[o * k + i];
      s -= 2 * a * ry[i * l + o];
      for (let i2 = 0; i2 < k; i2++) s += a * rr[i * k + i2] * A[o * k + i2];
    }
  return Math.max(s, 0) / p.weight;
}

/** Mean gradient of ½·loss w.r.t. W (k×d; sign: W + H⁻¹g lowers the loss) at (A, W). */
export function gradient(p: VarProPart, A: Float64Array, k: number, d: number, l: number): Float64Array {
  const { S1, S2 } = p.sums;
  const g = new Float64Array(k * d);
  const G = gram(A, l, k);
  for (let i = 0; i < k; i++)
    for (let j = 0; j < d; j++) {
      let v = 0;
      const b1 = (i * d + j) * l;
      for (let o = 0; o < l; o++) v += S1[b1 + o] * A[o * k + i];
      const b2 = (i * d + j) * k;
      for (let t = 0; t < k; t++) v -= S2[b2 + t] * G[t * k + i];
      g[i * d + j] = v / p.weight;
    }
  return g;
}

/**
 * The W-block of the Gauss–Newton matrix for output weights A from the pieces M (triLen(k) ×
 * triLen(d), Kernels.refineHessian), every entry divided by `div`: H = G_{i,i2}·M_{(i,i2),(j,j2)} / div,
 * formed in that order, G = AᵀA. H is symmetric: each entry is computed once and written to
 * both triangles.
 */
export function gaussNewtonBlock(M: Float64Array, A: Float64Array, k: number, d: number, l: number, div = 1): Float64Array {
  const md = triLen(d);
  const G = gram(A, l, k);
  const p = k * d;
  const H = new Float64Array(p * p);
  const tri = new Int32Array(d * d);
  for (let j = 0; j < d; j++) for (let j2 = 0; j2 < d; j2++) tri[j * d + j2] = triIndex(Math.min(j, j2), Math.max(j, j2), d);
  for (let i = 0; i < k; i++)
    for (let i2 = i; i2 < k; i2++) {
      const row = triIndex(i, i2, k) * md;
      const g = G[i * k + i2];
      for (let j = 0; j < d; j++) {
        const a = (i * d + j) * p + i2 * d;
        for (let j2 = 0; j2 < d; j2++) {
          const v = (g * M[row + tri[j * d + j2]]) / div;
          H[a + j2] = v;
          H[(i2 * d + j2) * p + i * d + j] = v;
        }
      }
    }
  return H;
}

/**
 * The Gauss–Newton matrix of the loss as a function of W alone (A eliminated), from the sums of
 * one sample set: the W-block minus the coupling through A, H_WW − H_WA·H_AA⁻¹·H_AW. Per unit
 * pair (i, i2), as means: H_WW = G_{i,i2}·M_{i,i2}/wM and the coupling
 * G_{i,i2}·S2_i·(Σρrrᵀ)⁻¹·S2_i2ᵀ/w. Without the coupling the steps are too short along
 * directions that A can absorb, and convergence is only linear.
 */
export function reducedHessian(p: VarProPart, M: Float64Array, wM: number, A: Float64Array, k: number, d: number, l: number): Float64Array {
  const { S2 } = p.sums;
  const H = gaussNewtonBlock(M, A, k, d, l, wM);
  const G = gram(A, l, k);
  // R = S2_i·rr⁻¹ for every unit (d×k each); with S2/w and rr/w the w cancels once.
  const rr = symmetrizeUpper(Float64Array.from(p.sums.rr), k);
  const pk = k * d;
  // All units at once: rr⁻¹·S2ᵀ (k×kd), one LU; every right-hand side is solved on its own.
  const R = transpose(solve(rr, transpose(S2, pk, k), k, pk), k, pk); // kd×k, row i·d + j: S2_i[j]·rr⁻¹
  const inv = 1 / p.weight;
  // The coupling S2·rr⁻¹·S2ᵀ is symmetric, as are G and H: each entry is formed once, for
  // column ≥ row, and subtracted from both triangles, so H stays exactly symmetric.
  for (let i = 0; i < k; i++)
    for (let j = 0; j < d; j++) {
      const a = i * d + j;
      const Rrow = a * k;
      for (let b = a; b < pk; b++) {
        const g = G[i * k + ((b / d) | 0)] * inv;
        if (g === 0) continue;
        const Srow = b * k;
        let v = 0;
        for (let t = 0; t < k; t++) v += R[Rrow + t] * S2[Srow + t];
        const c = g * v;
        H[a * pk + b] -= c;
        if (b !== a) H[b * pk + a] -= c;
      }
    }
  return H;
}

/** AᵀA (k×k) for A l×k, each entry summed over outputs in order. */
function gram(A: Float64Array, l: number, k: number): Float64Array {
  const G = new Float64Array(k * k);
  for (let i = 0; i < k; i++)
    for (let t = 0; t < k; t++) {
      let v = 0;
      for (let o = 0; o < l; o++) v += A[o * k + i] * A[o * k + t];
      G[i * k + t] = v;
    }
  return G;
}

/**
 * Solves (H + μI)δ = g with a tiny ridge μ (H can be singular when a unit is rarely active, and
 * is always singular along the k scale directions δw_i ∝ w_i, which the loss with A eliminated
 * does not see). H is a Gauss–Newton matrix, symmetric positive semidefinite, so Cholesky
 * (3× cheaper than LU; Kernels.cholesky, the same bits on either backend) solves it; LU is the
 * fallback should rounding leave a pivot that is not positive.
 */
export function newtonStep(H: Float64Array, g: Float64Array, kernels: Kernels): Float64Array {
  const p = g.length;
  let tr = 0;
  for (let i = 0; i < p; i++) tr += H[i * p + i];
  const Hm = Float64Array.from(H);
  const mu = (1e-9 * tr) / p;
  for (let i = 0; i < p; i++) Hm[i * p + i] += mu;
  // A failed factor leaves Hm unchanged (Kernels.cholesky), so LU can take it as it is.
  const delta = choleskySolve(Hm, g, p, kernels) ?? solve(Hm, g, p, 1);
  if (!delta.every(Number.isFinite)) throw new PureneuronError('NUMERICAL_FAILURE', 'refinement: the Gauss–Newton system is singular');
  return delta;
}

/**
 * x = S⁻¹b for S symmetric positive definite (p×p row-major; the lower triangle is read and
 * overwritten with the Cholesky factor L, S = L·Lᵀ, by Kernels.cholesky). Undefined when a pivot
 * is not positive (S is then unchanged). The two O(p²) triangular solves run here, row-oriented
 * (every inner loop runs along contiguous rows of L).
 */
export function choleskySolve(S: Float64Array, b: Float64Array, p: number, kernels: Kernels): Float64Array | undefined {
  if (!kernels.cholesky(S, p)) return undefined;
  const x = Float64Array.from(b);
  for (let i = 0; i < p; i++) {
    const ri = i * p;
    let v = x[i];
    for (let t = 0; t < i; t++) v -= S[ri + t] * x[t];
    x[i] = v / S[ri + i];
  }
  for (let i = p - 1; i >= 0; i--) {
    let v = x[i];
    for (let t = i + 1; t < p; t++) v -= S[t * p + i] * x[t];
    x[i] = v / S[i * p + i];
  }
  return x;
}

/**
 * Asymptotic standard error of a refined W (k×d), in compare()'s W-error measure: the least-
 * squares estimate has covariance ≈ σ²·H⁻¹/n (H the mean Gauss–Newton matrix, σ² the residual
 * variance per output = loss/l), so E‖ΔW‖²_F ≈ σ²·tr(H⁻¹)/n, and the error relative to
 * ‖W‖_F = √k (unit rows) is √(σ²·tr(H⁻¹)/(n·k)). H is singular along each row's own direction
 * (the loss cannot see a unit's scale, which A absorbs; compare() normalizes rows too), so the
 * trace is taken on the complement: M = PHP + c·(I − P) with P removing the row directions and
 * c = tr(H)/p, whose inverse adds exactly k/c on the removed directions. Undefined when M is
 * not positive definite. Cost: one Cholesky factor and its inverse, p³/3 for p = k·d
 * (Kernels.cholesky and Kernels.triInverse; the same bits on either backend).
 */
export function refinedStandardError(
  H: Float64Array, W: Float64Array, k: number, d: number, loss: number, l: number, rows: number, kernels: Kernels,
): number | undefined {
  const p = k * d;
  const u = normalizeRows(Float64Array.from(W), k, d);
  let tr = 0;
  for (let i = 0; i < p; i++) tr += H[i * p + i];
  const c = tr / p;
  if (!(c > 0)) return undefined;
  // HP = H·P: for each row r and unit i, subtract (H[r, block i]·u_i)·u_iᵀ from the block.
  const M = Float64Array.from(H);
  for (let r = 0; r < p; r++)
    for (let i = 0; i < k; i++) {
      const at = r * p + i * d;
      let sdot = 0;
      for (let j = 0; j < d; j++) sdot += M[at + j] * u[i * d + j];
      for (let j = 0; j < d; j++) M[at + j] -= sdot * u[i * d + j];
    }
  // P·(M·P): the same for column r and block i of its rows. Swept row by row (all columns r of
  // a block at once, contiguous memory); each column's sum still runs over j ascending from 0.
  const sdots = new Float64Array(p);
  for (let i = 0; i < k; i++) {
    sdots.fill(0);
    for (let j = 0; j < d; j++) {
      const q = i * d + j, at = q * p, uq = u[q];
      for (let r = 0; r < p; r++) sdots[r] += M[at + r] * uq;
    }
    for (let j = 0; j < d; j++) {
      const q = i * d + j, at = q * p, uq = u[q];
      for (let r = 0; r < p; r++) M[at + r] -= sdots[r] * uq;
    }
  }
  for (let i = 0; i < k; i++)
    for (let j = 0; j < d; j++)
      for (let j2 = 0; j2 < d; j2++) M[(i * d + j) * p + i * d + j2] += c * u[i * d + j] * u[i * d + j2];
  // Cholesky M = L·Lᵀ (lower triangle, in place), then tr(M⁻¹) = ‖L⁻¹‖²_F with L⁻¹ in place of
  // L, summed column by column (e), down each column (i ≥ e).
  if (!kernels.cholesky(M, p)) return undefined;
  kernels.triInverse(M, p, M);
  let traceInv = 0;
  for (let e = 0; e < p; e++) {
    for (let i = e; i < p; i++) {
      const v = M[i * p + e];
      traceInv += v * v;
    }
  }
  const varW = (Math.max(loss, 0) / l) * Math.max(traceInv - k / c, 0) / rows;
  return Math.sqrt(varW / k);
}
