/**
 * The learner's stages between the passes, as functions of the merged pass sums alone. Both
 * learn() (one process) and the shard commands (accumulate / merge / finish, shard.ts) go
 * through these functions, so a model built from merged shard states is computed by the same
 * code, from the same kind of sums, as one built in a single process:
 *
 *   runPass(1)   second moments (+ symmetry sums)     → merged pass-1 state
 *   afterPass1   linear part, k ('auto'), symmetry, reduction and detector plan
 *   runPass(2)   detector T over the plan             → merged pass-2 state
 *   afterPass2   null space, pure directions, first layer W
 *   estimateError  half-sample fits (no pass)
 *   runPass(3)   least-squares sums of y on relu(Wx)  → merged pass-3 state
 *   secondLayerOf  A from the pass-3 sums
 *   fitDiagnostics the diagnostics and warnings of the model
 *
 * Everything after a pass is deterministic given its merged state (and the options): equal
 * states give equal bits on either backend, wherever they were computed.
 */
import { PureneuronError } from '../errors.js';
import { basisMatrices, jennrich, jointDiagResidual, selectAndPolish } from './extract.js';
import type { DetectorPlan, Kernels } from '../kernels/types.js';
import type { Diagnostics, RefineReport } from '../api/model.js';
import { detectorNullSpace } from './nullspace.js';
import { DetectorAccumulator } from '../passes/detector.js';
import { Moments1Accumulator } from '../passes/moments1.js';
import { firstLayer, secondLayer } from './layers.js';
import { linearPart, reduce, significantRank, type LinearPart, type Reduction } from './reduce.js';
import { SymmetryAccumulator, type SymmetryReport } from './symmetry.js';
import { halfFirstLayer, samplesFor, weightDistance } from './errorEstimate.js';
import { findBadValue } from '../sources/check.js';
import { absorbMoments1 } from '../passes/jobs.js';
import type { PassRunner } from '../parallel/runner.js';
import type { PassState } from '../passes/state.js';
import type { SampleSource } from '../types.js';

/** The learn options that determine the model from the pass sums (resolved: no defaults missing). */
export interface FitOptions {
  k: number | 'auto';
  detector: 'even' | 'literal';
  whitenY: boolean;
  reduceX: boolean;
  polish: boolean;
  jennrichPairs: number;
  seed: number;
  weighting: 'robust' | 'none';
  robustScale: number;
  errorEstimate: boolean;
  refine: number | 'auto';
  refineSamples: number;
}

/** The names of FitOptions, in a fixed order (state files list them in this order). */
export const FIT_OPTION_KEYS = ['k', 'detector', 'whitenY', 'reduceX', 'polish', 'jennrichPairs', 'seed', 'weighting', 'robustScale', 'errorEstimate', 'refine', 'refineSamples'] as const;

/** Just the FitOptions of a larger (resolved) options object, in FIT_OPTION_KEYS order. */
export function fitOptionsOf(o: FitOptions): FitOptions {
  return Object.fromEntries(FIT_OPTION_KEYS.map((key) => [key, o[key]])) as unknown as FitOptions;
}

// ------------------------------------------------------------------------------------------
// Passes

const overflow = (what: string, scale: string, fix: string) => `the ${what} overflow double precision (values of magnitude ≳ ${scale}): rescale ${fix}`;

/** The finite-sum checks of every pass: state-field prefixes and the message when the data are finite but the sums overflowed. */
const SUM_CHECKS: Record<1 | 2 | 3, [string[], string][]> = {
  1: [
    [['xx', 'xs'], overflow('second moments of x', '1e150', 'x')],
    [['yy', 'ys', 'yx'], overflow('second moments of y', '1e150', 'y')],
  ],
  2: [[['T'], overflow("detector's fourth-order sums", '1e75', 'x and y')]],
  3: [[['rr', 'ry'], overflow('second-layer sums', '1e150', 'x and y')]],
};

export type PassParams = { 1: { d: number; l: number }; 2: { plan: DetectorPlan }; 3: { W: Float64Array; k: number; d: number; l: number } };

