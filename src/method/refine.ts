/**
 * Step 5 of the method (README, Method in brief; not in the paper): refinement of (A, W) to the
 * least-squares optimum of ALL the samples, min Σ_s ‖y_s − A·relu(W·x_s)‖² (unweighted: under
 * Gaussian noise this is the maximum-likelihood estimate), from the spectral estimate W0, which
 * lies inside its basin — what makes a local method safe here: no restarts, no step size.
 *
 * Two phases:
 *  A. On a subsample S held in memory (rows chosen by row hash in pass 2, spread over the whole
 *     data), Gauss–Newton with A eliminated (variable projection): W ← W + H⁻¹g, with
 *       g = Σ (Aᵀe ∘ m) xᵀ  (e = y − A·relu(Wx), m = 1[Wx > 0]),
 *       H = Σ [(AᵀA) ∘ (m mᵀ)] ⊗ (x xᵀ) (kd×kd) minus the coupling through A,
 *     to the optimum of S: (A1, W1), and H̃, the Gauss–Newton matrix of S at (A1, W1).
 *  B. Over all the samples, Newton steps with the approximate matrix H̃ and the exact
 *     all-sample gradient, in the joint (A, W) space: each streamed pass (passes/gradient.ts)
 *     sums, at the current point, the A normal equations, the W-gradient and the loss; the
 *     step solves H̃·δ = g by its Schur complement (A eliminated). The fixed point g = 0 is the
 *     all-sample optimum whatever H̃ is; H̃ only sets the contraction per step, ~√(kd/|S|). The
 *     last pass is pass 3: the step it gives is the last one taken, and its normal equations
 *     the fallback A.
 *
 * Layouts: W k×d and A l×k row-major; H (kd)×(kd) with index i·d + j for unit i, input j.
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

/**
 * One Gauss–Newton evaluation's sums at W: `all` over the samples; `head` over a fraction of
 * them (by row hash), and M (Kernels.refineHessian) with its Σρ `wM` over the same samples.
 */
export interface RefineSums {
  all: VarProPart;
  head: VarProPart;
  M: Float64Array;
  wM: number;
}

/** One all-sample pass's sums (Kernels.refineGradient) over n samples. */
export interface GradientPassSums {
  sums: GradientSums;
  n: number;
}

