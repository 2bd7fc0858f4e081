/**
 * The model's diagnostics: what the stages measured about their own fit, the error estimate the
 * model reports, and every warning, each a rule stated next to the measurement it reads.
 */
import { samplesFor } from './errorEstimate.js';
import { JD_WARN } from './extract.js';
import type { RefineReport } from './refine.js';
import type { Stage1, Stage2 } from './stages.js';
import type { SymmetryReport } from './symmetry.js';

/** What the learner measured about its own fit (the README's Diagnostics section says how to read it). */
export interface Diagnostics {
  /** Number of samples used. */
  n: number;
  /** Number of hidden units fitted (the one chosen when k was 'auto'). */
  k: number;
  /** Worker threads the passes ran on (0 = the calling thread). */
  workers: number;
  /** Singular values of the linear part P = A·W (whitened-x coordinates), largest first. */
  linearSingularValues: number[];
  /** Largest singular value that sampling noise alone would give the linear part (approximate). */
  linearNoiseFloor: number;
  /** Singular values above 1.5× the noise floor (and 1e-8 of the largest): the rank of A·W the data support (what k: 'auto' picks; reduce.ts significantRank). */
  linearRank: number;
  /** Smallest singular values of the detector T, ascending (the first k span the null space). */
  detectorSingularValues: number[];
  /**
   * σ_k / σ_{k+1} of the detector (ascending order): how cleanly the k-dimensional null space
   * stands apart. 0 for exact (symmetrized, noiseless) data; near 1 means the samples do not
   * determine the pure directions.
   */
  nullSpaceRatio: number;
  /**
   * Off-diagonal energy left after diagonalizing the null-space basis with the recovered pure
   * directions, relative to the total (0 = perfectly jointly diagonal).
   */
  jointDiagResidual: number;
  /**
   * Estimated W error of the returned W (same measure as compare().wError). For the spectral
   * estimate: half the distance of two half-sample fits (spectralErrorEstimate). After a
   * refinement that started from a trusted spectral fit (spectralErrorEstimate ≤ 0.1) and
   * converged to the all-sample optimum: its asymptotic standard error, √(σ̂²·tr(H⁻¹)/(n·k))
   * with σ̂² the residual variance per output over all n samples and H the Gauss–Newton matrix
   * (scale directions removed). Captures sampling variance, not bias. Undefined when disabled
   * or when the halves could not be fitted.
   */
  errorEstimate?: number;
  /** The half-sample estimate of the spectral W's error (before any refinement). */
  spectralErrorEstimate?: number;
  /** What the optional refinement did (absent when refine = 0). */
  refinement?: RefineReport;
  /** The symmetry test of x (odd moments vs their standard errors); see symmetry.ts. */
  symmetry: SymmetryReport;
  /** Human-readable warnings about the data or the fit (empty when all is well). */
  warnings: string[];
  /** Wall time per phase in milliseconds. */
  timings: Record<string, number>;
}

/** A refined error estimate at or below which the fit is exact (see fitDiagnostics). */
const EXACT_SE = 1e-8;
/** Estimated W error above which learn() warns, and the error its sample-size advice aims at. */
const ERROR_WARN = 0.1;
const ERROR_TARGET = 0.05;

