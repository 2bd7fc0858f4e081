/**
 * Step 5 of the method (README, Method in brief; not in the paper): refinement of (A, W) to the
 * least-squares optimum of ALL the samples, min Σ_s ‖y_s − A·relu(W·x_s)‖² (unweighted: under
 * Gaussian noise this is the maximum-likelihood estimate), from the spectral estimate W0, which
 * lies inside its basin — what makes a local method safe here: no restarts, no step size.
 *
 * Every step is a Newton step in W with A eliminated (variable projection: A = A*(W), the
 * least-squares A for that W) and ONE matrix S̃: the reduced Gauss–Newton matrix of an
 * in-memory subsample S (rows chosen by row hash in pass 2, spread over the data), formed once
 * at W0 and factored once (SampleMatrix), with the exact gradient of the loss being minimized:
 *  A. over S (cheap passes over memory) to the optimum of S;
 *  B. over all the samples (one streamed pass each, passes/gradient.ts) to the all-sample
 *     optimum; the last pass is pass 3: the step it gives is the last one taken, and its normal
 *     equations give A.
 * The fixed point of the steps is where the gradient vanishes, whatever S̃ is; S̃ only sets the
 * contraction per step: ~√(kd/|S|) for S against all the samples (sampling), and ~‖W − W0‖ on
 * S itself (the matrix was formed at W0). Forming S̃ costs O(|S|·k²d²/4) and factoring it
 * (kd)³/3, so once instead of per step is what makes the refinement affordable to k·d ≈ 6000.
 * When a step on S raises S's loss (a start far from the optimum), S̃ is formed again at the
 * best point, and steps are halved if that is not enough (Gauss–Newton with a line search).
 *
 * A must be A*(W): steps in the joint (A, W) space with the stale matrix converge slowly where
 * the second-layer normal equations are ill-conditioned (x = [X; −X] with X = |N(0, 1)|: the
 * step sizes fell by only 0.6–0.9 per pass, docs/measurements.md). A pass over all the samples
 * at (A, W) gives A*(W) exactly (its normal equations do not depend on A) and the gradient at
 * A; the gradient at A*(W) differs by terms of the variable-projection sums (S1, S2), which the
 * subsample supplies at W, in memory (Kernels.refineVarPro over S): the correction is exact but
 * for the subsample's sampling error times ‖A*(W) − A‖, second order. The next pass's A is
 * A*(W) moved by the subsample's change of A* from W to the next W.
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
  /**
   * How far the returned W is estimated to lie from the all-sample optimum (relative to ‖W‖_F,
   * as the steps): the steps still to come, ρ/(1 − ρ) times the last step, ρ the contraction
   * (the larger of √(kd/|S|) and the last steps' ratio; at most 9 times the step); the whole
   * last step when it was not taken. Undefined without steps.
   */
  remaining?: number;
  /** Why the refinement stopped before converging (the W kept is the best one evaluated). */
  stopped?: string;
}

export type RefineOptions = { refine: number | 'auto'; refineSamples: number | 'auto' };