/** What the refinement did (Diagnostics.refinement). */
export interface RefineReport {
  /** Rows of the in-memory subsample. */
  samples: number;
  /** Gauss–Newton iterations on the subsample (phase A). */
  iterations: number;
  /** Mean loss on the subsample at the start of each iteration. */
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

/** What the caller streams: a Gauss–Newton evaluation on the subsample, and a pass over all the samples at (A, W). */
export interface RefineIO {
  sample: Sample;
  subsamplePass: (W: Float64Array) => Promise<RefineSums>;
  allPass: (A: Float64Array, W: Float64Array, last: boolean) => Promise<GradientPassSums>;
}

/** Passes over all the samples 'auto' allows before pass 3 (typically one is used), and the size limit of the dense Gauss–Newton solve. */
const AUTO_PASSES = 4;
const AUTO_REFINE_MAX_KD = 1024;
/** Gauss–Newton iterations on the subsample at most, and the relative loss change that ends them. */
const SUBSAMPLE_ITERATIONS = 10;
const SUBSAMPLE_STALL = 1e-6;
/** The subsample's rows: enough for a contraction that reaches the optimum in two all-sample steps, within memory. */
const MIN_SAMPLE_ROWS = 20_000;
const MAX_SAMPLE_BYTES = 32 << 20;
/**
 * The contraction of a step with the subsample's matrix, ‖I − H̃⁻¹H‖ ≈ √(kd/|S|) (measured ~0.6 of
 * that: docs/measurements.md), so a step δ leaves the point about ĉ·|δ| from the optimum. When
 * that is within one standard error, the next pass is pass 3, whose step leaves ~ĉ of one.
 */
const contraction = (k: number, d: number, rows: number): number => Math.min(1, Math.sqrt((k * d) / Math.max(rows, 1)));
const settled = (step: number, c: number, se: number | undefined): boolean => c * step <= (se ?? 0) + 1e-12;

/**
 * The refinement to run: the passes over all the samples it may make before pass 3 (0: none),
 * and the rows of its subsample. 'auto': up to AUTO_PASSES (typically one: the subsample's
 * optimum starts close), none when k·d > AUTO_REFINE_MAX_KD (the dense solve; issue 12 lifts
 * this) or when the samples are fewer than 10 per weight (the least-squares problem is not
 * determined). refineSamples 'auto': |S| ≈ 1.2·√(k·d·n), at least MIN_SAMPLE_ROWS and at most
 * MAX_SAMPLE_BYTES of x and y: the subsample's optimum lies ~√(n/|S|) standard errors from the
 * all-sample one, and a step contracts that by ~√(kd/|S|) (contraction()), so one step leaves
 * ≲ 1 standard error and pass 3's step a small fraction of one.
 */
export function refinePlan(o: RefineOptions, n: number, k: number, d: number, l: number): { passes: number; sampleRows: number } {
  const auto = Math.ceil(1.2 * Math.sqrt(k * d * n));
  const byBytes = Math.floor(MAX_SAMPLE_BYTES / (8 * (d + l)));
  const sampleRows = Math.min(n, o.refineSamples === 'auto' ? Math.min(byBytes, Math.max(MIN_SAMPLE_ROWS, auto)) : o.refineSamples);
  if (o.refine !== 'auto') return { passes: o.refine, sampleRows };
  const fits = k * d <= AUTO_REFINE_MAX_KD && n >= 10 * (k * d + l * k);
  return { passes: fits ? AUTO_PASSES : 0, sampleRows };
}

/** Phase B between passes: the point the next pass over all the samples evaluates, and what the passes before it found. */
export interface RefineProgress {
  /** The point of the next pass: W k×d (unit rows), A l×k. */
  W: Float64Array;
  A: Float64Array;
  /** The best point evaluated so far, with its exact A*(W) and all-sample mean loss. */
  best?: { W: Float64Array; A: Float64Array; loss: number };
  /** The relative norm of the last step taken (Infinity before any). */
  previousStep: number;
  /** The next pass is the last (pass 3): the steps have converged, or a step failed. */
  converged: boolean;
  /** Passes over all the samples made so far. */
  passes: number;
  report: RefineReport;
  /** The subsample's matrix in the joint space (jointBlocks), absent when it could not be formed. */
  blocks?: ReturnType<typeof jointBlocks>;
  /** The subsample's reduced Gauss–Newton matrix (for the standard error). */
  H?: Float64Array;
  /** The standard error at the first all-sample pass (the steps' yardstick). */
  se?: number;
}

/**
 * Phase A from the spectral W0 (unit rows, k×d): Gauss–Newton on the subsample to its
 * optimum, then H̃ there. `exact`: the subsample is all the samples (its optimum is the
 * all-sample one: pass 3 follows at once).
 */
export async function refineStart(
  kernels: Kernels, W0: Float64Array, k: number, d: number, l: number, sample: Sample, subsamplePass: RefineIO['subsamplePass'], exact: boolean,
): Promise<RefineProgress> {
  const a = await gaussNewton(kernels, W0, k, d, l, subsamplePass);
  const report: RefineReport = { samples: sample.rows, iterations: a.iterations, losses: a.losses, passes: [], converged: false };
  if (a.stopped) report.stopped = a.stopped;
  const at = a.sums;
  const A = leastSquaresA(at.all, k, l);
  let H: Float64Array | undefined;
  try {
    if (!A) throw new PureneuronError('NUMERICAL_FAILURE', "the subsample's second-layer least squares is singular");
    H = reducedHessian(at.head, at.M, at.wM, A, k, d, l);
  } catch (e) {
    if (!(e instanceof PureneuronError && e.code === 'NUMERICAL_FAILURE')) throw e;
    report.stopped ??= e.message;
  }
  const blocks = A && H ? jointBlocks(at.head, A, H, k, d) : undefined;
  // Nothing to step with: only pass 3, for the final A.
  return { W: a.W, A: A ?? new Float64Array(l * k), previousStep: Infinity, converged: exact || !blocks, passes: 0, report, blocks, H };
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
    q.report.stopped ??= 'a step raised the loss over all the samples';
    return { ...q, W: q.best!.W, A: q.best!.A, converged: true };
  }
  if (!q.blocks) return { ...q, converged: true };
  const { dW, dA, gradient } = jointStep(g.sums, g.n, q.A, q.W, q.blocks, kernels, k, d, l);
  const step = norm(dW) / Math.sqrt(k); // relative to ‖W‖_F = √k (unit rows)
  const loss = g.sums.ee[0] / g.n;
  q.report.passes.push({ loss, gradient: norm(gradient) / Math.sqrt(k), step });
  q.se ??= refinedStandardError(q.H!, q.W, k, d, loss, l, n, kernels);
  const [W, A] = move(q.W, q.A, dW, dA, k, d, l);
  return { ...q, W, A, previousStep: step, converged: settled(step, contraction(k, d, q.report.samples), q.se) };
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
  if (!q.worse && q.blocks) {
    const { dW, dA, gradient } = jointStep(g.sums, g.n, q.A, q.W, q.blocks, kernels, k, d, l);
    const step = norm(dW) / Math.sqrt(k);
    const loss = g.sums.ee[0] / g.n;
    report.passes.push({ loss, gradient: norm(gradient) / Math.sqrt(k), step });
    q.se ??= refinedStandardError(q.H!, q.W, k, d, loss, l, n, kernels);
    if (step <= q.previousStep) [W, A] = move(q.W, q.A, dW, dA, k, d, l);
    report.converged = settled(step, contraction(k, d, report.samples), q.se);
  }
  if (q.H) report.standardError = refinedStandardError(q.H, W, k, d, q.best!.loss, l, n, kernels);
  return { W, A, report };
}