/** The model's diagnostics: the stages' measurements and every warning, in stage order. */
export function fitDiagnostics(
  s1: Stage1,
  s2: Stage2,
  est: { errorEstimate?: number; warnings: string[] },
  extra: { workers: number; refinement?: RefineReport; refinementSkipped?: string; timings: Record<string, number> },
): Diagnostics {
  const { k, n, red, lp, rank, symmetry } = s1;
  const { full } = s2;
  const spectralErrorEstimate = est.errorEstimate;
  const sv = full.singularValues;
  const nullSpaceRatio = k < sv.length ? sv[k - 1] / Math.max(sv[k], Number.MIN_VALUE) : 0;
  // The refinement's standard error speaks for the returned W only when the refinement started
  // inside the right basin — a clean spectral fit (small half-sample estimate, separated null
  // space, low joint-diagonalization residual) — and reached the all-sample optimum. A failed
  // square fit can have a small half-sample estimate (both halves fail alike), but not a clean
  // null space and residual with converged steps (docs/measurements.md).
  const ref = extra.refinement;
  const cleanStart = spectralErrorEstimate !== undefined && spectralErrorEstimate <= ERROR_WARN && nullSpaceRatio <= 0.5 && full.residual <= JD_WARN;
  // An exact fit speaks for itself whatever the start: a standard error this small needs a
  // residual at rounding level, which a wrong local optimum (misfit ≫ rounding) cannot have
  // with n·l equations for far fewer weights. (Exact fits from few samples started from a
  // spectral estimate above 0.1; they were reported with the spectral estimate and a warning.)
  // The refined estimate: the standard error and what the steps may have left (ref.remaining:
  // ~0 when they converged on noisy data; the last rounding-level steps on exact data; what
  // the steps still to come would add when the passes ran out first).
  const remaining = ref?.converged ? (ref.remaining ?? 0) : ref?.stopped === undefined ? ref?.remaining : undefined;
  const refined = ref?.standardError !== undefined && remaining !== undefined ? Math.hypot(ref.standardError, remaining) : undefined;
  const exactFit = refined !== undefined && refined <= EXACT_SE;
  // (errorEstimate: false leaves it undefined, as documented, whatever the refinement found.)
  const errorEstimate = refined !== undefined && spectralErrorEstimate !== undefined && (cleanStart || exactFit) ? refined : spectralErrorEstimate;
  const lastPass = ref?.passes[ref.passes.length - 1];
  const sigma = (v: number, se: number): string => (v / Math.max(se, Number.MIN_VALUE)).toPrecision(2);
  const refineWarning = ref?.stopped
    ? [`the refinement stopped early: ${ref.stopped}; the model keeps the best W it evaluated`]
    : ref && !ref.converged && lastPass
    ? [`the refinement did not converge in ${ref.passes.length} passes over all the samples (its last step moved W by ${lastPass.step.toExponential(1)} relative${ref.standardError !== undefined ? `, ${sigma(lastPass.step, ref.standardError)} standard errors, and about ${sigma(ref.remaining ?? lastPass.step, ref.standardError)} remain by the steps' contraction: the error estimate includes them` : ''})${cleanStart ? '' : '; the spectral start may lie outside the basin of the planted solution'}; a larger subsample (refineSamples, ${ref.samples} rows here) steers the steps better`]
    : [];
  // A small k-th singular value of A·W alone is no evidence against k: an ill-conditioned
  // square W gives one while the fit is good (false alarms on most such fits in the n sweep).
  // A k above the data's rank shows in the fit as well (a junk unit: the halves disagree, the
  // null space blurs), so the rank is named only when the fit is suspect too.
  const suspect = nullSpaceRatio > 0.5 || full.residual > JD_WARN || errorEstimate === undefined || errorEstimate > ERROR_WARN;
  // An exact fit also answers the doubts about the spectral stage below (a blurred null space,
  // an unreliable extraction, a rank below k): they concern its start, and the fit is exact.
  const rankWarning = s1.kAboveRank && suspect && !exactFit
    ? [`the linear part A·W has only ${rank} singular value(s) clear of sampling noise, fewer than k = ${k}, and the fit looks unreliable: k may be too large (try k = ${Math.max(rank, 1)} or k: 'auto'), or the samples too few`]
    : [];
  const warnings = [...s1.warnings, ...rankWarning, ...s2.warnings, ...est.warnings, ...refineWarning, ...(extra.refinementSkipped ? [extra.refinementSkipped] : [])];
  if (nullSpaceRatio > 0.5 && !exactFit) {
    warnings.push(`the detector's null space is not well separated (σ_k/σ_k+1 = ${nullSpaceRatio.toFixed(3)}): too few samples for k = ${k}, or k is wrong; the weights may be inaccurate`);
  }
  if (full.residual > JD_WARN && !exactFit) {
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
