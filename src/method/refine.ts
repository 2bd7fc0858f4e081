/**
 * Optional local refinement of (A, W) on the squared loss, started from the spectral estimate
 * (not in the paper). Minimizes Σ_s ρ_s‖y_s − A·relu(W·x_s)‖² (ρ the same even sample weights
 * as the spectral passes, 1 when unweighted) by alternating:
 *   - A ← least squares of y on relu(W·x) (exact given W),
 *   - W ← W + H⁻¹g, a Gauss–Newton step for W with A fixed, where g = Σρ (Aᵀe ∘ m) xᵀ
 *     (e = y − A·relu(Wx), m = 1[Wx > 0]) and H = Σρ [(AᵀA) ∘ (m mᵀ)] ⊗ (x xᵀ) (kd×kd).
 * Each iteration is one streamed pass at the current (A, W) that accumulates g and the A normal
 * equations over all samples read, and H over the first few thousand of them (H only steers
 * the step; an approximate H costs a little convergence speed, never accuracy). A step that
 * raises the loss is halved. The start is inside the basin, which is what makes a local
 * method safe here: no restarts, no learning rate to tune.
 */
import { PureneuronError } from '../errors.js';
import { jsKernels } from '../kernels/js/index.js';
import type { Kernels, RowWeights, VarProSums } from '../kernels/types.js';
import { secondLayer } from './layers.js';
import { normalizeRows, solve, symmetrizeUpper, transpose } from '../math/linalg.js';
import { triIndex, triLen } from '../math/symcoords.js';
import type { Chunk } from '../types.js';
import { weightSum } from './weights.js';

/**
 * Σρ m_i m_i' x_j x_j' over unit pairs i ≤ i' (rows) and j ≤ j' (columns): the pieces of H
 * (Kernels.refineHessian). `kernels` only sets the speed (both backends give the same bits);
 * accumulators that only absorb a pass state may omit it.
 */
export class HessianAccumulator {
  readonly M: Float64Array;
  /** Σρ over the samples added. */
  weight = 0;
  private readonly md: number;

  constructor(
    private readonly W: Float64Array,
    private readonly k: number,
    private readonly d: number,
    private readonly kernels: Kernels = jsKernels,
  ) {
    this.md = triLen(d);
    this.M = new Float64Array(triLen(k) * this.md);
  }

  add(c: Chunk, rho?: RowWeights): void {
    this.kernels.refineHessian(this.M, this.W, this.k, c.x, c.rows, this.d, rho ?? null);
    this.weight += weightSum(rho, c.rows);
  }

  /**
   * H (kd×kd, row-major; index i·d + j) for output weights A (l×k), every entry divided by
   * `div` (H = G_{i,i2}·M_{(i,i2),(j,j2)} / div, formed in that order). H is symmetric: each
   * entry is computed once and written to both triangles.
   */
  hessian(A: Float64Array, l: number, div = 1): Float64Array {
    const { k, d, md, M } = this;
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
}

/**
 * One pass at W, with A eliminated (variable projection): A*(W) is the least-squares A for
 * this W, and the W-gradient is taken at (A*(W), W) without knowing A* during the pass,
 * because g_i = Σρ m_i (a_iᵀe) x with e = y − A·r is linear in the per-unit sums
 *   S1_i = Σρ m_i x yᵀ (d×l) and S2_i = Σρ m_i x rᵀ (d×k):  g_i = S1_i a_i − S2_i (Aᵀa_i).
 * The loss at (A*, W) follows from Σρ‖y‖², Σρ r rᵀ and Σρ r yᵀ. Alternating A and W steps
 * instead converges only linearly (the two blocks are strongly coupled); this converges like
 * Gauss–Newton. The sums come from Kernels.refineVarPro (`kernels` as in HessianAccumulator).
 */
export class VarProAccumulator {
  weight = 0;
  readonly sums: VarProSums;

  constructor(
    private readonly W: Float64Array,
    private readonly k: number,
    private readonly d: number,
    private readonly l: number,
    private readonly kernels: Kernels = jsKernels,
  ) {
    this.sums = {
      rr: new Float64Array(k * k),
      ry: new Float64Array(k * l),
      S1: new Float64Array(k * d * l),
      S2: new Float64Array(k * d * k),
      yy: new Float64Array(1),
    };
  }

  /** Σρ r rᵀ (k×k, upper triangle). */
  get rr(): Float64Array { return this.sums.rr; }
  /** Σρ r yᵀ (k×l). */
  get ry(): Float64Array { return this.sums.ry; }
  /** Σρ m_i x yᵀ per unit ((k·d)×l). */
  get S1(): Float64Array { return this.sums.S1; }
  /** Σρ m_i x rᵀ per unit ((k·d)×k). */
  get S2(): Float64Array { return this.sums.S2; }
  /** Σρ‖y‖². */
  get yy(): number { return this.sums.yy[0]; }
  set yy(v: number) { this.sums.yy[0] = v; }

