/**
 * Step 5 of the method (README, Method in brief; not in the paper): refinement of (A, W) to the
 * least-squares optimum of ALL the samples, min Σ_s ‖y_s − A·relu(W·x_s)‖² (unweighted: under
 * Gaussian noise this is the maximum-likelihood estimate), from the spectral estimate W0, which
 * lies inside its basin — what makes a local method safe here: no restarts, no step size.
 *
 * Every step is a Newton step in the joint (A, W) space with ONE matrix H̃: the Gauss–Newton
 * matrix of an in-memory subsample S (rows chosen by row hash in pass 2, spread over the data),
 * formed once at W0 and factored once (JointMatrix), and the exact gradient of the loss being
 * minimized at the current point:
 *  A. over S (cheap passes over memory), with A eliminated, to the optimum of S;
 *  B. over all the samples (one streamed pass each, passes/gradient.ts), to the all-sample
 *     optimum; the last pass is pass 3: the step it gives is the last one taken, and its normal
 *     equations the fallback A.
 * The fixed point of the steps is where the gradient vanishes, whatever H̃ is; H̃ only sets the
 * contraction per step: ~√(kd/|S|) for S against all the samples (sampling), and ~‖W − W0‖ on
 * S itself (the matrix was formed at W0). Forming H̃ costs O(|S|·k²d²/4) and factoring it
 * (kd)³/3, so once instead of per step is what makes the refinement affordable to k·d ≈ 6000.
 * When a step on S raises S's loss (a start far from the optimum), H̃ is formed again at the
 * best point, and steps are halved if that is not enough (Gauss–Newton with a line search).
 *
 * Layouts: W k×d and A l×k row-major; matrices over W are (kd)×(kd) with index i·d + j for
 * unit i, input j.
 */
import { PureneuronError } from '../errors.js';
import type { GradientSums, Kernels, VarProSums } from '../kernels/types.js';
import { solve, symmetrizeUpper, transpose, normalizeRows } from '../math/linalg.js';
import { triIndex, triLen } from '../math/symcoords.js';
import { secondLayer } from './layers.js';

/** Rows of the data in memory: x rows×d, y rows×l, row-major (the refinement's subsample). */
export interface Sample {
  x: Float64Array;
  y: Float64Array;
  rows: number;
}

/** Variable-projection sums (Kernels.refineVarPro) over some samples, with their Σρ. */
export interface VarProPart {
  sums: VarProSums;
  weight: number;
}

/** The subsample's sums that form its Gauss–Newton matrix at W (passes/refine.ts): variable-projection sums and M (Kernels.refineHessian), over the same rows. */
export interface RefineSums {
  part: VarProPart;
  M: Float64Array;
}

/** One gradient pass's sums (Kernels.refineGradient) over n samples. */
export interface GradientPassSums {
  sums: GradientSums;
  n: number;
}

/** What the refinement did (Diagnostics.refinement). */
export interface RefineReport {
  /** Rows of the in-memory subsample. */
  samples: number;
  /** Steps on the subsample (phase A), and how often its matrix was formed (1, or more after a step that raised the loss). */
  iterations: number;
  matrices: number;
  /** Mean loss on the subsample at each point phase A evaluated. */
  losses: number[];
  /**
   * The passes over all the samples (phase B, the last one pass 3): the mean loss at the point
   * the pass evaluated, the norm of the mean gradient there, and the norm of the step it gave
   * (both relative to ‖W‖_F).
   */
  passes: { loss: number; gradient: number; step: number }[];
  /** The steps fell below the statistical error (or to rounding, on exact data): the W returned is the all-sample optimum. */
  converged: boolean;
  /** Asymptotic standard error of the returned W (see Diagnostics.errorEstimate), when computed. */
  standardError?: number;
  /** Why the refinement stopped before converging (the W kept is the best one evaluated). */
  stopped?: string;
}

export type RefineOptions = { refine: number | 'auto'; refineSamples: number | 'auto' };

