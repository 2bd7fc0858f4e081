/** Types shared by the experiment harness: sweep definitions, per-seed rows, aggregates. */
import type { Distribution } from '../../src/api/generate.js';
import type { LearnOptions } from '../../src/api/learn.js';

/** How big a sweep is: 'full' (the committed results), 'quick' (minutes), 'tiny' (seconds; tests). */
export type Scale = 'full' | 'quick' | 'tiny';

/** A planted problem. Everything the generator needs except the seed. */
export interface Problem {
  distribution: Distribution;
  n: number;
  d: number;
  k: number;
  l: number;
  /** Std of iid Gaussian output noise (default 0). */
  noise?: number;
  condW?: number;
  condA?: number;
  /**
   * 'planted' (default): the generator's network. 'safran-shamir': W with orthonormal rows
   * (cond(W) = 1) and A = 1 + aJitter·G (all ones plus a small iid Gaussian perturbation G),
   * the teachers on which Safran & Shamir (2018) found spurious local minima of gradient descent.
   */
  teacher?: 'planted' | 'safran-shamir';
  /** 'safran-shamir': size of the perturbation of the all-ones A (default 0.1). */
  aJitter?: number;
}

/** The learner options a configuration passes to learn() (k comes from the problem). */
export type LearnerOptions = Omit<LearnOptions, 'k' | 'signal' | 'onProgress'>;

/** A reference figure (docs/reference.md, NumPy reference implementation) drawn next to a series. */
export interface ReferencePoint {
  /** The series it is compared with. */
  series: string;
  facet: string;
  x: number;
  median: number;
  worst: number | null;
  /** What the reference measured, e.g. "NumPy, + polish". */
  label: string;
}

/** One point of a spectral sweep: a problem and the learner options used on it. */
export interface SpectralConfig {
  /** Unique within the sweep. */
  id: string;
  /** The line this point belongs to in the plot and the row in the tables (e.g. a distribution). */
  series: string;
  /** The panel (and table) this point belongs to, e.g. "(d,k,l) = (20,10,15)". */
  facet: string;
  /** The swept value (n, σ, cond(W)). */
  x: number;
  problem: Problem;
  learner: LearnerOptions;
}

export interface SpectralSweep {
  kind: 'spectral';
  name: string;
  title: string;
  description: string;
  /** Axis label of the swept value. */
  xLabel: string;
  /** 'log' for n and cond(W); 'ordinal' for σ (which includes 0). */
  xScale: 'log' | 'ordinal';
  /** What the series are (table header), e.g. 'distribution'. */
  seriesLabel: string;
  configs: SpectralConfig[];
  /** Reference figures from docs/reference.md to compare with (W error). */
  reference?: ReferencePoint[];
}

/** One baseline problem; every method runs on the same data. */
export interface BaselineProblem {
  id: string;
  label: string;
  problem: Problem;
}

export interface AdamSettings {
  lr: number;
  batchSize: number;
  /** Training time budget per run (ms). */
  maxMs: number;
  /** Plateau test (see adam.ts). */
  window: number;
  plateauTol: number;
}

export interface BaselineSweep {
  kind: 'baseline';
  name: string;
  title: string;
  description: string;
  problems: BaselineProblem[];
  /** Adam from a random start. */
  adam: AdamSettings;
  /** Adam started from the spectral estimate (a smaller step: it starts inside the basin). */
  refine: AdamSettings;
  /**
   * Options of a fourth method, learn() with its own local refinement (e.g. { refine: 20 });
   * omitted: no such method.
   */
  refineLearner?: LearnerOptions;
  /** The W error that counts as success (0.05). */
  target: number;
  /** A second, strict target: the accuracy Adam reaches on noiseless data (1e-6). */
  fineTarget: number;
}

/** One cell of the optimum sweep: a planted problem (every seed runs the four estimates on the same data). */
export interface OptimumCell {
  id: string;
  distribution: Distribution;
  n: number;
  d: number;
  k: number;
  l: number;
  noise: number;
}

/** How the augmented sweep builds its skewed base inputs (then [X; −X]). */
export type AugmentedBase = 'exponential' | 'abs-gaussian';

/**
 * Exactly symmetric samples built as users build them: a skewed base X (m×d, iid exponential(1)
 * or |N(0,1)| entries) augmented with its negation as one block, x = [X; −X] (n = 2m rows),
 * y = A·relu(W·x) from the planted network on both halves, then iid N(0, σ²) noise on every output.
 */