  add(c: Chunk, rho?: RowWeights): void {
    this.kernels.refineVarPro(this.sums, this.W, this.k, c.x, c.y, c.rows, this.d, this.l, rho ?? null);
    this.weight += weightSum(rho, c.rows);
  }

  /** Copies another accumulator's sums and weight into this one (same shapes). */
  copyFrom(o: VarProAccumulator): void {
    for (const key of ['rr', 'ry', 'S1', 'S2', 'yy'] as const) this.sums[key].set(o.sums[key]);
    this.weight = o.weight;
  }

  /**
   * The Gauss–Newton matrix of the loss as a function of W alone (A eliminated): the W-block
   * minus the coupling through A, H_WW − H_WA·H_AA⁻¹·H_AW. With G = AᵀA, per unit pair (i, i2):
   *   H_WW = G_{i,i2}·M_{i,i2}  (M from `hes`, over its own samples),
   *   H_WA·H_AA⁻¹·H_AW = G_{i,i2}·S2_i·(Σρrrᵀ)⁻¹·S2_i2ᵀ,
   * all as means. Without the coupling term the steps are too short along directions that A
   * can absorb, and convergence is only linear.
   */
  reducedHessian(hes: HessianAccumulator, A: Float64Array): Float64Array {
    const { k, d, l, S2 } = this;
    const H = hes.hessian(A, l, hes.weight);
    const G = gram(A, l, k);
    // R = S2_i·(rr)⁻¹ for every unit (d×k each), means: S2/w and rr/w so R = S2·rr⁻¹ (w cancels once).
    const rr = symmetrizeUpper(Float64Array.from(this.rr), k);
    const p = k * d;
    // All units at once: rr⁻¹·S2ᵀ (k×kd), one LU; every right-hand side is solved on its own.
    const R = transpose(solve(rr, transpose(S2, p, k), k, p), k, p); // kd×k, row i·d + j: S2_i[j]·rr⁻¹
    const inv = 1 / this.weight;
    // The coupling S2·rr⁻¹·S2ᵀ is symmetric, as are G and H: each entry is formed once, for
    // column ≥ row, and subtracted from both triangles, so H stays exactly symmetric.
    for (let i = 0; i < k; i++)
      for (let j = 0; j < d; j++) {
        const a = i * d + j;
        const Rrow = a * k;
        for (let b = a; b < p; b++) {
          const g = G[i * k + ((b / d) | 0)] * inv;
          if (g === 0) continue;
          const Srow = b * k;
          let v = 0;
          for (let t = 0; t < k; t++) v += R[Rrow + t] * S2[Srow + t];
          const c = g * v;
          H[a * p + b] -= c;
          if (b !== a) H[b * p + a] -= c;
        }
      }
    return H;
  }

  /** A*(W) (l×k), or undefined if the normal equations are singular. */
  leastSquaresA(): Float64Array | undefined {
    try {
      return secondLayer(this, this.k, this.l);
    } catch {
      return undefined;
    }
  }

  /** Mean loss Σρ‖y − A·r‖² / Σρ at this W for a given A. */
  loss(A: Float64Array): number {
    const { k, l } = this;
    const rr = symmetrizeUpper(Float64Array.from(this.rr), k);
    let s = this.yy;
    for (let o = 0; o < l; o++)
      for (let i = 0; i < k; i++) {
        const a = A[o * k + i];
        s -= 2 * a * this.ry[i * l + o];
        for (let i2 = 0; i2 < k; i2++) s += a * rr[i * k + i2] * A[o * k + i2];
      }
    return Math.max(s, 0) / this.weight;
  }

  /** Mean gradient of ½·loss w.r.t. W (k×d, descent direction sign: W + H⁻¹g lowers the loss) at (A, W). */
  gradient(A: Float64Array): Float64Array {
    const { k, d, l, S1, S2 } = this;
    const g = new Float64Array(k * d);
    const G = gram(A, l, k);
    for (let i = 0; i < k; i++)
      for (let j = 0; j < d; j++) {
        let v = 0;
        const b1 = (i * d + j) * l;
        for (let o = 0; o < l; o++) v += S1[b1 + o] * A[o * k + i];
        const b2 = (i * d + j) * k;
        for (let t = 0; t < k; t++) v -= S2[b2 + t] * G[t * k + i];
        g[i * d + j] = v / this.weight;
      }
    return g;
  }
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