/** What the caller streams: passes over the in-memory subsample, and a pass over all the samples at (A, W). */
export interface RefineIO {
  sample: Sample;
  /** The subsample's Gauss–Newton sums at W (the matrix). */
  matrixPass: (W: Float64Array) => Promise<RefineSums>;
  /** The subsample's gradient sums at (A, W). */
  samplePass: (A: Float64Array, W: Float64Array) => Promise<GradientPassSums>;
  allPass: (A: Float64Array, W: Float64Array, last: boolean) => Promise<GradientPassSums>;
}

/** Passes over all the samples 'auto' allows before pass 3 (typically one is used). */
const AUTO_PASSES = 4;
/**
 * The dense matrix's memory: the reduced matrix and its factor (in place), the inverse factor
 * for the standard error, the kernel's copies in wasm memory and the pieces M: ~32·(kd)² bytes
 * at the peak. The limit keeps the refinement within ~1.25 GiB (k·d ≤ 6553).
 */
const DENSE_BYTES_PER_ENTRY = 32;
export const REFINE_MEMORY_LIMIT = 1.25 * 2 ** 30;
/** Steps on the subsample at most, the relative loss change that ends them, and the halvings of a step that raised the loss. */
const SUBSAMPLE_ITERATIONS = 30;
const SUBSAMPLE_STALL = 1e-6;
const MAX_HALVINGS = 8;
/**
 * The subsample's rows, 'auto': as many as SAMPLE_BYTES of x and y hold, and at least
 * SAMPLE_ROWS_PER_WEIGHT per weight of W (the steps over all the samples contract by
 * ~0.6·√(kd/|S|) each: 0.2 at 8 rows per weight); all of them when they fit.
 */
const SAMPLE_BYTES = 16 << 20;
const SAMPLE_ROWS_PER_WEIGHT = 8;
/**
 * The contraction of a step with the subsample's matrix, ‖I − H̃⁻¹H‖ ≈ √(kd/|S|) (measured ~0.6 of
 * that: docs/measurements.md), so a step δ leaves the point about ĉ·|δ| from the optimum. When
 * that is within one standard error, the next pass is pass 3, whose step leaves ~ĉ of one.
 */
const contraction = (k: number, d: number, rows: number): number => Math.min(1, Math.sqrt((k * d) / Math.max(rows, 1)));
const settled = (step: number, c: number, se: number | undefined): boolean => c * step <= (se ?? 0) + 1e-12;

/** Bytes the refinement's dense matrix needs at k·d = p. */
export const refineBytes = (k: number, d: number): number => DENSE_BYTES_PER_ENTRY * (k * d) ** 2;
const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/**
 * Refuses a refinement asked for explicitly (refine: N > 0) whose dense matrix would not fit in
 * REFINE_MEMORY_LIMIT, before any pass is made; 'auto' skips it instead (refinePlan).
 */
export function checkRefineFits(refine: number | 'auto', k: number, d: number): void {
  if (refine === 'auto' || refine === 0 || refineBytes(k, d) <= REFINE_MEMORY_LIMIT) return;
  throw new PureneuronError('BAD_OPTION', `refine ${refine} at k·d = ${k * d} needs ${mb(refineBytes(k, d))} for its dense Gauss–Newton matrix, above the limit of ${mb(REFINE_MEMORY_LIMIT)} (k·d ≤ ${Math.floor(Math.sqrt(REFINE_MEMORY_LIMIT / DENSE_BYTES_PER_ENTRY))}): use refine 0 (the spectral estimate) or a smaller k`);
}

/**
 * The refinement to run: the passes over all the samples it may make before pass 3 (0: none),
 * the rows of its subsample, and why 'auto' skipped it. 'auto': up to AUTO_PASSES (typically
 * one: the subsample's optimum starts close), none when the dense matrix would not fit in
 * REFINE_MEMORY_LIMIT or when the samples are fewer than 10 per weight (the least-squares
 * problem is not determined). refineSamples 'auto': as many rows as SAMPLE_BYTES of x and y
 * hold (at least SAMPLE_ROWS_PER_WEIGHT per weight), all of them when they fit: then phase A
 * alone reaches the all-sample optimum, and otherwise the larger |S| the better the steps
 * contract (contraction()); the subsample's optimum lies ~√(n/|S|) standard errors from the
 * all-sample one. Forming the matrix costs O(|S|·k²d²/4) once.
 */