/** What the caller streams: passes over the in-memory subsample, and a pass over all the samples at (A, W). */
export interface RefineIO {
  sample: Sample;
  /**
   * The subsample's Gauss–Newton matrix at W, formed from its sums and factored (sampleMatrix):
   * the caller may run the factorization off its thread.
   */
  matrix: (W: Float64Array) => Promise<SampleMatrix>;
  /** ‖L⁻¹‖²_F of a matrix's factor (inverseTrace), for the standard error; also off-thread if the caller likes. */
  inverseTrace: (J: SampleMatrix) => Promise<number>;
  /** The subsample's variable-projection sums at W (the matrix pass without M). */
  varProPass: (W: Float64Array) => Promise<VarProPart>;
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
/** Steps on the subsample at most, and the halvings of a step that raised the loss. */
const SUBSAMPLE_ITERATIONS = 30;
const MAX_HALVINGS = 8;
/**
 * The relative change of a mean loss over `rows` samples that is no evidence either way: with
 * noise the loss of finitely many samples is only piecewise smooth (its gradient jumps where a
 * sample crosses a ReLU kink) and steps end hovering near its minimum, by up to ~1e-5 relative
 * at n = 1000 ((20,10,15), σ = 0.1). A change this small moves W by a few hundredths of its
 * standard error: the loss rises by ~s²·(kd + lk)/(rows·l) relative for a displacement of s
 * standard errors (every parameter's share of the residual variance), so at s = 0.1 by 1% of
 * (kd + lk)/(rows·l); and never below 1e-6.
 */
const lossFloor = (k: number, d: number, l: number, rows: number): number => Math.max(1e-6, (0.01 * (k * d + l * k)) / (rows * l));
/**
 * The subsample's rows, 'auto': as many as SAMPLE_BYTES of x and y hold, and at least
 * SAMPLE_ROWS_PER_WEIGHT per weight of W (the steps over all the samples contract by
 * ~0.6·√(kd/|S|) each: 0.2 at 8 rows per weight); all of them when they fit.
 */
const SAMPLE_BYTES = 16 << 20;
const SAMPLE_ROWS_PER_WEIGHT = 8;
/**
 * The contraction of a step with the subsample's matrix, ‖I − S̃⁻¹S‖: ~√(kd/|S|) from sampling
 * (measured ~0.6 of that on most data: docs/measurements.md), more where the subsample's matrix
 * is a poorer likeness of the whole (0.2–0.7 measured on x = [X; −X], X = |N(0, 1)|). A step δ
 * leaves the point about ρ·|δ| from the optimum, ρ the larger of that estimate and the ratio of
 * the last two steps, once there are two. When that is within one standard error the next pass
 * is pass 3, whose step leaves ~ρ of one; the refinement has converged when the last step
 * leaves at most FINAL_TOLERANCE of one (W error within ~4% of the optimum's).
 */
const contraction = (k: number, d: number, rows: number, step: number, previousStep: number): number =>
  Math.min(1, Math.max(Math.sqrt((k * d) / Math.max(rows, 1)), Number.isFinite(previousStep) && previousStep > 0 ? step / previousStep : 0));
/** Whether ρ·step is within `tolerance` standard errors; or below 1e-11, far under any W error that matters (the noiseless bar is 1e-10). */
const within = (step: number, rho: number, se: number | undefined, tolerance: number): boolean => rho * step <= tolerance * (se ?? 0) + 1e-11;
const FINAL_TOLERANCE = 0.3;

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
  if (n * l < 10 * (k * d + l * k) || n < 10 * d) return { passes: 0, sampleRows };
  return { passes: AUTO_PASSES, sampleRows };
}

/**
 * The subsample's reduced Gauss–Newton matrix S̃ = H_WW − H_WA·H_AA⁻¹·H_AW (reducedHessian: the
 * matrix of the loss as a function of W alone, A eliminated) at one point, made regular along
 * the k scale directions (scaleFree; u: the unit rows of W there) and factored once, S̃ = L·Lᵀ
 * (L in the lower triangle of `L`, p×p, p = kd; the upper triangle keeps S̃); A: the subsample's
 * least-squares A at that point.
 */
export interface SampleMatrix {
  A: Float64Array;
  L: Float64Array;
  u: Float64Array;
  /** tr(S̃)/p: the value scaleFree puts on the scale directions. */
  c: number;
  /** tr(S̃⁻¹) off the scale directions, once computed (for the standard error). */
  traceInv?: number;
}