/**
 * One pass over `source` with `runner` (merged in chunk order), then the check that its sums
 * are finite (a NaN/±Inf in the data is named by a rescan of the source). `total` is the
 * sample count shown in progress reports, when known; `expectRows`, when given, is the count
 * the pass must see (that of pass 1).
 */
export async function runPass<P extends 1 | 2 | 3>(
  runner: PassRunner,
  source: SampleSource,
  pass: P,
  params: PassParams[P],
  total: number | undefined,
  o: { chunkRows: number; signal?: AbortSignal },
  expectRows?: number,
): Promise<{ state: PassState; rows: number }> {
  const phase = `pass${pass}` as const;
  const r = await runner.run(phase, params, phase, total);
  if (expectRows !== undefined) sameCount(r.rows, expectRows, pass);
  for (const [prefixes, message] of SUM_CHECKS[pass]) await checkSums(r.state, prefixes, source, o, message);
  return r;
}

/**
 * A pass's sums (the state fields whose names start with one of `prefixes`) must be finite.
 * A NaN or ±Infinity anywhere in the data makes every sum it enters NaN or ±Infinity, weighted
 * or not (ρ = 0 for an infinite x still gives 0·∞ = NaN), so this check of a few hundred sums
 * replaces a scan of every value. When it fails, the source is read once more to name the
 * first bad value; if every value is finite, the products overflowed: `overflow` says so.
 */
async function checkSums(state: PassState, prefixes: string[], source: SampleSource, o: { chunkRows: number; signal?: AbortSignal }, overflowMessage: string): Promise<void> {
  const finite = Object.entries(state).every(([key, v]) => !prefixes.some((p) => key.startsWith(p)) || (typeof v === 'number' ? Number.isFinite(v) : v.every(Number.isFinite)));
  if (finite) return;
  await findBadValue(source, o.chunkRows, o.signal);
  throw new PureneuronError('BAD_VALUE', overflowMessage);
}

/** Every pass must see the samples pass 1 saw: a source that changes between passes is an error. */
export function sameCount(rows: number, n: number, pass: number): void {
  if (rows !== n) throw new PureneuronError('BAD_FILE', `the source yielded ${rows} samples in pass ${pass} but ${n} in pass 1: the data changed between passes (sources must be re-readable unchanged)`);
}

// ------------------------------------------------------------------------------------------
// After pass 1

export interface Stage1 {
  d: number;
  l: number;
  /** Samples of pass 1. */
  n: number;
  /** Hidden units (k: 'auto' resolved). */
  k: number;
  /** The rank of the linear part the data support. */
  rank: number;
  /** k was given (not 'auto') and exceeds `rank`: fitDiagnostics warns if the fit shows it. */
  kAboveRank: boolean;
  /** Pass-1 sums of the two halves of every chunk (for the error estimate). */
  m1h: Moments1Accumulator[];
  lp: LinearPart;
  symmetry: SymmetryReport;
  red: Reduction;
  warnings: string[];
}

/**
 * Everything computed from the merged pass-1 state: the linear part, k (when 'auto'), the
 * sample-count check, the symmetry report, and the reduction with the detector plan of pass 2.
 */
export function afterPass1(kernels: Kernels, state: PassState, n: number, d: number, l: number, o: FitOptions): Stage1 {
  const warnings: string[] = [];
  const m1h = (['0', '1'] as const).map((suffix) => {
    const m = new Moments1Accumulator(kernels, d, l);
    absorbMoments1(m, state, suffix);
    return m;
  });
  const m1 = new Moments1Accumulator(kernels, d, l);
  m1.merge(m1h[0]);
  m1.merge(m1h[1]);
  const sym = new SymmetryAccumulator(d);
  for (const key of ['s1', 'v1', 's3', 'v3'] as const) sym[key].set(state[key] as Float64Array);

  const lp = linearPart(kernels, m1.sums, m1.weight, n, d, l);
  const rank = significantRank(lp);
  const k = o.k === 'auto' ? Math.max(1, Math.min(rank, d, l)) : o.k;
  // The detector has mz = k(k+1)/2 unknowns; its null space is only determined with several
  // samples per unknown (accuracy needs far more: see the README's limits).
  const needed = 2 * k * (k + 1);
  if (n < needed) {
    throw new PureneuronError('TOO_FEW_SAMPLES', `${n} samples are too few for k = ${k}: the detector has ${(k * (k + 1)) / 2} unknowns per output coordinate; give at least ${needed} samples (many more for accuracy)`);
  }
  const symmetry = sym.report();
  if (symmetry.asymmetric) {
    warnings.push(`x looks asymmetric: the ${symmetry.order === 1 ? 'mean' : 'third moment'} of column ${symmetry.column} is ${symmetry.maxZ.toFixed(1)} standard errors from 0 (threshold ${symmetry.threshold.toFixed(1)}); the method assumes p(x) = p(−x), so the model may be biased`);
  }
  const red = reduce(kernels, lp, k, { reduceX: o.reduceX, whitenY: o.whitenY, literal: o.detector === 'literal' });
  return { d, l, n, k, rank, kAboveRank: o.k !== 'auto' && k > rank, m1h, lp, symmetry, red, warnings };
}

