/**
 * The method's stages between the passes over the data, as functions of the merged pass sums
 * alone (passes/ reads them out of the pass states). learn() and the shard steps (api/) chain
 * them in this order, so a model built from sums merged across processes is computed by the
 * same code, from the same kind of sums, as one built in a single process:
 *
 *   pass 1         second moments and the symmetry test's odd sums
 *   afterPass1     linear part, k ('auto'), symmetry report, reduction and whitening → the
 *                  detector plan of pass 2                                        (step 1)
 *   pass 2         the detector T over the plan                                   (step 2)
 *   afterPass2     null space, pure directions (Jennrich, polish), first layer W   (steps 3–4)
 *   estimateError  half-sample fits, no pass                                      (error estimate)
 *   [refinement    Gauss–Newton passes from W: refine.ts]                        (step 5)
 *   pass 3         least-squares sums of y on relu(Wx)
 *   secondLayerOf  A                                                              (step 6)
 *   fitDiagnostics the model's diagnostics and warnings (diagnostics.ts)
 *
 * Step numbers are those of the README's "Method in brief". Everything here is deterministic
 * given the merged sums and the options: equal sums give equal bits on either backend.
 */
import { PureneuronError } from '../errors.js';
import type { Kernels, Moments1Sums, ReadoutSums } from '../kernels/types.js';
import { halfFirstLayer, weightDistance } from './errorEstimate.js';
import { pureDirections, type ExtractOptions } from './extract.js';
import { firstLayer, secondLayer } from './layers.js';
import { checkRefineFits, type Sample } from './refine.js';
import { checkSpectralFits } from './capacity.js';
import { linearPart, reduce, significantRank, type LinearPart, type Reduction } from './reduce.js';
import { symmetryReport, type SymmetryReport } from './symmetry.js';

/** The learn options that determine the model from the pass sums (all given: api/options.ts resolves them). */
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
  refineSamples: number | 'auto';
}

/** Moment sums (Kernels.moments1's layout) with their sample count and Σρ (= n unweighted). */
export interface WeightedMoments {
  sums: Moments1Sums;
  n: number;
  weight: number;
}

/** Pass 1's merged sums: the two halves of every chunk apart, and the odd sums (4d: S1 | V1 | S3 | V3). */
export interface Pass1Sums {
  halves: [WeightedMoments, WeightedMoments];
  odd: Float64Array;
}

/** Detector sums T (mh×mz, DetectorPlan) with their sample count and Σρ. */
export interface DetectorSums {
  T: Float64Array;
  n: number;
  weight: number;
}

/** Pass 2's merged sums, the two halves of the samples apart, and the refinement's subsample. */
export interface Pass2Sums {
  halves: [DetectorSums, DetectorSums];
  sample: Sample;
}

/** Pass 3's merged sums: the normal equations of y on relu(Wx). */
export interface Pass3Sums {
  sums: ReadoutSums;
  n: number;
  weight: number;
}

/** a + b element by element, formed as (0 + a) + b: the bits of adding both into zeroed sums. */
/** a + b elementwise (0 + a + b: +0 for −0 + −0, as merged sums have). A loop: Float64Array.from with a map function takes ~40 ns per element. */
function addArrays(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = 0 + a[i] + b[i];
  return out;
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
  halves: WeightedMoments[];
  lp: LinearPart;
  symmetry: SymmetryReport;
  red: Reduction;
  warnings: string[];
}

/**
 * Everything computed from the merged pass-1 sums of n samples: the linear part, k (when
 * 'auto'), the sample-count check, the symmetry report, and the reduction with the detector
 * plan of pass 2.
 */
export function afterPass1(kernels: Kernels, p1: Pass1Sums, n: number, d: number, l: number, o: FitOptions): Stage1 {
  const warnings: string[] = [];
  const [h0, h1] = p1.halves;
  const keys = ['xx', 'yx', 'yy', 'xs', 'ys'] as const;
  const sums = Object.fromEntries(keys.map((key) => [key, addArrays(h0.sums[key], h1.sums[key])])) as unknown as Moments1Sums;
  const weight = 0 + h0.weight + h1.weight;

  const lp = linearPart(kernels, sums, weight, n, d, l);
  const rank = significantRank(lp);
  const k = o.k === 'auto' ? Math.max(1, Math.min(rank, d, l)) : o.k;
  // A k given was checked before pass 1 (api/options.ts checkFits); one chosen here is now.
  if (o.k === 'auto') {
    checkSpectralFits(k, d, o.reduceX, true);
    checkRefineFits(o.refine, k, d);
  }
  // The detector has mz = k(k+1)/2 unknowns; its null space is only determined with several
  // samples per unknown (accuracy needs far more: see the README's limits).
  const needed = 2 * k * (k + 1);
  if (n < needed) {
    throw new PureneuronError('TOO_FEW_SAMPLES', `${n} samples are too few for k = ${k}: the detector has ${(k * (k + 1)) / 2} unknowns per output coordinate; give at least ${needed} samples (many more for accuracy)`);
  }
  const symmetry = symmetryReport(p1.odd, d);
  if (symmetry.asymmetric) {
    warnings.push(`x looks asymmetric: the ${symmetry.order === 1 ? 'mean' : 'third moment'} of column ${symmetry.column} is ${symmetry.maxZ.toFixed(1)} standard errors from 0 (threshold ${symmetry.threshold.toFixed(1)}); the method assumes p(x) = p(−x), so the model may be biased`);
  }
  const red = reduce(kernels, lp, k, { reduceX: o.reduceX, whitenY: o.whitenY, literal: o.detector === 'literal' });
  return { d, l, n, k, rank, kAboveRank: o.k !== 'auto' && k > rank, halves: p1.halves, lp, symmetry, red, warnings };
}