export function refinePlan(o: RefineOptions, n: number, k: number, d: number, l: number): { passes: number; sampleRows: number; skipped?: string } {
  checkRefineFits(o.refine, k, d);
  const auto = Math.max(Math.floor(SAMPLE_BYTES / (8 * (d + l))), SAMPLE_ROWS_PER_WEIGHT * k * d);
  const sampleRows = Math.min(n, o.refineSamples === 'auto' ? auto : o.refineSamples);
  if (o.refine !== 'auto') return { passes: o.refine, sampleRows };
  if (refineBytes(k, d) > REFINE_MEMORY_LIMIT) {
    return { passes: 0, sampleRows, skipped: `the refinement was skipped: at k·d = ${k * d} its dense Gauss–Newton matrix needs ${mb(refineBytes(k, d))}, above the limit of ${mb(REFINE_MEMORY_LIMIT)}; W is the spectral estimate, not the least-squares optimum` };
  }
  if (n < 10 * (k * d + l * k)) return { passes: 0, sampleRows };
  return { passes: AUTO_PASSES, sampleRows };
}

/**
 * The subsample's Gauss–Newton matrix in the joint (A, W) space, formed at one point and
 * factored once, as the Schur-complement step (jointStep) needs it, in means over the subsample:
 *   H̃_AA = I_l ⊗ R with R = Σ r rᵀ/m (k×k),  H̃_AW[(o,t),(i,j)] = A_oi·S2[(i,j),t] with
 *   S2 = Σ m_i x_j r_t/m (kd×k), and the reduced S̃ = H̃_WW − H̃_WA·H̃_AA⁻¹·H̃_AW (reducedHessian),
 * A being the subsample's least-squares A at that point. S̃ is made regular along the k scale
 * directions (scaleFree, u: the unit rows of W there) and factored, S̃ = L·Lᵀ (L in the lower
 * triangle of `L`, p×p, p = kd; the upper triangle keeps S̃).
 */
export interface JointMatrix {
  R: Float64Array;
  S2: Float64Array;
  A: Float64Array;
  L: Float64Array;
  u: Float64Array;
  /** tr(S̃)/p: the value scaleFree puts on the scale directions. */
  c: number;
  /** tr(S̃⁻¹) off the scale directions, once computed (for the standard error). */
  traceInv?: number;
}

/** The joint matrix from the subsample's sums at W; NUMERICAL_FAILURE when it is singular. */
export function jointMatrix(kernels: Kernels, sums: RefineSums, W: Float64Array, k: number, d: number, l: number): JointMatrix {
  const { part, M } = sums;
  const A = leastSquaresA(part, k, l);
  if (!A) throw new PureneuronError('NUMERICAL_FAILURE', "the subsample's second-layer least squares is singular");
  const S = reducedHessian(part, M, part.weight, A, k, d, l);
  const sf = scaleFree(S, W, k, d);
  if (!sf) throw new PureneuronError('NUMERICAL_FAILURE', 'refinement: the Gauss–Newton matrix is zero');
  factorWithRidge(S, k * d, sf.c, kernels);
  const inv = 1 / part.weight;
  const R = symmetrizeUpper(Float64Array.from(part.sums.rr, (v) => v * inv), k);
  const S2 = Float64Array.from(part.sums.S2.subarray(0, k * d * k), (v) => v * inv);
  return { R, S2, A, L: S, u: sf.u, c: sf.c };
}

/**
 * Cholesky of S + μI in place (Kernels.cholesky: the same bits on either backend), μ a tiny
 * ridge relative to the mean diagonal c (S can be nearly singular when a unit is rarely
 * active); a larger ridge once if a pivot is not positive. S is a Gauss–Newton matrix, positive
 * semidefinite, so this fails only on a degenerate subsample: NUMERICAL_FAILURE.
 */
function factorWithRidge(S: Float64Array, p: number, c: number, kernels: Kernels): void {
  for (const ridge of [1e-9, 1e-6]) {
    for (let i = 0; i < p; i++) S[i * p + i] += ridge * c;
    if (kernels.cholesky(S, p)) return;
  }
  throw new PureneuronError('NUMERICAL_FAILURE', 'refinement: the Gauss–Newton matrix is singular');
}