/** The progress with the pass's point evaluated: the best point updated (exact A), `worse` when the loss rose. */
function evaluate(p: RefineProgress, g: GradientPassSums, k: number, l: number) {
  const loss = g.sums.ee[0] / g.n;
  const report: RefineReport = { ...p.report, passes: [...p.report.passes] };
  const worse = p.best !== undefined && !(loss <= p.best.loss * (1 + 1e-12));
  const best = worse ? p.best : { W: p.W, A: exactA(g.sums, k, l) ?? p.A, loss };
  return { ...p, report, best, worse, passes: p.passes + 1 };
}

/**
 * The whole refinement in one process (learn()): phase A, then passes over all the samples
 * until the steps converge (at most plan.passes before pass 3), then pass 3.
 */
export async function refine(
  kernels: Kernels, plan: { passes: number }, W0: Float64Array, n: number, k: number, d: number, l: number, io: RefineIO,
): Promise<{ W: Float64Array; A: Float64Array; report: RefineReport }> {
  let p = await refineStart(kernels, W0, k, d, l, io.sample, io.subsamplePass, io.sample.rows >= n);
  for (;;) {
    const last = refineLast(p, plan);
    const g = await io.allPass(p.A, p.W, last);
    if (last) return refineFinish(kernels, p, g, n, k, d, l);
    p = refineAdvance(kernels, p, g, n, k, d, l);
  }
}

/** ‖v‖₂. */
const norm = (v: Float64Array): number => Math.sqrt(v.reduce((t, x) => t + x * x, 0));

/** A*(W) = least squares of y on relu(Wx) from an all-sample pass's normal equations, or undefined if singular. */
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
 * The subsample's Gauss–Newton matrix in the joint (A, W) space, as the Schur step needs it
 * (means): H̃_AA = I_l ⊗ R (R = Σ r rᵀ/m), H̃_AW[(o,t),(i,j)] = A_oi·S2[(i,j),t] (S2 = Σ m_i x_j r_t/m),
 * and the reduced S̃ = H̃_WW − H̃_WA·H̃_AA⁻¹·H̃_AW (reducedHessian), at (A, W) of the subsample's optimum.
 */
