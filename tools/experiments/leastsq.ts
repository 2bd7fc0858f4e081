/**
 * The least-squares optimum of a set of samples, computed independently of the learner's
 * refinement (src/method/refine.ts is not used): min over (A, W) of Σ_r ‖y_r − A·relu(W·x_r)‖²,
 * unweighted, by Gauss–Newton in the joint (A, W) space over EVERY given sample, started where
 * the caller says (the planted truth for the optimum, the spectral estimate for the old
 * "first 1e5 samples" refinement), iterated until the relative step falls below a tolerance.
 *
 * Per iteration, one pass over the samples takes the sums of the kernels (src/kernels/types.ts)
 * at the current (A, W) — refineVarPro (rr, ry, S1, S2), refineHessian (M) and refineGradient (the
 * loss Σ‖e‖²) — and the dense Gauss–Newton system is formed and solved here in plain JS:
 *   J for p = A·r, r = relu(W·x), m = 1[W·x > 0]:  ∂p_o/∂A_ot = r_t,  ∂p_o/∂W_ij = A_oi·m_i·x_j
 *   JᵀJ:  AA  δ_oo'·Σ r_t r_t'                    = δ_oo'·rr[t][t']
 *         AW  Σ r_t·A_oi·m_i·x_j                   = A_oi·S2[(i·d + j)·k + t]
 *         WW  (AᵀA)_ii'·Σ m_i m_i' x_j x_j'        = (AᵀA)_ii'·M[(i,i')][(j,j')]
 *   Jᵀe:  A   Σ e_o r_t = ry[t][o] − Σ_t' A_ot'·rr[t'][t]
 *         W   Σ m_i (Aᵀe)_i x_j = Σ_o A_oi·S1[(i·d + j)·l + o] − Σ_t (AᵀA)_it·S2[(i·d + j)·k + t]
 * The gradient is formed from the variable-projection sums, not from refineGradient's W-gradient
 * (which the learner's refinement uses), so a fault in one would show as a disagreement.
 * The k positive-rescaling directions (w_i → s·w_i, a_i → a_i/s) make JᵀJ singular; adding
 * c·u_i·u_iᵀ with u_i the unit vector of w_i (in the W block) makes it definite and leaves the
 * Gauss–Newton step with no component along w_i (the gradient is orthogonal to the null
 * directions, see the comment at `solveStep`). Each step is scaled by a line search (the
 * parabola through the loss, its slope and the loss at the full step; then halving while the loss
 * does not fall): the loss is only piecewise smooth, and along the weakly determined directions
 * its curvature differs from the Gauss–Newton model's (measured: 1.7× at n = 1e5), so full steps
 * would oscillate there. Stopping rule: see `leastSquares`.
 */
import type { Kernels } from '../../src/kernels/types.js';
import type { Network } from '../../src/types.js';

export interface LeastSquaresOptions {
  /** Stop when ‖Δθ‖/‖θ‖ falls below this (default 1e-10). */
  tol?: number;
  /** Gauss–Newton iterations at most (default 30). */
  maxIterations?: number;
  /** Rows per kernel call (default 16384). */
  chunkRows?: number;
  /** Called after every pass with the iteration, the mean loss and the relative step. */
  onIteration?: (it: { iteration: number; loss: number; step: number; accepted: boolean }) => void;
}

export interface LeastSquaresResult {
  W: Float64Array;
  A: Float64Array;
  /** Passes over the samples (each a Gauss–Newton system, one per accepted or rejected step). */
  passes: number;
  /** Accepted Gauss–Newton steps. */
  iterations: number;
  /** The last relative step ‖Δθ‖/‖θ‖ (θ = (A, W)), as scaled by the line search (the one rejected, when the floor ended the iteration on a rejection). */
  step: number;
  /** Σ‖y − A·relu(W·x)‖² / (n·l) at the returned point's last evaluated pass. */
  loss: number;
  /** Stopped at a minimum: the step fell below tol, or the loss reached its floor (see leastSquares). */
  converged: boolean;
  /** Why it stopped: 'step' (‖Δθ‖/‖θ‖ < tol), 'floor' (the loss no longer falls), 'maxIterations', 'stalled' (30 halvings did not lower the loss). */
  stop: 'step' | 'floor' | 'maxIterations' | 'stalled';
  ms: number;
}