/**
 * δW = S̃⁻¹·b with b projected off the scale directions u (they only scale units, and the loss
 * with A eliminated does not see them): the two O(p²) triangular solves with the factor, row by
 * row along contiguous rows of L. NUMERICAL_FAILURE when the result is not finite.
 */
function solveW(J: JointMatrix, b: Float64Array, k: number, d: number): Float64Array {
  const p = k * d;
  const { L, u } = J;
  const x = Float64Array.from(b);
  for (let i = 0; i < k; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[i * d + j] * u[i * d + j];
    for (let j = 0; j < d; j++) x[i * d + j] -= s * u[i * d + j];
  }
  for (let i = 0; i < p; i++) {
    const ri = i * p;
    let v = x[i];
    for (let t = 0; t < i; t++) v -= L[ri + t] * x[t];
    x[i] = v / L[ri + i];
  }
  // Lᵀx = z, by columns of Lᵀ = rows of L: subtract x_i·L[i, 0..i) from the entries before i.
  for (let i = p - 1; i >= 0; i--) {
    const ri = i * p;
    const xi = (x[i] /= L[ri + i]);
    for (let t = 0; t < i; t++) x[t] -= L[ri + t] * xi;
  }
  if (!x.every(Number.isFinite)) throw new PureneuronError('NUMERICAL_FAILURE', 'refinement: the Gauss–Newton step is not finite');
  return x;
}

/**
 * Asymptotic standard error of the least-squares W at the matrix's point, in compare()'s
 * W-error measure: the estimate has covariance ≈ σ²·S̃⁻¹/n (σ² the residual variance per
 * output = loss/l), so E‖ΔW‖²_F ≈ σ²·tr(S̃⁻¹)/n, and relative to ‖W‖_F = √k (unit rows) the error
 * is √(σ²·tr(S̃⁻¹)/(n·k)). The trace is taken off the scale directions (compare() normalizes rows
 * too): scaleFree's matrix adds exactly k/c there. tr(S̃⁻¹) = ‖L⁻¹‖²_F (Kernels.triInverse, p³/3,
 * once), summed column by column, down each column.
 */
function standardError(J: JointMatrix, loss: number, k: number, d: number, l: number, n: number, kernels: Kernels): number {
  const p = k * d;
  if (J.traceInv === undefined) {
    const Li = new Float64Array(p * p);
    kernels.triInverse(J.L, p, Li);
    let t = 0;
    for (let e = 0; e < p; e++) for (let i = e; i < p; i++) t += Li[i * p + e] * Li[i * p + e];
    J.traceInv = Math.max(t - k / J.c, 0);
  }
  return Math.sqrt(((Math.max(loss, 0) / l) * J.traceInv) / n / k);
}

/** Phase B between passes: the point the next pass over all the samples evaluates, and what the passes before it found. */
export interface RefineProgress {
  /** The point of the next pass: W k×d (unit rows), A l×k. */
  W: Float64Array;
  A: Float64Array;
  /** The best point evaluated over all the samples so far, with its exact A*(W) and mean loss. */
  best?: { W: Float64Array; A: Float64Array; loss: number };
  /** The relative norm of the last step taken (Infinity before any). */
  previousStep: number;
  /** The next pass is the last (pass 3): the steps have converged, or a step failed. */
  converged: boolean;
  /** The last step fell below the statistical error. */
  settled: boolean;
  /** Passes over all the samples made so far. */
  passes: number;
  report: RefineReport;
  /** The subsample's matrix, absent when it could not be formed. */
  J?: JointMatrix;
  /** The standard error at the first all-sample pass (the steps' yardstick). */
  se?: number;
}

/** The relative loss change below rounding: e is exact to ~1e-16·|y|, so Σe² to ~1e-32·Σ‖y‖²; 1e-24 leaves a wide margin. */
const roundingFloor = (g: GradientPassSums): number => (1e-24 * g.sums.yy[0]) / g.n;