// ------------------------------------------------------------------------------------------
// After pass 2

export interface Stage2 {
  /** Detector sums of the two halves (for the error estimate). */
  dets: DetectorAccumulator[];
  /** The full-sample extraction: pure directions U, residual, detector singular values. */
  full: { U: Float64Array; residual: number; singularValues: Float64Array; warnings: string[] };
  /** The first layer, k×d with unit rows. */
  W: Float64Array;
  warnings: string[];
}

/** From the merged pass-2 state: the detector's null space, the pure directions and W. */
export function afterPass2(kernels: Kernels, s1: Stage1, state: PassState, o: FitOptions): Stage2 {
  const { red, k } = s1;
  const dets = [0, 1].map((i) => {
    const a = new DetectorAccumulator(kernels, red.plan);
    a.T.set(state['T' + i] as Float64Array);
    a.n = state['n' + i] as number;
    a.weight = state['w' + i] as number;
    return a;
  });
  const det = new DetectorAccumulator(kernels, red.plan);
  det.merge(dets[0]);
  det.merge(dets[1]);
  const full = pureDirections(kernels, det, red, k, o, 2 * k);
  const W = firstLayer(full.U, red.plan, red.zMean, k);
  return { dets, full, W, warnings: [...full.warnings] };
}

/**
 * The W error estimate from the half-sample fits (errorEstimate.ts; no pass over the data).
 * Undefined, with a warning, when a half cannot be fitted; undefined without one when the
 * option is off.
 */
export function estimateError(kernels: Kernels, s1: Stage1, s2: Stage2, o: FitOptions): { errorEstimate?: number; warnings: string[] } {
  if (!o.errorEstimate) return { warnings: [] };
  const { m1h, lp, red, k, d } = s1;
  try {
    // The halves get the full fit's polish budget: with a smaller one they miss directions the
    // full fit finds (false alarms on good ill-conditioned square fits: 4 of 8 seeds of
    // (10,10,10) at n = 1e5 estimated ≈ 0.2 for a true error < 0.01; with 2k, 1 of 8).
    const [Wa, Wb] = s2.dets.map((hv, i) => halfFirstLayer(m1h[i].sums, m1h[i].weight, lp, red.plan.Ry, pureDirections(kernels, hv, red, k, o, 2 * k).U, red.zMean, k));
    const est = Wa.every(Number.isFinite) && Wb.every(Number.isFinite) ? weightDistance(Wa, Wb, k, d) / 2 : NaN;
    if (!Number.isFinite(est)) throw new PureneuronError('NUMERICAL_FAILURE', 'degenerate half-sample fit');
    return { errorEstimate: est, warnings: [] };
  } catch {
    // Any failure of a half fit (too few or degenerate samples in a half) only costs the estimate.
    return { warnings: ['the half-sample estimates failed (too few samples for half the data): no error estimate'] };
  }
}

// ------------------------------------------------------------------------------------------
// After pass 3

/** A = least squares of y on relu(Wx), from the merged pass-3 state. */
export function secondLayerOf(state: PassState, k: number, l: number): Float64Array {
  return secondLayer({ rr: state.rr as Float64Array, ry: state.ry as Float64Array }, k, l);
}