export interface AugmentedCell {
  id: string;
  base: AugmentedBase;
  n: number;
  d: number;
  k: number;
  l: number;
  noise: number;
}

/**
 * The evidence sweep of issue 12: on every cell and seed, the W error of the spectral estimate
 * (refine 0), of the default learn(), of Gauss–Newton least squares over the first `headRows`
 * samples started from the spectral estimate (the old default), and of the least-squares
 * optimum of all the samples (Gauss–Newton from the planted truth, tools/experiments/leastsq.ts);
 * plus the calibration of diagnostics.errorEstimate, and exactly symmetric augmented samples.
 */
export interface OptimumSweep {
  kind: 'optimum';
  name: string;
  title: string;
  description: string;
  cells: OptimumCell[];
  augmented: AugmentedCell[];
  /** Rows of the "first rows only" least squares (1e5: the old default refinement's sample). */
  headRows: number;
  /** Relative step that ends the Gauss–Newton iterations (1e-10). */
  tol: number;
  /** Default/optimum ratio above which a cell is flagged (1.10). */
  flagRatio: number;
  /** Seeds when --seeds is not given (the optimum is expensive: 3). */
  seeds?: number;
}

export type Sweep = SpectralSweep | BaselineSweep | OptimumSweep;

/** One learn() run of a spectral sweep. Errors are null when learn() threw. */
export interface SpectralRow {
  config: string;
  seed: number;
  wError: number | null;
  aError: number | null;
  predictionError: number | null;
  /** Wall time of learn() in ms (data generation excluded). */
  learnMs: number;
  nullSpaceRatio: number | null;
  jointDiagResidual: number | null;
  /** The learner's own estimate of the W error (diagnostics.errorEstimate), when it gives one. */
  errorEstimate: number | null;
  /** Number of warnings in the diagnostics. */
  warnings: number;
  backend?: string;
  /** The error code or message when learn() threw. */
  error?: string;
}

/** Median and worst (largest) over seeds; null when a run failed (worst) or most failed (median). */
export interface Stat {
  median: number | null;
  worst: number | null;
}

export interface SpectralAggregate {
  config: string;
  series: string;
  facet: string;
  x: number;
  runs: number;
  failures: number;
  wError: Stat;
  aError: Stat;
  predictionError: Stat;
  learnMs: Stat;
  nullSpaceRatio: Stat;
  jointDiagResidual: Stat;
  errorEstimate: Stat;
  /** Runs with at least one warning. */
  warned: number;
}

export type Method = 'spectral' | 'spectral+refine' | 'adam' | 'spectral+adam';

export interface BaselineRow {
  problem: string;
  method: Method;
  seed: number;
  wError: number | null;
  aError: number | null;
  predictionError: number | null;
  /** Time until the W error first fell below the target (ms), null if never. */
  msToTarget: number | null;
  /** Time until the W error first fell below the fine target (ms), null if never. */
  msToFine: number | null;
  /** Total time of the method (ms): learn(), Adam until its stop, or both. */
  ms: number;
  /** Adam: why training stopped (plateau, converged, maxMs, diverged). */
  stop?: string;
  epochs?: number;
  success: boolean;
  /** [ms, W error] after each epoch (thinned), for the plot. */
  trace?: [number, number][];
  error?: string;
}

export interface BaselineAggregate {
  problem: string;
  method: Method;
  runs: number;
  successes: number;
  wError: Stat;
  aError: Stat;
  predictionError: Stat;
  /** Median over the runs that reached the target; null if none did. */
  msToTargetMedian: number | null;
  /** Runs that reached the fine target, and the median time over those. */
  fineSuccesses: number;
  msToFineMedian: number | null;
  /** Median total time (for Adam: until plateau or budget). */
  msMedian: number | null;
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
}

interface ResultBase {
  sweep: string;
  title: string;
  description: string;
  scale: Scale;
  /** The command that produced this file. */
  command: string;
  machine: Machine;
  /** Kernel backend learn() used. */
  backend: string;
  date: string;
  /** git commit of the working tree the run used (with "-dirty" when it had uncommitted changes), when known. */
  revision?: string;
  durationMs: number;
  /** 1-minute load average of the machine at the start and at the end (other work slows timings). */
  load: [number, number];
  seeds: number[];
}

export interface SpectralResult extends ResultBase {
  kind: 'spectral';
  xLabel: string;
  xScale: 'log' | 'ordinal';
  seriesLabel: string;
  configs: SpectralConfig[];
  reference?: ReferencePoint[];
  rows: SpectralRow[];
  aggregates: SpectralAggregate[];
}