/**
 * Phase A from the spectral W0 (unit rows, k×d): the subsample's matrix at W0, then steps on
 * the subsample to its optimum with A eliminated (variable projection): each iteration reads
 * the subsample twice, for A*(W) (the least-squares A, from the normal equations Σrrᵀ, Σryᵀ)
 * and then for the gradient at (A*(W), W), and steps δW = S̃⁻¹·g. Exact elimination helps
 * here, far from the optimum: the steps in W alone with A*(W) exact are those of variable
 * projection, which converges from farther than joint steps (docs/measurements.md). A step
 * that raised the loss is retried with the matrix formed again at the best point, then halved,
 * up to MAX_HALVINGS times. `exact`: the subsample is all the samples (its optimum is the
 * all-sample one: pass 3 follows at once).
 */
export async function refineStart(
  kernels: Kernels, W0: Float64Array, k: number, d: number, l: number, io: Pick<RefineIO, 'sample' | 'matrixPass' | 'samplePass'>, exact: boolean,
): Promise<RefineProgress> {
  const report: RefineReport = { samples: io.sample.rows, iterations: 0, matrices: 0, losses: [], passes: [], converged: false };
  const form = async (W: Float64Array): Promise<JointMatrix> => {
    report.matrices++;
    return jointMatrix(kernels, await io.matrixPass(W), W, k, d, l);
  };
  const start = { W: W0, A: new Float64Array(l * k), previousStep: Infinity, passes: 0, report, settled: false };
  const stop = (e: unknown): void => {
    if (!(e instanceof PureneuronError && e.code === 'NUMERICAL_FAILURE')) throw e;
    report.stopped = e.message;
  };
  let J: JointMatrix;
  try {
    J = await form(W0);
  } catch (e) {
    stop(e);
    // Nothing to step with: only pass 3, for the final A.
    return { ...start, converged: true };
  }
  let W = W0;
  let fresh = true; // J was formed at W
  let halvings = 0;
  let best: { W: Float64Array; A: Float64Array; loss: number } | undefined;
  for (;;) {
    // The normal equations Σrrᵀ, Σryᵀ do not depend on the A a pass is given.
    const A = exactA((await io.samplePass(J.A, W)).sums, k, l);
    const g = A && (await io.samplePass(A, W));
    const loss = g ? g.sums.ee[0] / g.n : NaN;
    report.losses.push(loss);
    if (!A || !g || !(loss <= (best?.loss ?? Infinity) * (1 + 1e-12) + roundingFloor(g))) {
      // With noise the loss is only piecewise smooth (its gradient jumps where a sample crosses a
      // kink), and steps end hovering within ~1e-8 of the minimum: a rise that small is the end.
      if (best && loss <= best.loss * (1 + SUBSAMPLE_STALL)) break;
      // A real rise (or a loss that is not finite): the matrix again at the best point, then halving.
      if (!best) {
        report.stopped = 'the least squares of the subsample are singular or not finite';
        break;
      }
      if (!fresh) {
        try {
          J = await form(best.W);
        } catch (e) {
          stop(e);
          break;
        }
        [W, fresh, best] = [best.W, true, undefined];
        continue;
      }
      if (++halvings > MAX_HALVINGS) {
        report.stopped = 'steps on the subsample kept raising its loss';
        break;
      }
      W = normalizeRows(W.map((v, i) => best!.W[i] + 0.5 * (v - best!.W[i])), k, d);
      continue;
    }
    const stalled = best !== undefined && best.loss - loss <= SUBSAMPLE_STALL * best.loss;
    best = { W, A, loss };
    if (stalled || report.iterations >= SUBSAMPLE_ITERATIONS) break;
    let dW: Float64Array;
    try {
      // At A*(W) the A-gradient vanishes (to rounding): the joint step is the reduced one.
      ({ dW } = jointStep(g.sums, g.n, A, J, k, d, l));
    } catch (e) {
      stop(e);
      break;
    }
    report.iterations++;
    W = normalizeRows(W.map((v, i) => v + dW[i]), k, d);
    fresh = false;
    halvings = 0;
    if (norm(dW) <= 1e-15 * Math.sqrt(k)) break; // a step at rounding: converged
  }
  // The best point evaluated; none (a singular start): the spectral W with the matrix's A.
  const at = best ?? { W: W0, A: J.A };
  // Stopped by a fault: no step from here is trusted; pass 3 gives the final A at the best W.
  if (report.stopped) return { ...start, W: at.W, A: at.A, converged: true };
  return { ...start, W: at.W, A: at.A, J, converged: exact };
}