/** Joint-diagonalization residual above which learn() warns (good fits measured ≤ 0.17, failed ones ≥ 0.34). */
const JD_WARN = 0.3;

/** Estimated W error above which learn() warns, and the error its sample-size advice aims at. */
const ERROR_WARN = 0.1;
const ERROR_TARGET = 0.05;

/**
 * The refinement reached the least-squares optimum of its samples: the loss stalled (last pass
 * gained < 1e-4) or fell 100-fold (noiseless data converge quadratically).
 */
export function refinementConverged(losses: number[]): boolean {
  const m = losses.length;
  return m >= 2 && (losses[m - 1] <= 1e-2 * losses[0] || losses[m - 2] - losses[m - 1] <= 1e-4 * losses[m - 2]);
}

/** The model's diagnostics: the stages' measurements and every warning, in stage order. */
export function fitDiagnostics(
  s1: Stage1,
  s2: Stage2,
  est: { errorEstimate?: number; warnings: string[] },
  extra: { workers: number; refinement?: RefineReport; timings: Record<string, number> },
): Diagnostics {
  const { k, n, red, lp, rank, symmetry } = s1;
  const { full } = s2;
  const spectralErrorEstimate = est.errorEstimate;
  const sv = full.singularValues;
  const nullSpaceRatio = k < sv.length ? sv[k - 1] / Math.max(sv[k], Number.MIN_VALUE) : 0;
  // The refinement's standard error speaks for the returned W only when the refinement started
  // inside the right basin — a clean spectral fit (small half-sample estimate, separated null
  // space, low joint-diagonalization residual) — and reached the optimum: the loss stalled, or
  // fell 100-fold (noiseless data converge quadratically). A failed square fit measured
  // (correlated (10,10,10), n = 1e5: W error 0.44, half-sample estimate 0.012 — both halves fail
  // alike) had a blurred null space and a loss still falling ~35% per pass.
  const ref = extra.refinement;
  const losses = ref?.losses ?? [];
  const converged = refinementConverged(losses);
  const cleanStart = spectralErrorEstimate !== undefined && spectralErrorEstimate <= ERROR_WARN && nullSpaceRatio <= 0.5 && full.residual <= JD_WARN;
  const se = ref?.used === false ? undefined : ref?.standardError;
  const errorEstimate = se !== undefined && cleanStart && converged ? se : spectralErrorEstimate;
  const refineWarning = ref && ref.used !== false && !converged
    ? [`the refinement did not converge in ${ref.iterations} passes (the loss still fell ${(100 * (1 - losses[losses.length - 1] / losses[losses.length - 2])).toFixed(0)}% in the last one): the spectral start may lie outside the basin of the planted solution; more passes (refine: N) or more samples may help`]
    : [];
  // A small k-th singular value of A·W alone is no evidence against k: an ill-conditioned
  // square W gives one while the fit is good (the n sweep: 177 false alarms on 408 good runs).
  // A k above the data's rank shows in the fit as well (a junk unit: the halves disagree, the
  // null space blurs), so the rank is named only when the fit is suspect too.
  const suspect = nullSpaceRatio > 0.5 || full.residual > JD_WARN || errorEstimate === undefined || errorEstimate > ERROR_WARN;
  const rankWarning = s1.kAboveRank && suspect
    ? [`the linear part A·W has only ${rank} singular value(s) clear of sampling noise, fewer than k = ${k}, and the fit looks unreliable: k may be too large (try k = ${Math.max(rank, 1)} or k: 'auto'), or the samples too few`]
    : [];
  const warnings = [...s1.warnings, ...rankWarning, ...s2.warnings, ...est.warnings, ...refineWarning];
  if (nullSpaceRatio > 0.5) {
    warnings.push(`the detector's null space is not well separated (σ_k/σ_k+1 = ${nullSpaceRatio.toFixed(3)}): too few samples for k = ${k}, or k is wrong; the weights may be inaccurate`);
  }
  if (full.residual > JD_WARN) {
    warnings.push(`the recovered directions leave ${(100 * full.residual).toFixed(0)}% of the null-space basis off-diagonal (joint-diagonalization residual ${full.residual.toFixed(2)}): the rank-one extraction is unreliable (too few samples, a degenerate input distribution, or k too large)`);
  }
  if (errorEstimate !== undefined && errorEstimate > ERROR_WARN) {
    warnings.push(`estimated W error ≈ ${errorEstimate.toFixed(3)} (half-sample disagreement of the spectral estimate${extra.refinement ? '; the refinement started from it may not have reached the right solution' : ''}): too few samples; about ${samplesFor(ERROR_TARGET, n, errorEstimate)} samples would bring it to ${ERROR_TARGET}`);
  }
  return {
    n,
    k,
    workers: extra.workers,
    linearSingularValues: Array.from(red.linearSingularValues),
    linearNoiseFloor: lp.noiseFloor,
    linearRank: rank,
    detectorSingularValues: Array.from(sv.subarray(0, Math.min(sv.length, 2 * k + 2))),
    nullSpaceRatio,
    jointDiagResidual: full.residual,
    errorEstimate,
    spectralErrorEstimate,
    refinement: extra.refinement,
    symmetry,
    warnings,
    timings: extra.timings,
  };
}