/** The matrix from the subsample's sums at W; NUMERICAL_FAILURE when it is singular. */
export function sampleMatrix(kernels: Kernels, sums: RefineSums, W: Float64Array, k: number, d: number, l: number): SampleMatrix {
  const { part, M } = sums;
  const A = leastSquaresA(part, k, l);
  if (!A) throw new PureneuronError('NUMERICAL_FAILURE', "the subsample's second-layer least squares is singular");
  const S = reducedHessian(part, M, part.weight, A, k, d, l);
  const sf = scaleFree(S, W, k, d);
  if (!sf) throw new PureneuronError('NUMERICAL_FAILURE', 'refinement: the Gauss–Newton matrix is zero');
  factorWithRidge(S, k * d, sf.c, kernels);
  return { A, L: S, u: sf.u, c: sf.c };
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
export function solveW(J: SampleMatrix, b: Float64Array, k: number, d: number): Float64Array {
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
 * too): scaleFree's matrix adds exactly k/c there. tr(S̃⁻¹) = ‖L⁻¹‖²_F (io.inverseTrace, once per matrix).
 */
async function standardError(J: SampleMatrix, loss: number, k: number, d: number, l: number, n: number, io: Pick<RefineIO, 'inverseTrace'>): Promise<number> {
  J.traceInv ??= Math.max((await io.inverseTrace(J)) - k / J.c, 0);
  return Math.sqrt(((Math.max(loss, 0) / l) * J.traceInv) / n / k);
}

/** ‖L⁻¹‖²_F = tr(S̃⁻¹) for the p×p lower factor L: the inverse factor (Kernels.triInverse, p³/3), summed column by column, down each column. */
export function inverseTrace(kernels: Kernels, L: Float64Array, p: number): number {
  const Li = new Float64Array(p * p);
  kernels.triInverse(L, p, Li);
  let t = 0;
  for (let e = 0; e < p; e++) for (let i = e; i < p; i++) t += Li[i * p + e] * Li[i * p + e];
  return t;
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
  J?: SampleMatrix;
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
  W0: Float64Array, k: number, d: number, l: number, io: Pick<RefineIO, 'sample' | 'matrix' | 'samplePass'>, exact: boolean,
): Promise<RefineProgress> {
  const report: RefineReport = { samples: io.sample.rows, iterations: 0, matrices: 0, losses: [], passes: [], converged: false };
  const form = (W: Float64Array): Promise<SampleMatrix> => {
    report.matrices++;
    return io.matrix(W);
  };
  const start = { W: W0, A: new Float64Array(l * k), previousStep: Infinity, passes: 0, report, settled: false };
  const stop = (e: unknown): void => {
    if (!(e instanceof PureneuronError && e.code === 'NUMERICAL_FAILURE')) throw e;
    report.stopped = e.message;
  };
  let J: SampleMatrix;
  try {
    J = await form(W0);
  } catch (e) {
    stop(e);
    // Nothing to step with: only pass 3, for the final A.
    return { ...start, converged: true };
  }
  let W = W0;
  let formedAt = W0; // the W J was formed at
  let halvings = 0;
  let best: { W: Float64Array; A: Float64Array; loss: number } | undefined;
  const floor = lossFloor(k, d, l, io.sample.rows);
  for (;;) {
    // The normal equations Σrrᵀ, Σryᵀ do not depend on the A a pass is given.
    const A = exactA((await io.samplePass(J.A, W)).sums, k, l);
    const g = A && (await io.samplePass(A, W));
    const loss = g ? g.sums.ee[0] / g.n : NaN;
    report.losses.push(loss);
    if (!A || !g || !(loss <= (best?.loss ?? Infinity) * (1 + 1e-12) + roundingFloor(g))) {
      // A rise within lossFloor is the hovering that ends the steps.
      if (best && loss <= best.loss * (1 + floor)) break;
      // A real rise (or a loss that is not finite): the matrix again at the best point (once per
      // best point), then halving.
      if (!best) {
        report.stopped = 'the least squares of the subsample are singular or not finite';
        break;
      }
      if (formedAt !== best.W) {
        try {
          J = await form(best.W);
        } catch (e) {
          stop(e);
          break;
        }
        [W, formedAt, best] = [best.W, best.W, undefined];
        continue;
      }
      if (++halvings > MAX_HALVINGS) {
        report.stopped = 'steps on the subsample kept raising its loss';
        break;
      }
      W = normalizeRows(W.map((v, i) => best!.W[i] + 0.5 * (v - best!.W[i])), k, d);
      continue;
    }
    const stalled = best !== undefined && best.loss - loss <= floor * best.loss;
    best = { W, A, loss };
    if (stalled || report.iterations >= SUBSAMPLE_ITERATIONS) break;
    let dW: Float64Array;
    try {
      dW = solveW(J, Float64Array.from(g.sums.gW, (v) => v / g.n), k, d);
    } catch (e) {
      stop(e);
      break;
    }
    report.iterations++;
    W = normalizeRows(W.map((v, i) => v + dW[i]), k, d);
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

/** The subsample passes phase B uses beside the pass over all the samples. */
type SampleIO = Pick<RefineIO, 'varProPass' | 'samplePass' | 'inverseTrace'>;

/**
 * The step from a pass over all the samples at p's point (A, W): A*(W) from the pass's normal
 * equations; the gradient at A*(W) = the pass's gradient at A + g_S(A*) − g_S(A), g_S being the
 * subsample's gradient as a function of A at this W (its variable-projection sums: exact in A);
 * δW = S̃⁻¹·P·that; and the A for the next pass, A*(W) + (A*_S(W + δW) − A*_S(W)). Also the
 * loss at A*(W): the pass's loss at A minus the quadratic decrease from A to A*(W)
 * (tr(D·Σrrᵀ·Dᵀ)/n, D = A*(W) − A: exact, and no cancellation near zero residual).
 */
async function allSampleStep(p: RefineProgress & { J: SampleMatrix }, g: GradientPassSums, k: number, d: number, l: number, io: SampleIO) {
  const { W, A, J } = p;
  const As = exactA(g.sums, k, l) ?? A;
  const rr = symmetrizeUpper(Float64Array.from(g.sums.rr), k);
  let drop = 0;
  for (let o = 0; o < l; o++)
    for (let i = 0; i < k; i++) for (let t = 0; t < k; t++) drop += (As[o * k + i] - A[o * k + i]) * rr[i * k + t] * (As[o * k + t] - A[o * k + t]);
  const loss = Math.max(g.sums.ee[0] - drop, 0) / g.n;
  const vp = await io.varProPass(W);
  const before = gradient(vp, A, k, d, l);
  const after = gradient(vp, As, k, d, l);
  const gW = Float64Array.from(g.sums.gW, (v, i) => v / g.n + after[i] - before[i]);
  const dW = solveW(J, gW, k, d);
  const Wn = normalizeRows(W.map((v, i) => v + dW[i]), k, d);
  const AsS = leastSquaresA(vp, k, l);
  const AnS = exactA((await io.samplePass(As, Wn)).sums, k, l);
  const An = AsS && AnS ? As.map((v, i) => v + AnS[i] - AsS[i]) : As;
  return { As, loss, gradient: gW, step: norm(dW) / Math.sqrt(k), W: Wn, A: An };
}

/**
 * Phase B after a pass over all the samples that was not the last: the step from its sums at
 * p's point (allSampleStep), and the progress at the next point. A step that raised the
 * all-sample loss is undone (the next pass, the last, evaluates the best point again).
 */
export async function refineAdvance(p: RefineProgress, g: GradientPassSums, n: number, k: number, d: number, l: number, io: SampleIO): Promise<RefineProgress> {
  if (!p.J) return { ...evaluate(p, g, p.A, g.sums.ee[0] / g.n, lossFloor(k, d, l, n)), converged: true };
  const st = await allSampleStep({ ...p, J: p.J }, g, k, d, l, io);
  const q = evaluate(p, g, st.As, st.loss, lossFloor(k, d, l, n));
  if (q.worse) {
    if (q.rose) q.report.stopped ??= 'a step raised the loss over all the samples';
    return { ...q, W: q.best!.W, A: q.best!.A, converged: true, settled: q.settled || !q.rose };
  }
  q.report.passes.push({ loss: st.loss, gradient: norm(st.gradient) / Math.sqrt(k), step: st.step });
  q.se ??= await standardError(p.J, st.loss, k, d, l, n, io);
  const done = within(st.step, contraction(k, d, q.report.samples, st.step, q.previousStep), q.se, 1);
  return { ...q, W: st.W, A: st.A, previousStep: st.step, converged: done, settled: done };
}

/**
 * Phase B after the last pass (pass 3), from its sums at p's point: the point plus the step,
 * when the steps contract and the loss did not rise; else the best point evaluated, with its
 * exact A. Returns W (unit rows), A and the report.
 */
export async function refineFinish(
  p: RefineProgress, g: GradientPassSums, n: number, k: number, d: number, l: number, io: SampleIO,
): Promise<{ W: Float64Array; A: Float64Array; report: RefineReport }> {
  const st = p.J ? await allSampleStep({ ...p, J: p.J }, g, k, d, l, io) : undefined;
  const q = evaluate(p, g, st?.As ?? exactA(g.sums, k, l) ?? p.A, st?.loss ?? g.sums.ee[0] / g.n, lossFloor(k, d, l, n));
  let W = q.best!.W;
  let A = q.best!.A;
  const { report } = q;
  report.converged = q.settled;
  if (q.rose) report.stopped ??= 'a step raised the loss over all the samples';
  if (st && !q.worse) {
    report.passes.push({ loss: st.loss, gradient: norm(st.gradient) / Math.sqrt(k), step: st.step });
    q.se ??= await standardError(p.J!, st.loss, k, d, l, n, io);
    // The last step is not evaluated: it is taken when the steps contract (A: its prediction).
    // What the steps still to come would add up to, ρ/(1 − ρ) of this one: ρ alone (the next
    // step) read 0.29 standard errors where 0.54 remained, on Student-t inputs whose subsample
    // contracted slowly (ρ = 0.21; (20,10,15), n = 3e6).
    const rho = contraction(k, d, report.samples, st.step, q.previousStep);
    const tail = rho < 0.9 ? rho / (1 - rho) : 9;
    const taken = st.step <= q.previousStep;
    if (taken) [W, A] = [st.W, st.A];
    report.remaining = taken ? tail * st.step : st.step;
    // A step below 1e-11 is rounding (the gradient of an exact fit is noise at that level):
    // converged, taken or not.
    report.converged = (taken && within(st.step, tail, q.se, FINAL_TOLERANCE)) || st.step <= 1e-11;
  }
  if (p.J) report.standardError = await standardError(p.J, q.best!.loss, k, d, l, n, io);
  return { W, A, report };
}

/**
 * The progress with the pass's point evaluated at (A*, W) with its loss: the best point
 * updated; `worse` when the loss rose beyond rounding (the point is not kept), `rose` when by
 * more than lossFloor: then the step failed, and says so; below it the steps have simply
 * converged.
 */
function evaluate(p: RefineProgress, g: GradientPassSums, As: Float64Array, loss: number, floor: number) {
  const report: RefineReport = { ...p.report, passes: [...p.report.passes] };
  const worse = p.best !== undefined && !(loss <= p.best.loss * (1 + 1e-12) + roundingFloor(g));
  const rose = worse && !(loss <= p.best!.loss * (1 + floor));
  const best = worse ? p.best : { W: p.W, A: As, loss };
  return { ...p, report, best, worse, rose, passes: p.passes + 1 };
}

/**
 * The whole refinement in one process (learn()): phase A, then passes over all the samples
 * until the steps converge (at most plan.passes before pass 3), then pass 3.
 */
export async function refine(
  plan: { passes: number }, W0: Float64Array, n: number, k: number, d: number, l: number, io: RefineIO,
): Promise<{ W: Float64Array; A: Float64Array; report: RefineReport }> {
  let p = await refineStart(W0, k, d, l, io, io.sample.rows >= n);
  for (;;) {
    const last = refineLast(p, plan);
    const g = await io.allPass(p.A, p.W, last);
    if (last) return refineFinish(p, g, n, k, d, l, io);
    p = await refineAdvance(p, g, n, k, d, l, io);
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
 * The mean gradient of ½·loss w.r.t. W (k×d; the sign that W + S̃⁻¹g lowers the loss) at
 * (A, W), from the variable-projection sums at W — for any A, since e = y − A·r is linear in it:
 * g_i = (S1_i·a_i − S2_i·(Aᵀa_i))/w with S1_i = Σρ m_i x yᵀ (d×l), S2_i = Σρ m_i x rᵀ (d×k).
 */
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