interface Sums {
  rr: Float64Array;
  ry: Float64Array;
  S1: Float64Array;
  S2: Float64Array;
  M: Float64Array;
  ee: number;
}

const triLen = (m: number): number => (m * (m + 1)) / 2;
const triIndex = (i: number, j: number, m: number): number => i * m - (i * (i - 1)) / 2 + (j - i);

/** One pass: the sums at (A, W) over rows [0, n). */
function pass(kernels: Kernels, x: Float64Array, y: Float64Array, n: number, d: number, l: number, k: number, A: Float64Array, W: Float64Array, chunk: number): Sums {
  const vp = { rr: new Float64Array(k * k), ry: new Float64Array(k * l), S1: new Float64Array(k * d * l), S2: new Float64Array(k * d * k), yy: new Float64Array(1) };
  const M = new Float64Array(triLen(k) * triLen(d));
  const gs = { rr: new Float64Array(k * k), ry: new Float64Array(k * l), gW: new Float64Array(k * d), ee: new Float64Array(1), yy: new Float64Array(1) };
  for (let r0 = 0; r0 < n; r0 += chunk) {
    const rows = Math.min(chunk, n - r0);
    const xc = x.subarray(r0 * d, (r0 + rows) * d);
    const yc = y.subarray(r0 * l, (r0 + rows) * l);
    kernels.refineVarPro(vp, W, k, xc, yc, rows, d, l, null);
    kernels.refineHessian(M, W, k, xc, rows, d, null);
    kernels.refineGradient(gs, W, A, k, xc, yc, rows, d, l);
  }
  return { rr: vp.rr, ry: vp.ry, S1: vp.S1, S2: vp.S2, M, ee: gs.ee[0] };
}

/** The Gauss–Newton matrix JᵀJ (P×P, both triangles) and Jᵀe at (A, W) from the sums. θ = [A (l×k), W (k×d)]. */
export function gaussNewtonSystem(s: Sums, A: Float64Array, W: Float64Array, d: number, k: number, l: number): { H: Float64Array; g: Float64Array } {
  const nA = l * k;
  const P = nA + k * d;
  const H = new Float64Array(P * P);
  const g = new Float64Array(P);
  const rr = (t: number, u: number): number => (t <= u ? s.rr[t * k + u] : s.rr[u * k + t]);
  const G = new Float64Array(k * k); // AᵀA
  for (let i = 0; i < k; i++)
    for (let t = 0; t < k; t++) {
      let v = 0;
      for (let o = 0; o < l; o++) v += A[o * k + i] * A[o * k + t];
      G[i * k + t] = v;
    }
  // AA block.
  for (let o = 0; o < l; o++)
    for (let t = 0; t < k; t++) for (let u = 0; u < k; u++) H[(o * k + t) * P + o * k + u] = rr(t, u);
  // AW block and its transpose.
  for (let o = 0; o < l; o++)
    for (let t = 0; t < k; t++) {
      const row = o * k + t;
      for (let i = 0; i < k; i++) {
        const a = A[o * k + i];
        for (let j = 0; j < d; j++) {
          const v = a * s.S2[(i * d + j) * k + t];
          const col = nA + i * d + j;
          H[row * P + col] = v;
          H[col * P + row] = v;
        }
      }
    }
  // WW block.
  const md = triLen(d);
  for (let i = 0; i < k; i++)
    for (let i2 = 0; i2 < k; i2++) {
      const gi = G[i * k + i2];
      const base = triIndex(Math.min(i, i2), Math.max(i, i2), k) * md;
      for (let j = 0; j < d; j++)
        for (let j2 = 0; j2 < d; j2++) H[(nA + i * d + j) * P + nA + i2 * d + j2] = gi * s.M[base + triIndex(Math.min(j, j2), Math.max(j, j2), d)];
    }
  // Gradient (descent direction): Jᵀe.
  for (let o = 0; o < l; o++)
    for (let t = 0; t < k; t++) {
      let v = s.ry[t * l + o];
      for (let u = 0; u < k; u++) v -= A[o * k + u] * rr(u, t);
      g[o * k + t] = v;
    }
  for (let i = 0; i < k; i++)
    for (let j = 0; j < d; j++) {
      let v = 0;
      for (let o = 0; o < l; o++) v += A[o * k + i] * s.S1[(i * d + j) * l + o];
      for (let t = 0; t < k; t++) v -= G[i * k + t] * s.S2[(i * d + j) * k + t];
      g[nA + i * d + j] = v;
    }
  return { H, g };
}