function jointBlocks(p: VarProPart, A: Float64Array, S: Float64Array, k: number, d: number) {
  const inv = 1 / p.weight;
  const R = symmetrizeUpper(Float64Array.from(p.sums.rr, (v) => v * inv), k);
  const S2 = Float64Array.from(p.sums.S2.subarray(0, k * d * k), (v) => v * inv);
  return { R, S2, S, A };
}

/**
 * The Newton step with the subsample's matrix and the all-sample gradient at (A, W), by the Schur
 * complement (means, n samples):
 *   gA = Σ e rᵀ/n = (Σ y rᵀ − A·Σ r rᵀ)/n,  gW = Σ (m∘Aᵀe) xᵀ/n,
 *   δW = S̃⁻¹(gW − H̃_WA·H̃_AA⁻¹·gA),  δA = H̃_AA⁻¹(gA − H̃_AW·δW),
 * with H̃_AA⁻¹·G = G·R⁻¹ (l×k) and (H̃_WA·Z)[(i,j)] = Σ_t S2[(i,j),t]·(AᵀZ)[i][t] (the blocks'
 * A: the subsample's). Returns the steps and the all-sample gradient (gW).
 */
function jointStep(s: GradientSums, n: number, A: Float64Array, W: Float64Array, b: ReturnType<typeof jointBlocks>, kernels: Kernels, k: number, d: number, l: number) {
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
  const Z = transpose(solve(b.R, transpose(gA, l, k), k, l), k, l);
  const C = new Float64Array(k * k); // C = AᵀZ (the subsample's A)
  for (let i = 0; i < k; i++) for (let t = 0; t < k; t++) { let v = 0; for (let o = 0; o < l; o++) v += b.A[o * k + i] * Z[o * k + t]; C[i * k + t] = v; }
  const rhs = new Float64Array(k * d);
  for (let i = 0; i < k; i++)
    for (let j = 0; j < d; j++) {
      let v = 0;
      const row = (i * d + j) * k;
      for (let t = 0; t < k; t++) v += b.S2[row + t] * C[i * k + t];
      rhs[i * d + j] = gW[i * d + j] - v;
    }
  const dW = tangentStep(b.S, rhs, W, k, d, kernels);
  const V = new Float64Array(k * k); // V[i][t] = Σ_j S2[(i,j),t]·δW_ij
  for (let i = 0; i < k; i++) for (let j = 0; j < d; j++) { const w = dW[i * d + j], row = (i * d + j) * k; for (let t = 0; t < k; t++) V[i * k + t] += b.S2[row + t] * w; }
  const G = new Float64Array(l * k); // gA − A·V
  for (let o = 0; o < l; o++) for (let t = 0; t < k; t++) { let v = 0; for (let i = 0; i < k; i++) v += b.A[o * k + i] * V[i * k + t]; G[o * k + t] = gA[o * k + t] - v; }
  const dA = transpose(solve(b.R, transpose(G, l, k), k, l), k, l);
  return { dW, dA, gradient: gW };
}

