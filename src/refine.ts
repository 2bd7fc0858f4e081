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
import { PureneuronError } from './errors.js';
import { secondLayer } from './layers.js';
import { solve, symmetrizeUpper, transpose } from './linalg.js';
import { triIndex, triLen } from './symcoords.js';
import type { Chunk } from './types.js';

/** Σρ m_i m_i' x_j x_j' over pairs i ≤ i' (rows) and j ≤ j' (columns): the pieces of H. */
export class HessianAccumulator {
  readonly M: Float64Array;
  /** Σρ over the samples added. */
  weight = 0;
  private readonly mk: number;
  private readonly md: number;
  private readonly pre: Float64Array;
  private readonly phi: Float64Array;

  constructor(
    private readonly W: Float64Array,
    private readonly k: number,
    private readonly d: number,
  ) {
    this.mk = triLen(k);
    this.md = triLen(d);
    this.M = new Float64Array(this.mk * this.md);
    this.pre = new Float64Array(k);
    this.phi = new Float64Array(this.md);
  }

  add(c: Chunk, rho?: Float64Array): void {
    const { W, k, d, md, M, pre, phi } = this;
    const active: number[] = [];
    for (let s = 0; s < c.rows; s++) {
      const w = rho ? rho[s] : 1;
      this.weight += w;
      const xo = s * d;
      active.length = 0;
      for (let i = 0; i < k; i++) {
        let v = 0;
        for (let j = 0; j < d; j++) v += W[i * d + j] * c.x[xo + j];
        pre[i] = v;
        if (v > 0) active.push(i);
      }
      if (active.length === 0) continue;
      let o = 0;
      for (let j = 0; j < d; j++) {
        const xj = c.x[xo + j] * w;
        for (let t = j; t < d; t++) phi[o++] = xj * c.x[xo + t];
      }
      for (let a = 0; a < active.length; a++)
        for (let b = a; b < active.length; b++) {
          const row = triIndex(active[a], active[b], k) * md;
          for (let t = 0; t < md; t++) M[row + t] += phi[t];
        }
    }
  }

  /** H (kd×kd, row-major; index i·d + j) for output weights A (l×k). */
  hessian(A: Float64Array, l: number): Float64Array {
    const { k, d, md, M } = this;
    const G = gram(A, l, k);
    const p = k * d;
    const H = new Float64Array(p * p);
    for (let i = 0; i < k; i++)
      for (let i2 = 0; i2 < k; i2++) {
        const row = triIndex(Math.min(i, i2), Math.max(i, i2), k) * md;
        const g = G[i * k + i2];
        for (let j = 0; j < d; j++)
          for (let j2 = 0; j2 < d; j2++) H[(i * d + j) * p + i2 * d + j2] = g * M[row + triIndex(Math.min(j, j2), Math.max(j, j2), d)];
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
 * Gauss–Newton.
 */
export class VarProAccumulator {
  weight = 0;
  yy = 0;
  readonly rr: Float64Array;
  readonly ry: Float64Array;
  readonly S1: Float64Array;
  readonly S2: Float64Array;
  private readonly r: Float64Array;

  constructor(
    private readonly W: Float64Array,
    private readonly k: number,
    private readonly d: number,
    private readonly l: number,
  ) {
    this.rr = new Float64Array(k * k);
    this.ry = new Float64Array(k * l);
    this.S1 = new Float64Array(k * d * l);
    this.S2 = new Float64Array(k * d * k);
    this.r = new Float64Array(k);
  }

  add(c: Chunk, rho?: Float64Array): void {
    const { W, k, d, l, rr, ry, S1, S2, r } = this;
    for (let s = 0; s < c.rows; s++) {
      const w = rho ? rho[s] : 1;
      const xo = s * d;
      const yo = s * l;
      for (let i = 0; i < k; i++) {
        let v = 0;
        for (let j = 0; j < d; j++) v += W[i * d + j] * c.x[xo + j];
        r[i] = v > 0 ? v : 0;
      }
      let yy = 0;
      for (let o = 0; o < l; o++) yy += c.y[yo + o] * c.y[yo + o];
      this.yy += w * yy;
      this.weight += w;
      for (let i = 0; i < k; i++) {
        const ri = r[i];
        if (!(ri > 0)) continue;
        const wr = w * ri;
        for (let i2 = i; i2 < k; i2++) rr[i * k + i2] += wr * r[i2];
        for (let o = 0; o < l; o++) ry[i * l + o] += wr * c.y[yo + o];
        for (let j = 0; j < d; j++) {
          const wx = w * c.x[xo + j];
          const b1 = (i * d + j) * l;
          for (let o = 0; o < l; o++) S1[b1 + o] += wx * c.y[yo + o];
          const b2 = (i * d + j) * k;
          for (let t = 0; t < k; t++) S2[b2 + t] += wx * r[t];
        }
      }
    }
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
    const H = hes.hessian(A, l).map((v) => v / hes.weight);
    const G = gram(A, l, k);
    // R = S2_i·(rr)⁻¹ for every unit (d×k each), means: S2/w and rr/w so R = S2·rr⁻¹ (w cancels once).
    const rr = symmetrizeUpper(Float64Array.from(this.rr), k);
    const R = new Float64Array(k * d * k);
    for (let i = 0; i < k; i++) {
      const Si = S2.subarray(i * d * k, (i + 1) * d * k); // d×k
      const X = solve(rr, transpose(Si, d, k), k, d); // rr⁻¹·S2_iᵀ (k×d)
      R.set(transpose(X, k, d), i * d * k);
    }
    const p = k * d;
    const inv = 1 / this.weight;
    for (let i = 0; i < k; i++)
      for (let i2 = 0; i2 < k; i2++) {
        const g = G[i * k + i2] * inv;
        if (g === 0) continue;
        for (let j = 0; j < d; j++) {
          const Rrow = (i * d + j) * k;
          for (let j2 = 0; j2 < d; j2++) {
            const Srow = (i2 * d + j2) * k;
            let v = 0;
            for (let t = 0; t < k; t++) v += R[Rrow + t] * S2[Srow + t];
            H[(i * d + j) * p + i2 * d + j2] -= g * v;
          }
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

/** Solves (H + μI)δ = g with a tiny ridge μ (H can be singular when a unit is rarely active). */
export function newtonStep(H: Float64Array, g: Float64Array): Float64Array {
  const p = g.length;
  let tr = 0;
  for (let i = 0; i < p; i++) tr += H[i * p + i];
  const Hm = Float64Array.from(H);
  const mu = (1e-9 * tr) / p;
  for (let i = 0; i < p; i++) Hm[i * p + i] += mu;
  const delta = solve(Hm, g, p, 1);
  if (!delta.every(Number.isFinite)) throw new PureneuronError('NUMERICAL_FAILURE', 'refinement: the Gauss–Newton system is singular');
  return delta;
}