// ------------------------------------------------------------------------------------------
// Extraction

/** Null space of an accumulated detector, then the pure directions (columns of U, k×k). */
function pureDirections(kernels: Kernels, det: DetectorAccumulator, red: Reduction, k: number, o: FitOptions, budget: number, cap = budget + k) {
  const ns = detectorNullSpace(kernels, det.T, det.weight, det.mh, det.mz, red.plan.hDim, k);
  return { ...extractPure(ns.basis, ns.G, k, o, budget, cap), singularValues: ns.singularValues };
}

/**
 * Jennrich over several random pairs, then (default) the selection and polish of k distinct
 * directions from all pairs' candidates; without polish, the pair that best jointly
 * diagonalizes the null-space basis is used as is (the paper's procedure).
 */
function extractPure(basis: Float64Array, G: Float64Array, k: number, o: FitOptions, budget: number, cap: number): { U: Float64Array; residual: number; warnings: string[] } {
  const N = basisMatrices(basis, k);
  const first = extractFromPairs(N, G, k, o, o.jennrichPairs, o.seed, budget, cap);
  if (first.ok && first.residual <= JD_WARN) return first;
  // A bad draw of pairs: the joint-diagonalization residual, the fit's own certificate, is
  // high (or no pair worked). Four times as many other pairs, and the better fit is kept. Found
  // by the n sweep: correlated (10,10,10), n = 1e5, seed 4 — with the first 8 pairs W error
  // 0.47 (residual 0.82); with any other draw 0.0071 (residual 0.11).
  const second = extractFromPairs(N, G, k, o, 4 * o.jennrichPairs, o.seed + 7919, budget, cap);
  const best = !first.ok ? second : second.ok && second.residual < first.residual ? second : first;
  if (!best.ok) {
    throw new PureneuronError('NUMERICAL_FAILURE', `rank-one extraction failed: no Jennrich pair gave ${k} real, distinct pure directions; the samples are too few or k = ${k} is too large`);
  }
  return best;
}

/** One extraction from `pairs` random Jennrich pairs (then the pooled selection and polish). */
function extractFromPairs(N: Float64Array[], G: Float64Array, k: number, o: FitOptions, pairs: number, seed: number, budget: number, cap: number) {
  const warnings: string[] = [];
  let jr = jennrich(N, k, pairs, seed);
  if (!jr.best) {
    // Every pair had complex eigenvalues: retry with more pairs before giving up.
    jr = jennrich(N, k, pairs * 8, seed + 1);
  }
  if (!jr.best) warnings.push(`every Jennrich pair gave complex eigenvalues (a noisy null space); the pure directions come from the real ones alone`);
  let U: Float64Array | undefined = jr.best;
  if (o.polish) {
    const chosen = selectAndPolish(jr.candidates, G, k, budget, cap);
    if (chosen) {
      U = new Float64Array(k * k);
      chosen.forEach((u, i) => {
        for (let a = 0; a < k; a++) U![a * k + i] = u[a];
      });
    }
  }
  if (!U) return { ok: false as const, U: new Float64Array(0), residual: Infinity, warnings };
  return { ok: true as const, U, residual: jointDiagResidual(U, N, k), warnings };
}