/** Phase A: Gauss–Newton passes over the subsample from W0; the best W evaluated, with unit rows. */
async function gaussNewton(kernels: Kernels, W0: Float64Array, k: number, d: number, l: number, pass: RefineIO['subsamplePass']) {
  let W = W0;
  let Wprev = W0;
  let best: { W: Float64Array; loss: number; sums?: RefineSums } = { W: W0, loss: Infinity };
  let iterations = 0;
  let halvings = 0;
  const losses: number[] = [];
  let stopped: string | undefined;
  for (let it = 0; it < SUBSAMPLE_ITERATIONS; it++) {
    const sums = await pass(W);
    const { all, head, M, wM } = sums;
    iterations++;
    const A = leastSquaresA(all, k, l);
    const loss = A ? meanLoss(all, A, k, l) : Infinity;
    losses.push(loss);
    // The loss comes from sums (Σ‖y‖² − 2⟨A, Σyrᵀ⟩ + …), so near zero it carries rounding
    // error of order 1e-16·E‖y‖²: changes below that are not evidence of a worse step.
    if (!A || !(loss <= best.loss + 1e-13 * (all.sums.yy[0] / all.weight))) {
      // The step raised the loss: go halfway back.
      if (++halvings > 8) break;
      W = normalizeRows(W.map((v, i) => Wprev[i] + 0.5 * (v - Wprev[i])), k, d);
      continue;
    }
    halvings = 0;
    const stalled = best.loss < Infinity && best.loss - loss <= SUBSAMPLE_STALL * best.loss;
    best = { W, loss, sums };
    if (stalled) break;
    let delta: Float64Array;
    try {
      const H = reducedHessian(head, M, wM, A, k, d, l);
      delta = tangentStep(H, gradient(all, A, k, d, l), W, k, d, kernels);
    } catch (e) {
      // A unit never active on the subsample makes the system singular: keep the best W evaluated.
      if (!(e instanceof PureneuronError && e.code === 'NUMERICAL_FAILURE')) throw e;
      stopped = e.message;
      break;
    }
    let dn = 0;
    let wn = 0;
    for (let i = 0; i < delta.length; i++) { dn += delta[i] * delta[i]; wn += W[i] * W[i]; }
    Wprev = W;
    // Rows back to unit norm (the loss, with A eliminated, does not see their scale).
    W = normalizeRows(W.map((v, i) => v + delta[i]), k, d);
    if (dn <= 1e-24 * wn) break; // relative step below 1e-12: converged
  }
  // The best W (every W evaluated has unit rows) and the sums there, whose H̃ steers phase B;
  // none finite: the spectral W0, evaluated once more.
  return { W: best.W, sums: best.sums ?? (await pass(best.W)), iterations, losses, stopped };
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
 * The Gauss–Newton matrix H (kd×kd) with the scale directions replaced: the loss cannot see a
 * unit's scale (A absorbs it), so H is singular along δw_i ∝ w_i, and a solve would amplify any
 * component of the right-hand side there without bound. M = P·H·P + c·(I − P), with P removing
 * the directions of W's rows (u_i = w_i/‖w_i‖) and c = tr(H)/kd: on the complement of those
 * directions M is H, on them c·I. Undefined when tr(H) is not positive. Returns M and c.
 */
export function scaleFree(H: Float64Array, W: Float64Array, k: number, d: number): { M: Float64Array; c: number; u: Float64Array } | undefined {
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
  return { M, c, u };
}

/**
 * The Gauss–Newton step δW with no component along the rows of W (they only scale units): the
 * right-hand side g projected off them, then solved with scaleFree(H)'s matrix (ridge and
 * fallback as newtonStep).
 */
export function tangentStep(H: Float64Array, g: Float64Array, W: Float64Array, k: number, d: number, kernels: Kernels): Float64Array {
  const sf = scaleFree(H, W, k, d);
  if (!sf) throw new PureneuronError('NUMERICAL_FAILURE', 'refinement: the Gauss–Newton matrix is zero');
  const { M, u } = sf;
  const gp = Float64Array.from(g);
  for (let i = 0; i < k; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += gp[i * d + j] * u[i * d + j];
    for (let j = 0; j < d; j++) gp[i * d + j] -= s * u[i * d + j];
  }
  return newtonStep(M, gp, kernels);
}

/**
 * Asymptotic standard error of a refined W (k×d), in compare()'s W-error measure: the least-
 * squares estimate has covariance ≈ σ²·H⁻¹/n (H the mean Gauss–Newton matrix, σ² the residual
 * variance per output = loss/l), so E‖ΔW‖²_F ≈ σ²·tr(H⁻¹)/n, and the error relative to
 * ‖W‖_F = √k (unit rows) is √(σ²·tr(H⁻¹)/(n·k)). The trace is taken on the complement of the
 * scale directions (compare() normalizes rows too): with M = scaleFree(H), whose inverse adds
 * exactly k/c on them. Undefined when M is not positive definite. Cost: one Cholesky factor and
 * its inverse, p³/3 for p = k·d (Kernels.cholesky and Kernels.triInverse; the same bits on
 * either backend).
 */
export function refinedStandardError(
  H: Float64Array, W: Float64Array, k: number, d: number, loss: number, l: number, rows: number, kernels: Kernels,
): number | undefined {
  const p = k * d;
  const sf = scaleFree(H, W, k, d);
  if (!sf) return undefined;
  const { M, c } = sf;
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