/** Whether the next pass over all the samples is the last one, pass 3. */
export const refineLast = (p: RefineProgress, plan: { passes: number }): boolean => p.converged || p.passes >= plan.passes;

/**
 * Phase B after a pass over all the samples that was not the last: the step from its sums at
 * p's point, and the progress at the next point. A step that raised the all-sample loss is
 * undone (the next pass, the last, evaluates the best point again).
 */
export function refineAdvance(kernels: Kernels, p: RefineProgress, g: GradientPassSums, n: number, k: number, d: number, l: number): RefineProgress {
  const q = evaluate(p, g, k, l);
  if (q.worse) {
    if (q.rose) q.report.stopped ??= 'a step raised the loss over all the samples';
    return { ...q, W: q.best!.W, A: q.best!.A, converged: true, settled: q.settled || !q.rose };
  }
  if (!q.J) return { ...q, converged: true };
  const { dW, dA, gradient } = jointStep(g.sums, g.n, q.A, q.J, k, d, l);
  const step = norm(dW) / Math.sqrt(k); // relative to ‖W‖_F = √k (unit rows)
  const loss = g.sums.ee[0] / g.n;
  q.report.passes.push({ loss, gradient: norm(gradient) / Math.sqrt(k), step });
  q.se ??= standardError(q.J, loss, k, d, l, n, kernels);
  const [W, A] = move(q.W, q.A, dW, dA, k, d, l);
  const done = settled(step, contraction(k, d, q.report.samples), q.se);
  return { ...q, W, A, previousStep: step, converged: done, settled: done };
}

/**
 * Phase B after the last pass (pass 3), from its sums at p's point: the point plus the step,
 * when the steps contract and the loss did not rise; else the best point evaluated, with its
 * exact A. Returns W (unit rows), A and the report.
 */
export function refineFinish(kernels: Kernels, p: RefineProgress, g: GradientPassSums, n: number, k: number, d: number, l: number): { W: Float64Array; A: Float64Array; report: RefineReport } {
  const q = evaluate(p, g, k, l);
  let W = q.best!.W;
  let A = q.best!.A;
  const { report } = q;
  report.converged = q.settled;
  if (q.rose) report.stopped ??= 'a step raised the loss over all the samples';
  if (!q.worse && q.J) {
    const { dW, dA, gradient } = jointStep(g.sums, g.n, q.A, q.J, k, d, l);
    const step = norm(dW) / Math.sqrt(k);
    const loss = g.sums.ee[0] / g.n;
    report.passes.push({ loss, gradient: norm(gradient) / Math.sqrt(k), step });
    q.se ??= standardError(q.J, loss, k, d, l, n, kernels);
    if (step <= q.previousStep) [W, A] = move(q.W, q.A, dW, dA, k, d, l);
    report.converged = settled(step, contraction(k, d, report.samples), q.se);
  }
  if (q.J) report.standardError = standardError(q.J, q.best!.loss, k, d, l, n, kernels);
  return { W, A, report };
}

/**
 * The progress with the pass's point evaluated: the best point updated (exact A); `worse` when
 * the loss rose beyond rounding (the point is not kept), `rose` when by more than the floor the
 * ReLU kinks leave with noise (SUBSAMPLE_STALL relative): then the step failed, and says so;
 * below it the steps have simply converged.
 */
function evaluate(p: RefineProgress, g: GradientPassSums, k: number, l: number) {
  const loss = g.sums.ee[0] / g.n;
  const report: RefineReport = { ...p.report, passes: [...p.report.passes] };
  const worse = p.best !== undefined && !(loss <= p.best.loss * (1 + 1e-12) + roundingFloor(g));
  const rose = worse && !(loss <= p.best!.loss * (1 + SUBSAMPLE_STALL));
  const best = worse ? p.best : { W: p.W, A: exactA(g.sums, k, l) ?? p.A, loss };
  return { ...p, report, best, worse, rose, passes: p.passes + 1 };
}