/** In-place Cholesky (lower triangle) of a P×P matrix; false when not positive definite. */
function cholesky(H: Float64Array, P: number): boolean {
  for (let j = 0; j < P; j++) {
    let v = H[j * P + j];
    for (let t = 0; t < j; t++) v -= H[j * P + t] * H[j * P + t];
    if (!(v > 0)) return false;
    const djj = Math.sqrt(v);
    H[j * P + j] = djj;
    for (let i = j + 1; i < P; i++) {
      let w = H[i * P + j];
      const ri = i * P;
      const rj = j * P;
      for (let t = 0; t < j; t++) w -= H[ri + t] * H[rj + t];
      H[ri + j] = w / djj;
    }
  }
  return true;
}

function choleskySolve(L: Float64Array, P: number, b: Float64Array): Float64Array {
  const z = Float64Array.from(b);
  for (let i = 0; i < P; i++) {
    let v = z[i];
    for (let t = 0; t < i; t++) v -= L[i * P + t] * z[t];
    z[i] = v / L[i * P + i];
  }
  for (let i = P - 1; i >= 0; i--) {
    let v = z[i];
    for (let t = i + 1; t < P; t++) v -= L[t * P + i] * z[t];
    z[i] = v / L[i * P + i];
  }
  return z;
}

/**
 * The Gauss–Newton step δ with H·δ = g and no component along any w_i. The null directions of
 * H are n_i = (−a_i in the A block, w_i in row i of the W block); g ⊥ n_i (the loss is invariant
 * along them). With H' = H + c·Σ u_i u_iᵀ (u_i = w_i/‖w_i‖ in row i of W), H'δ = g gives, dotted
 * with n_i, c·‖w_i‖·(u_iᵀδ) = 0: so u_iᵀδ = 0 and Hδ = g. If H' is still not definite (a unit
 * inactive on every sample), a Levenberg damping λ·diag is added, growing until it factors.
 */
function solveStep(H: Float64Array, g: Float64Array, W: Float64Array, d: number, k: number, l: number): Float64Array {
  const nA = l * k;
  const P = nA + k * d;
  let trace = 0;
  for (let p = 0; p < P; p++) trace += H[p * P + p];
  const c = trace / P;
  for (let i = 0; i < k; i++) {
    let nn = 0;
    for (let j = 0; j < d; j++) nn += W[i * d + j] ** 2;
    const inv = 1 / Math.sqrt(nn);
    for (let j = 0; j < d; j++)
      for (let j2 = 0; j2 < d; j2++) H[(nA + i * d + j) * P + nA + i * d + j2] += c * W[i * d + j] * inv * W[i * d + j2] * inv;
  }
  let lambda = 0;
  const diag = Float64Array.from({ length: P }, (_, p) => H[p * P + p]);
  for (let attempt = 0; attempt < 40; attempt++) {
    const L = Float64Array.from(H);
    if (lambda > 0) for (let p = 0; p < P; p++) L[p * P + p] = diag[p] * (1 + lambda) + lambda * c * 1e-12;
    if (cholesky(L, P)) return choleskySolve(L, P, g);
    lambda = lambda === 0 ? 1e-12 : lambda * 10;
  }
  throw new Error('the Gauss–Newton system could not be factored');
}

const norm = (v: Float64Array): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

/**
 * The loss's floor ends the iteration: a relative step below FLOOR_ACCEPT × the first step that
 * lowers the loss by less than FLOOR_LOSS (relative), or one below FLOOR_REJECT × the first step
 * that raises it (instead of halving it further).
 */
const FLOOR_ACCEPT = 1e-3;
const FLOOR_REJECT = 1e-2;
const FLOOR_LOSS = 1e-6;

/**
 * Gauss–Newton least squares over rows [0, n) of (x, y) from `start` (see the module comment).
 * x n×d, y n×l row-major; only the first n rows are read.
 *
 * Stops when (a) the relative step ‖Δθ‖/‖θ‖ falls below `tol` ('step'), or (b) at the loss's
 * floor ('floor'): a step below 1e-3 × the first step lowers the loss by less than 1e-6 of
 * itself, or a step below 1e-2 × the first step raises it. The loss is only piecewise smooth:
 * each sample whose w_i·x changes sign makes the gradient jump by ~|e|·|a_i|·|x|, so below a
 * relative scale of ~σ/n·O(1) (measured: ~1e-5 at n = 1e4, ~1e-7 at n = 1e6) the loss is rough,
 * its minimum is defined only to that scale and the Gauss–Newton steps stop shrinking. The point
 * returned is the optimum to within its last step (`step`, reported), which is 1e-3–1e-2 of the
 * distance from the start (from the truth: of the optimum's own error) or less. Noiseless fits
 * are not stopped by (b): each step there lowers the loss by orders of magnitude, down to (a).
 */