/** The sweep's settings (as run) and its rows. */
export interface BaselineResult extends ResultBase, Pick<BaselineSweep, 'kind' | 'problems' | 'adam' | 'refine' | 'refineLearner' | 'target' | 'fineTarget'> {
  rows: BaselineRow[];
  aggregates: BaselineAggregate[];
}

/** How one Gauss–Newton least-squares fit went (leastsq.ts). */
export interface LeastSquaresReport {
  passes: number;
  iterations: number;
  /** The last relative step ‖Δθ‖/‖θ‖. */
  step: number;
  stop: string;
  ms: number;
}

/** One (cell, seed) of the optimum sweep. W errors from compare() against the planted truth; null when that estimate failed. */
export interface OptimumRow {
  cell: string;
  seed: number;
  /** learn(..., { k, refine: 0 }). */
  spectral: number | null;
  /** learn(..., { k }): the default. */
  default: number | null;
  /** Gauss–Newton over the first min(n, headRows) samples from the spectral estimate. */
  head: number | null;
  /** The least-squares optimum of all n samples (Gauss–Newton from the truth); 0 when noiseless (the optimum is the truth, not computed). */
  optimum: number | null;
  /** The default's distance from the optimum, in the W error's measure (compare(default, optimum).wError); noisy cells. */
  toOptimum?: number;
  /** The default model's diagnostics.errorEstimate and diagnostics.spectralErrorEstimate. */
  errorEstimate: number | null;
  spectralErrorEstimate: number | null;
  /** The default model's warnings (verbatim). */
  warnings: string[];
  /** The default model's refinement: passes over all the samples, converged, why it stopped. */
  refinement?: { passes: number; converged: boolean; stopped?: string };
  spectralMs: number;
  learnMs: number;
  headFit?: LeastSquaresReport;
  optimumFit?: LeastSquaresReport;
  /** Failures, per estimate ("default: NUMERICAL_FAILURE: …"). */
  errors?: string[];
  /** Wall time of the whole (cell, seed): generation, both learn() and both least-squares fits. */
  wallMs?: number;
}

/** One (augmented cell, seed): the default learn() and learn() with k: 'auto'. */
export interface AugmentedRow {
  cell: string;
  seed: number;
  wError: number | null;
  aError: number | null;
  errorEstimate: number | null;
  warnings: string[];
  /** Hidden units learn(..., { k: 'auto' }) chose, and its W error (null when k differs or it failed). */
  kAuto: number | null;
  kAutoWError: number | null;
  kAutoWarnings: string[];
  /** The least-squares optimum of all n samples (noisy cells only; 0 when noiseless). */
  optimum: number | null;
  /** The default's distance from the optimum (compare(default, optimum).wError); noisy cells. */
  toOptimum?: number;
  optimumFit?: LeastSquaresReport;
  learnMs: number;
  errors?: string[];
  wallMs?: number;
}

export interface OptimumAggregate {
  cell: string;
  runs: number;
  spectral: Stat;
  default: Stat;
  head: Stat;
  optimum: Stat;
  /** default / optimum per seed (noisy cells): median and largest. */
  ratio: Stat;
  /** The median ratio exceeds flagRatio. */
  flagged: boolean;
  /** Seeds whose ratio exceeds flagRatio. */
  over: number;
  errorEstimate: Stat;
  warned: number;
  /** The default's distance from the optimum ÷ the optimum's W error, per seed (noisy cells). */
  toOptimum: Stat;
}

export interface AugmentedAggregate {
  cell: string;
  runs: number;
  wError: Stat;
  errorEstimate: Stat;
  optimum: Stat;
  ratio: Stat;
  warned: number;
  /** Seeds where k: 'auto' found the planted k. */
  kAutoRight: number;
  /** Noiseless cells: seeds that passed every check (W error ≤ 1e-10, estimate ≤ 1e-8, no warning, k found). */
  passed?: number;
}

export interface OptimumResult extends ResultBase, Pick<OptimumSweep, 'kind' | 'cells' | 'augmented' | 'headRows' | 'tol' | 'flagRatio'> {
  /** Rows taken from the checkpoint of an interrupted run (--resume); durationMs includes their time. */
  resumed?: number;
  rows: OptimumRow[];
  augmentedRows: AugmentedRow[];
  aggregates: OptimumAggregate[];
  augmentedAggregates: AugmentedAggregate[];
}

export type SweepResult = SpectralResult | BaselineResult | OptimumResult;