/**
 * The whole refinement in one process (learn()): phase A, then passes over all the samples
 * until the steps converge (at most plan.passes before pass 3), then pass 3.
 */
export async function refine(
  kernels: Kernels, plan: { passes: number }, W0: Float64Array, n: number, k: number, d: number, l: number, io: RefineIO,
): Promise<{ W: Float64Array; A: Float64Array; report: RefineReport }> {
  let p = await refineStart(kernels, W0, k, d, l, io, io.sample.rows >= n);
  for (;;) {
    const last = refineLast(p, plan);
    const g = await io.allPass(p.A, p.W, last);
    if (last) return refineFinish(kernels, p, g, n, k, d, l);
    p = refineAdvance(kernels, p, g, n, k, d, l);
  }
}

/** ‖v‖₂. */
const norm = (v: Float64Array): number => Math.sqrt(v.reduce((t, x) => t + x * x, 0));

/** A*(W) = least squares of y on relu(Wx) from a gradient pass's normal equations, or undefined if singular. */
function exactA(s: GradientSums, k: number, l: number): Float64Array | undefined {
  try {
    return secondLayer({ rr: s.rr, ry: s.ry }, k, l);
  } catch {
    return undefined;
  }
}

/**
 * (W + δW, A + δA) with W's rows back to unit norm and A's columns scaled to match: the model
 * a_i·relu(w_i·x) = (s·a_i)·relu(w_i·x/s) is unchanged, and the scale the loss cannot see stays fixed.
 */
function move(W: Float64Array, A: Float64Array, dW: Float64Array, dA: Float64Array, k: number, d: number, l: number): [Float64Array, Float64Array] {
  const W2 = W.map((v, i) => v + dW[i]);
  const A2 = A.map((v, i) => v + dA[i]);
  for (let i = 0; i < k; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += W2[i * d + j] * W2[i * d + j];
    s = Math.sqrt(s);
    if (!(s > 0)) continue;
    for (let j = 0; j < d; j++) W2[i * d + j] /= s;
    for (let o = 0; o < l; o++) A2[o * k + i] *= s;
  }
  return [W2, A2];
}

/**
 * The Newton step with the joint matrix J and the gradient sums at (A, W) over n samples, by the
 * Schur complement (means):
 *   gA = Σ e rᵀ/n = (Σ y rᵀ − A·Σ r rᵀ)/n,  gW = Σ (m∘Aᵀe) xᵀ/n,
 *   δW = S̃⁻¹(gW − H̃_WA·H̃_AA⁻¹·gA),  δA = H̃_AA⁻¹(gA − H̃_AW·δW),
 * with H̃_AA⁻¹·G = G·R⁻¹ (l×k) and (H̃_WA·Z)[(i,j)] = Σ_t S2[(i,j),t]·(AᵀZ)[i][t] (J's A). Returns
 * the steps and the gradient gW.
 */
export function jointStep(s: GradientSums, n: number, A: Float64Array, J: JointMatrix, k: number, d: number, l: number) {
  const inv = 1 / n;
  const rr = symmetrizeUpper(Float64Array.from(s.rr), k);
  const gA = new Float64Array(l * k);
  for (let o = 0; o < l; o++)
    for (let t = 0; t < k; t++) {
      let v = 0;
      for (let i = 0; i < k; i++) v += A[o * k + i] * rr[i * k + t];
      gA[o * k + t] = (s.ry[t * l + o] - v) * inv;
    }
  const gW = Float64Array.from(s.gW, (v) => v * inv);
  // Z = gA·R⁻¹ (l×k): R⁻¹·gAᵀ, one LU with l right-hand sides.
  const Z = transpose(solve(J.R, transpose(gA, l, k), k, l), k, l);
  const C = new Float64Array(k * k); // C = AᵀZ (J's A)
  for (let i = 0; i < k; i++) for (let t = 0; t < k; t++) { let v = 0; for (let o = 0; o < l; o++) v += J.A[o * k + i] * Z[o * k + t]; C[i * k + t] = v; }
  const rhs = new Float64Array(k * d);
  for (let i = 0; i < k; i++)
    for (let j = 0; j < d; j++) {
      let v = 0;
      const row = (i * d + j) * k;
      for (let t = 0; t < k; t++) v += J.S2[row + t] * C[i * k + t];
      rhs[i * d + j] = gW[i * d + j] - v;
    }
  const dW = solveW(J, rhs, k, d);
  const V = new Float64Array(k * k); // V[i][t] = Σ_j S2[(i,j),t]·δW_ij
  for (let i = 0; i < k; i++) for (let j = 0; j < d; j++) { const w = dW[i * d + j], row = (i * d + j) * k; for (let t = 0; t < k; t++) V[i * k + t] += J.S2[row + t] * w; }
  const G = new Float64Array(l * k); // gA − A·V
  for (let o = 0; o < l; o++) for (let t = 0; t < k; t++) { let v = 0; for (let i = 0; i < k; i++) v += J.A[o * k + i] * V[i * k + t]; G[o * k + t] = gA[o * k + t] - v; }
  const dA = transpose(solve(J.R, transpose(G, l, k), k, l), k, l);
  return { dW, dA, gradient: gW };
}