export function leastSquares(kernels: Kernels, x: Float64Array, y: Float64Array, n: number, start: Network, o: LeastSquaresOptions = {}): LeastSquaresResult {
  const t0 = performance.now();
  const { d, k, l } = start;
  const tol = o.tol ?? 1e-10;
  const maxIt = o.maxIterations ?? 30;
  const chunk = o.chunkRows ?? 16384;
  const nA = l * k;
  let A = Float64Array.from(start.A);
  let W = Float64Array.from(start.W);
  let s = pass(kernels, x, y, n, d, l, k, A, W, chunk);
  let passes = 1;
  let iterations = 0;
  let step = Infinity;
  let stop: LeastSquaresResult['stop'] = 'maxIterations';
  let firstStep = NaN;
  const denom = n * l;
  o.onIteration?.({ iteration: 0, loss: s.ee / denom, step: NaN, accepted: true });
  while (iterations < maxIt) {
    const { H, g } = gaussNewtonSystem(s, A, W, d, k, l);
    const delta = solveStep(H, g, W, d, k, l);
    const thetaNorm = Math.hypot(norm(A), norm(W));
    const full = norm(delta) / thetaNorm;
    if (Number.isNaN(firstStep)) firstStep = full;
    const at = (t: number) => ({ A: A.map((v, p) => v + t * delta[p]), W: W.map((v, p) => v + t * delta[nA + p]) });
    if (full < tol) {
      // Below the tolerance: taken without another pass (it cannot move the W error measurably).
      ({ A, W } = at(1));
      iterations++;
      step = full;
      stop = 'step';
      break;
    }
    // Line search: L(t) = Σ‖e‖² at θ + t·δ, L'(0) = −2·gᵀδ; the parabola through L(0), L'(0) and
    // L(1) gives t*, tried when it is not ≈ 1. Then halving while the loss does not fall.
    let slope = 0;
    for (let p = 0; p < delta.length; p++) slope -= 2 * g[p] * delta[p];
    let t = 1;
    let cand = at(1);
    let sc = pass(kernels, x, y, n, d, l, k, cand.A, cand.W, chunk);
    passes++;
    const q = sc.ee - s.ee - slope;
    if (q > 0) {
      const tStar = Math.min(2, Math.max(1 / 64, -slope / (2 * q)));
      if (Math.abs(tStar - 1) > 0.15) {
        const c2 = at(tStar);
        const s2 = pass(kernels, x, y, n, d, l, k, c2.A, c2.W, chunk);
        passes++;
        if (s2.ee < sc.ee) ({ t, cand, sc } = { t: tStar, cand: c2, sc: s2 });
      }
    }
    let ok = sc.ee <= s.ee * (1 + 1e-12);
    for (let halvings = 0; !ok && halvings < 30 && t * full >= FLOOR_REJECT * firstStep; halvings++) {
      t /= 2;
      cand = at(t);
      sc = pass(kernels, x, y, n, d, l, k, cand.A, cand.W, chunk);
      passes++;
      ok = sc.ee <= s.ee * (1 + 1e-12);
    }
    step = t * full;
    o.onIteration?.({ iteration: iterations + 1, loss: sc.ee / denom, step, accepted: ok });
    if (!ok) {
      // No decrease along the Gauss–Newton direction down to a hundredth of the first step: the floor.
      stop = step < FLOOR_REJECT * firstStep ? 'floor' : 'stalled';
      break;
    }
    const decrease = (s.ee - sc.ee) / Math.max(s.ee, Number.MIN_VALUE);
    ({ A, W } = cand);
    s = sc;
    iterations++;
    if (step < FLOOR_ACCEPT * firstStep && decrease < FLOOR_LOSS) {
      stop = 'floor';
      break;
    }
  }
  return { W, A, passes, iterations, step, loss: s.ee / denom, converged: stop === 'step' || stop === 'floor', stop, ms: performance.now() - t0 };
}