// ------------------------------------------------------------------------------------------
// After pass 2

export interface Stage2 {
  /** Detector sums of the two halves (for the error estimate). */
  halves: DetectorSums[];
  /** The full-sample extraction: pure directions U, residual, detector singular values. */
  full: { U: Float64Array; residual: number; singularValues: Float64Array; warnings: string[] };
  /** The first layer, k×d with unit rows. */
  W: Float64Array;
  warnings: string[];
}

/**
 * One extraction (pureDirections: null space, pure directions) as plain data, so that a worker
 * thread can run it (parallel/tasks.ts) with the same bits as the calling thread.
 */
export interface ExtractJob {
  T: Float64Array;
  weight: number;
  hDim: number;
  k: number;
  o: ExtractOptions;
  budget: number;
}

export type Extraction = ReturnType<typeof pureDirections>;

export const extract = (kernels: Kernels, j: ExtractJob): Extraction => pureDirections(kernels, j.T, j.weight, j.hDim, j.k, j.o, j.budget);

/**
 * The work after pass 2: the full detector's extraction, and each half's refit for the error
 * estimate (none when it is off). They are independent: learn() runs them at once on its workers.
 */
export function extractJobs(s1: Stage1, p2: Pass2Sums, o: FitOptions): { full: ExtractJob; halves: HalfJob[] } {
  const [h0, h1] = p2.halves;
  const full = extractJob(s1, { T: addArrays(h0.T, h1.T), n: h0.n + h1.n, weight: 0 + h0.weight + h1.weight }, o);
  return { full, halves: o.errorEstimate ? p2.halves.map((h, i) => halfJob(s1, h, i, o)) : [] };
}

/** One half's refit for the error estimate: its extraction, then its first layer from its own pass-1 sums (errorEstimate.ts). */
export interface HalfJob {
  fit: ExtractJob;
  sums: Moments1Sums;
  weight: number;
  lp: LinearPart;
  Ry: Float64Array;
  zMean: Float64Array;
  k: number;
}

const halfJob = (s1: Stage1, h: DetectorSums, i: number, o: FitOptions): HalfJob => ({
  fit: extractJob(s1, h, o), sums: s1.halves[i].sums, weight: s1.halves[i].weight, lp: s1.lp, Ry: s1.red.plan.Ry, zMean: s1.red.zMean, k: s1.k,
});

/** A half's first layer (k×d). */
export const halfFit = (kernels: Kernels, j: HalfJob): Float64Array => halfFirstLayer(j.sums, j.weight, j.lp, j.Ry, extract(kernels, j.fit).U, j.zMean, j.k);

// One extraction of detector sums h; the halves get the full fit's polish budget: with a smaller
// one they miss directions the full fit finds and raise false alarms on good ill-conditioned
// square fits (docs/measurements.md).
const extractJob = (s1: Stage1, h: DetectorSums, o: FitOptions): ExtractJob => ({
  T: h.T, weight: h.weight, hDim: s1.red.plan.hDim, k: s1.k, o: { polish: o.polish, jennrichPairs: o.jennrichPairs, seed: o.seed }, budget: 2 * s1.k,
});

/** From the merged pass-2 sums: the detector's null space, the pure directions and W (`full`: that extraction, when already run). */
export function afterPass2(kernels: Kernels, s1: Stage1, p2: Pass2Sums, o: FitOptions, full: Extraction = extract(kernels, extractJobs(s1, p2, o).full)): Stage2 {
  const W = firstLayer(full.U, s1.red.plan, s1.red.zMean, s1.k);
  return { halves: p2.halves, full, W, warnings: [...full.warnings] };
}

/**
 * The W error estimate from the half-sample fits (errorEstimate.ts; no pass over the data).
 * Undefined, with a warning, when a half cannot be fitted; undefined without one when the
 * option is off.
 */
export function estimateError(kernels: Kernels, s1: Stage1, s2: Stage2, o: FitOptions, fits?: (Float64Array | null)[]): { errorEstimate?: number; warnings: string[] } {
  if (!o.errorEstimate) return { warnings: [] };
  const { k, d } = s1;
  try {
    // `fits`: the halves' first layers (halfFit), already computed (null where one failed).
    const fit = (i: number): Float64Array => {
      const f = fits ? fits[i] : halfFit(kernels, halfJob(s1, s2.halves[i], i, o));
      if (!f) throw new PureneuronError('NUMERICAL_FAILURE', 'half-sample fit failed');
      return f;
    };
    const [Wa, Wb] = s2.halves.map((_, i) => fit(i));
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

/** A = least squares of y on relu(Wx) (l×k), from the merged pass-3 sums. */
export function secondLayerOf(p3: Pass3Sums, k: number, l: number): Float64Array {
  return secondLayer(p3.sums, k, l);
}