// ------------------------------------------------------------------------------------------
// The Gauss–Newton matrix of the subsample from its pass sums (Kernels.refineVarPro and
// refineHessian), with A eliminated: A*(W) is the least-squares A for this W, and the matrix
// of the loss as a function of W alone is the W-block minus the coupling through A. (Without
// the coupling, steps are too short along directions A can absorb, and convergence is only
// linear even at the matrix's own point.)

/** A*(W) (l×k) from the sums, or undefined if the normal equations are singular. */
export function leastSquaresA(p: VarProPart, k: number, l: number): Float64Array | undefined {
  try {
    return secondLayer(p.sums, k, l);
  } catch {
    return undefined;
  }
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
 * The Gauss–Newton matrix H (kd×kd) made regular along the scale directions, in place: the loss
 * cannot see a unit's scale (A absorbs it), so H is singular along δw_i ∝ w_i, and a solve
 * would amplify any component of the right-hand side there without bound. H becomes
 * P·H·P + c·(I − P), with P removing the directions of W's rows (u_i = w_i/‖w_i‖) and
 * c = tr(H)/kd: on the complement of those directions it is H, on them c·I. Undefined (H
 * untouched) when tr(H) is not positive. Returns c and u.
 */
export function scaleFree(H: Float64Array, W: Float64Array, k: number, d: number): { c: number; u: Float64Array } | undefined {
  const p = k * d;
  const u = normalizeRows(Float64Array.from(W), k, d);
  let tr = 0;
  for (let i = 0; i < p; i++) tr += H[i * p + i];
  const c = tr / p;
  if (!(c > 0)) return undefined;
  // H·P: for each row r and unit i, subtract (H[r, block i]·u_i)·u_iᵀ from the block.
  for (let r = 0; r < p; r++)
    for (let i = 0; i < k; i++) {
      const at = r * p + i * d;
      let sdot = 0;
      for (let j = 0; j < d; j++) sdot += H[at + j] * u[i * d + j];
      for (let j = 0; j < d; j++) H[at + j] -= sdot * u[i * d + j];
    }
  // P·(H·P): the same for column r and block i of its rows. Swept row by row (all columns r of
  // a block at once, contiguous memory); each column's sum still runs over j ascending from 0.
  const sdots = new Float64Array(p);
  for (let i = 0; i < k; i++) {
    sdots.fill(0);
    for (let j = 0; j < d; j++) {
      const q = i * d + j, at = q * p, uq = u[q];
      for (let r = 0; r < p; r++) sdots[r] += H[at + r] * uq;
    }
    for (let j = 0; j < d; j++) {
      const q = i * d + j, at = q * p, uq = u[q];
      for (let r = 0; r < p; r++) H[at + r] -= sdots[r] * uq;
    }
  }
  for (let i = 0; i < k; i++)
    for (let j = 0; j < d; j++)
      for (let j2 = 0; j2 < d; j2++) H[(i * d + j) * p + i * d + j2] += c * u[i * d + j] * u[i * d + j2];
  return { c, u };
}
