/**
 * learn(): the spectral learner end to end.
 *
 *   pass 1  second moments                       → Moments1Accumulator
 *   reduce  whitening, SVD of the linear part    → DetectorPlan (reduce.ts)
 *   pass 2  detector matrix T                    → DetectorAccumulator
 *   null space of T, Jennrich pairs, polish      → pure directions u_i (nullspace.ts, extract.ts)
 *   first layer  ŵ_i = sign(E[u_iᵀz])·Phᵀu_i, mapped back to x coordinates
 *   refine  Gauss–Newton passes on the squared loss over the first refineSamples samples
 *           (refine: 'auto' by default; refine.ts, refineStage below)
 *   pass 3  least squares of y on relu(Ŵx)       → A (ReadoutAccumulator, layers.ts)
 *
 * The work between the passes is done by the stage functions of stages.ts (afterPass1,
 * afterPass2, estimateError, secondLayerOf, fitDiagnostics) and refineStage, from the merged
 * pass states alone; the shard commands (shard.ts: accumulate / merge / refine / finish) call
 * the same functions on states merged from many processes.
 */
import { PureneuronError } from '../errors.js';
import { getKernels, type BackendOption } from '../kernels/select.js';
import type { Kernels } from '../kernels/types.js';
import { Model, type RefineReport } from './model.js';
import { normalizeRows } from '../math/linalg.js';
import { HessianAccumulator, newtonStep, refinedStandardError, VarProAccumulator } from '../method/refine.js';
import { toSampleSource } from '../sources/index.js';
import { availableParallelism } from 'node:os';
import { absorbVarPro } from '../passes/jobs.js';
import { releasePool, sharedPool, type WorkerPool } from '../parallel/pool.js';
import { PassRunner, type RunnerOptions } from '../parallel/runner.js';
import { afterPass1, afterPass2, estimateError, fitDiagnostics, refinementConverged, runPass, secondLayerOf } from '../method/stages.js';
import type { ArrayInput, SampleSource } from '../types.js';

export interface Progress {
  phase: 'pass1' | 'pass2' | 'pass3' | 'refine';
  /** Samples processed so far in this phase. */
  done: number;
  /** Total samples in this phase, when known. */
  total?: number;
}

export interface LearnOptions {
  /**
   * Number of hidden units (1 ≤ k ≤ min(d, l)), or 'auto': the number of singular values of
   * the linear part A·W that stand clear of sampling noise (diagnostics.linearRank).
   */
  k: number | 'auto';
  /** Kernel backend; default 'auto' (or the PURENEURON_BACKEND environment variable). */
  backend?: BackendOption;
  /** 'even' (default): detector on the even part of y. 'literal': the paper's form on y. */
  detector?: 'even' | 'literal';
  /** Whiten the reduced outputs (default true). */
  whitenY?: boolean;
  /** Reduce x to the k-dim row space of W before the detector (default true); false keeps x full-dimensional. */
  reduceX?: boolean;
  /** Gauss–Newton polish of each pure direction on the non-linearized detector (default true). */
  polish?: boolean;
  /** Random Jennrich pairs tried; the best joint diagonalizer is kept (default 8). */
  jennrichPairs?: number;
  /** Seed of the (deterministic) random choices of the learner (default 1). */
  seed?: number;
  /**
   * 'robust' (default): weight every sample by an even function ρ(x) that bounds the
   * influence of far-out samples (see weights.ts); the input distribution stays symmetric, so
   * the method is unchanged, and heavy-tailed inputs no longer ruin the fourth-order moments.
   * 'none': plain averages, as in the paper.
   */
  weighting?: 'robust' | 'none';
  /** The c in ρ(x) = 1/(1 + q(x)/(c·d))², q the scaled squared norm of x (default 1). Larger is closer to unweighted. */
  robustScale?: number;
  /**
   * Local refinement of (A, W) on the squared loss from the spectral estimate: the maximum
   * number of Gauss–Newton passes over the first refineSamples samples (0 = the spectral
   * estimate alone), or 'auto' (default): up to AUTO_REFINE_PASSES passes, stopping once a
   * pass improves the loss by less than 1e-4 (noisy data: at its least-squares optimum), and
   * none when the problem is too large for the dense Gauss–Newton solve (k·d > 1024) or the
   * samples too few for the (k·d + l·k) weights (fewer than 10 per weight).
   */
  refine?: number | 'auto';
  /** Samples the refinement passes read (the first ones; default 100000). */
  refineSamples?: number;
  /** Estimate the error of Ŵ from two half-sample fits (default true; costs two extra extractions, no extra pass). */
  errorEstimate?: boolean;
  /**
   * Worker threads for the passes: a count (0 = everything on the calling thread), or 'auto'
   * (default): the available cores when the data span more than one chunk. Any count gives
   * the same model bit for bit.
   */
  workers?: number | 'auto';
  /**
   * Samples per chunk read from the source, the unit of work of a worker: a count, or 'auto'
   * (default): about 8 MiB of x and y per chunk (autoChunkRows). Changes the sums in their last
   * bits only (and the half-sample error estimate, whose halves are those of each chunk).
   */
  chunkRows?: number | 'auto';
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

const DEFAULTS = {
  backend: 'auto' as BackendOption,
  detector: 'even' as 'even' | 'literal',
  whitenY: true,
  reduceX: true,
  polish: true,
  jennrichPairs: 8,
  seed: 1,
  weighting: 'robust' as 'robust' | 'none',
  robustScale: 1,
  errorEstimate: true,
  refine: 'auto' as number | 'auto',
  refineSamples: 100_000,
  workers: 'auto' as number | 'auto',
  chunkRows: 'auto' as number | 'auto',
};
const OPTION_KEYS = new Set(['k', 'signal', 'onProgress', ...Object.keys(DEFAULTS)]);

export type Resolved = typeof DEFAULTS & { k: number | 'auto'; signal?: AbortSignal; onProgress?: (p: Progress) => void };

/** A value as the user wrote it: strings quoted (so '3' is not mistaken for 3), numbers as is (NaN stays NaN). */
const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : typeof v === 'symbol' ? v.toString() : String(v));

/** Resolved options once the source's shape has fixed chunkRows. */
type Sized = Resolved & { chunkRows: number };

export function resolveOptions(options: LearnOptions): Resolved {
  if (options === null || typeof options !== 'object') throw new TypeError('learn(input, options): options must be an object with at least { k }');
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) throw new PureneuronError('BAD_OPTION', `unknown option "${key}"; valid options: ${[...OPTION_KEYS].join(', ')}`);
  }
  const o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as Resolved;
  if (o.k !== 'auto' && (!Number.isInteger(o.k) || o.k < 1)) throw new RangeError(`k must be a positive integer or 'auto', got ${show(options.k)}`);
  if (!['auto', 'js', 'wasm'].includes(o.backend)) throw new PureneuronError('BAD_OPTION', `backend must be 'auto', 'js' or 'wasm', got ${JSON.stringify(o.backend)}`);
  if (o.detector !== 'even' && o.detector !== 'literal') throw new PureneuronError('BAD_OPTION', `detector must be 'even' or 'literal', got ${JSON.stringify(o.detector)}`);
  for (const key of ['whitenY', 'reduceX', 'polish', 'errorEstimate'] as const) {
    if (typeof o[key] !== 'boolean') throw new PureneuronError('BAD_OPTION', `${key} must be true or false, got ${JSON.stringify(o[key])}`);
  }
  if (!Number.isInteger(o.jennrichPairs) || o.jennrichPairs < 1 || o.jennrichPairs > 1000) throw new PureneuronError('BAD_OPTION', `jennrichPairs must be an integer in [1, 1000], got ${o.jennrichPairs}`);
  if (!Number.isInteger(o.seed)) throw new PureneuronError('BAD_OPTION', `seed must be an integer, got ${o.seed}`);
  if (o.weighting !== 'robust' && o.weighting !== 'none') throw new PureneuronError('BAD_OPTION', `weighting must be 'robust' or 'none', got ${JSON.stringify(o.weighting)}`);
  if (typeof o.robustScale !== 'number' || !(o.robustScale > 0) || !Number.isFinite(o.robustScale)) throw new PureneuronError('BAD_OPTION', `robustScale must be a positive number, got ${show(o.robustScale)}`);
  if (o.refine !== 'auto' && (!Number.isInteger(o.refine) || o.refine < 0 || o.refine > 1000)) throw new PureneuronError('BAD_OPTION', `refine must be 'auto' or an integer in [0, 1000] (Gauss–Newton passes), got ${show(o.refine)}`);
  if (!Number.isInteger(o.refineSamples) || o.refineSamples < 1) throw new PureneuronError('BAD_OPTION', `refineSamples must be a positive integer, got ${show(o.refineSamples)}`);
  if (o.workers !== 'auto' && (!Number.isInteger(o.workers) || o.workers < 0 || o.workers > 256)) throw new PureneuronError('BAD_OPTION', `workers must be 'auto' or an integer in [0, 256], got ${show(o.workers)}`);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw new PureneuronError('BAD_OPTION', `onProgress must be a function, got ${show(o.onProgress)}`);
  if (o.signal !== undefined && !(typeof o.signal === 'object' && o.signal !== null && typeof (o.signal as AbortSignal).aborted === 'boolean' && typeof (o.signal as AbortSignal).addEventListener === 'function')) {
    throw new PureneuronError('BAD_OPTION', `signal must be an AbortSignal, got ${show(o.signal)}`);
  }
  if (o.chunkRows !== 'auto' && (!Number.isInteger(o.chunkRows) || o.chunkRows < 1)) throw new PureneuronError('BAD_OPTION', `chunkRows must be a positive integer or 'auto', got ${show(o.chunkRows)}`);
  return o;
}

/** Learns y ≈ A·relu(W·x) from samples of a symmetric input distribution. */
export async function learn(input: ArrayInput | SampleSource, options: LearnOptions): Promise<Model> {
  const o0 = resolveOptions(options);
  // Arrays are not scanned value by value: checkSums() below finds NaN/±Inf from the sums.
  const source = toSampleSource(input, { checkValues: false });
  const { d, l } = source;
  const o = { ...o0, chunkRows: resolveChunkRows(o0.chunkRows, d, l) };
  if (o.k !== 'auto' && o.k > Math.min(d, l)) {
    throw new RangeError(`k = ${o.k} exceeds min(d, l) = ${Math.min(d, l)}: the method needs k ≤ d and k ≤ l; choose k ≤ ${Math.min(d, l)}`);
  }
  const kernels = await getKernels(o.backend);
  const workers = resolveWorkers(o.workers, source.n, o.chunkRows);
  // Shared across calls (started once, idle workers unref'd): see sharedPool in parallel/pool.ts.
  const pool = workers > 0 ? sharedPool(workers, kernels.name) : undefined;
  try {
    return await learnWith(source, o, kernels, pool);
  } finally {
    if (pool) releasePool(pool);
  }
}

/**
 * chunkRows: 'auto' for rows of d + l doubles: the largest power of two with at most 8 MiB per
 * chunk, within [256, 65536]. Memory in flight (a few chunks per worker) then stays bounded
 * whatever the width of the data (a fixed 65536 rows would be 1 GiB per chunk at d + l = 2000);
 * powers of two keep shard boundaries at whole chunks easy (docs/distributed.md).
 */
export function resolveChunkRows(chunkRows: number | 'auto', d: number, l: number): number {
  if (chunkRows !== 'auto') return chunkRows;
  const rows = (8 << 20) / ((d + l) * 8);
  return Math.min(65536, Math.max(256, 2 ** Math.floor(Math.log2(rows))));
}

/**
 * Worker threads to use: an explicit count, or 'auto' = the available cores when the data span
 * at least two chunks (fewer samples are done before workers would have started), else 0.
 * 0 runs every pass on the calling thread. The result is the same bits either way.
 */
export function resolveWorkers(w: number | 'auto', n: number | undefined, chunkRows: number): number {
  if (w !== 'auto') return w;
  if (n !== undefined && n <= chunkRows) return 0;
  return Math.max(1, Math.min(availableParallelism(), 64));
}

async function learnWith(source: SampleSource, o: Sized, kernels: Kernels, pool: WorkerPool | undefined): Promise<Model> {
  const { d, l } = source;
  const timings: Record<string, number> = {};
  const t0 = performance.now();
  let tp = t0;
  const lap = (name: string) => {
    const t = performance.now();
    timings[name] = t - tp;
    tp = t;
  };
  const runner = new PassRunner(source, kernels, runnerOptions(o), pool);

  // Pass 1: second moments (the two halves of every chunk apart, for the error estimate) and
  // the symmetry test. Then the linear part, k, the reduction and the plan of pass 2.
  const p1 = await runPass(runner, source, 1, { d, l }, source.n, o);
  const n = p1.rows;
  lap('pass1');
  const s1 = afterPass1(kernels, p1.state, n, d, l, o);
  const { k, red } = s1;
  lap('reduce');

  // Pass 2: the detector, over the two halves of every chunk separately (for the error estimate).
  const p2 = await runPass(runner, source, 2, { plan: red.plan }, n, o, n);
  lap('pass2');

  const s2 = afterPass2(kernels, s1, p2.state, o);
  lap('extract');

  const est = estimateError(kernels, s1, s2, o);
  if (o.errorEstimate) lap('errorEstimate');

  // Optional refinement of W (its passes read the first refineSamples samples only).
  const { W, report: refinement } = await refineStage(kernels, runner, o, s2.W, n, k, d, l, est.errorEstimate);
  if (refinement) lap('refine');

  // Pass 3: least squares of y on relu(Ŵx) over all samples, at the final W.
  const p3 = await runPass(runner, source, 3, { W, k, d, l }, n, o, n);
  const A = secondLayerOf(p3.state, k, l);
  lap('pass3');
  timings.total = performance.now() - t0;
  const diagnostics = fitDiagnostics(s1, s2, est, { workers: pool?.size ?? 0, refinement, timings });
  return new Model({ d, k, l, W, A }, kernels.name, diagnostics);
}

/** The PassRunner options of resolved learn options. */
export function runnerOptions(o: { chunkRows: number; signal?: AbortSignal; onProgress?: (p: Progress) => void; weighting: 'robust' | 'none'; robustScale: number }): RunnerOptions {
  return {
    chunkRows: o.chunkRows,
    signal: o.signal,
    onProgress: o.onProgress,
    robustScale: o.weighting === 'robust' ? o.robustScale : undefined,
  };
}

/**
 * The refinement stage shared by learn() and the shard steps (shard.ts): runs refinePlan's
 * passes from the spectral W0 and returns the W to use and the report (undefined when no pass
 * ran). 'auto' keeps whichever W has the smaller estimated error, when both estimates are
 * trustworthy (a clean spectral fit is vouched for by its half-sample estimate; the
 * refinement's standard error needs it to have converged): the refinement fits the first
 * refineSamples samples, the spectral estimate all n, so for n ≫ refineSamples the spectral W
 * can be the more accurate (at (32,16,32): 0.0045 at n = 1e6 vs 0.0011 refined; about equal at
 * 1e7; the spectral one better beyond). `kernels` runs the Gauss–Newton solves' dense algebra
 * (Kernels.cholesky, Kernels.triInverse) on this thread; the passes use the runner's.
 */
export async function refineStage(
  kernels: Kernels, runner: PassRunner, o: RefineOptions, W0: Float64Array, n: number, k: number, d: number, l: number, spectralEstimate: number | undefined,
): Promise<{ W: Float64Array; report?: RefineReport }> {
  const plan = refinePlan(o, n, k, d, l);
  if (plan.passes === 0) return { W: W0 };
  const r = await refineLoop(kernels, runner, o, plan, W0, n, k, d, l);
  const se = r.report.standardError;
  r.report.used = !(o.refine === 'auto' && se !== undefined && spectralEstimate !== undefined && refinementConverged(r.report.losses) && spectralEstimate < se);
  return { W: r.report.used ? r.W : W0, report: r.report };
}

type RefineOptions = { refine: number | 'auto'; refineSamples: number };

/** Passes of refine: 'auto', and the size limits it keeps to (see LearnOptions.refine). */
const AUTO_REFINE_PASSES = 5;
const AUTO_REFINE_MAX_KD = 1024;
const AUTO_REFINE_SAMPLES_PER_WEIGHT = 10;

/**
 * The refinement to run: a pass budget and the relative loss improvement below which it stops.
 * 'auto' (measured on Gaussian (20,10,15) and (32,16,32), noiseless and σ = 0.05: docs/
 * experiments.md) stops at 1e-4: on noisy data the loss is within 1e-4 of its optimum after 2–3
 * passes, and later passes move W by far less than its statistical error; noiseless data keep
 * improving by orders of magnitude per pass and use all AUTO_REFINE_PASSES. An explicit count
 * stops only when the loss has stalled (1e-9) or the step is negligible.
 */
export function refinePlan(o: RefineOptions, n: number, k: number, d: number, l: number): { passes: number; stopBelow: number } {
  if (o.refine !== 'auto') return { passes: o.refine, stopBelow: 1e-9 };
  const rows = Math.min(n, o.refineSamples);
  const fits = k * d <= AUTO_REFINE_MAX_KD && rows >= AUTO_REFINE_SAMPLES_PER_WEIGHT * (k * d + l * k);
  return { passes: fits ? AUTO_REFINE_PASSES : 0, stopBelow: 1e-4 };
}

/**
 * Local refinement (refine.ts): up to plan.passes streamed Gauss–Newton passes over the first
 * min(n, o.refineSamples) samples. Returns W with unit rows.
 */
async function refineLoop(
  kernels: Kernels, runner: PassRunner, o: RefineOptions, plan: { passes: number; stopBelow: number }, W0: Float64Array, n: number, k: number, d: number,
  l: number,
) {
  const rows = Math.min(n, o.refineSamples);
  let W = W0;
  let Wprev = W0;
  let best = { W: W0, loss: Infinity };
  let iterations = 0;
  let halvings = 0;
  const losses: number[] = [];
  let H: Float64Array | undefined;
  for (let it = 0; it < plan.passes; it++) {
    // One pass at W: the variable-projection sums over all `rows` samples; the Gauss–Newton
    // matrix and its Schur pieces from the first HESSIAN_ROWS of them, all from the same
    // samples (mixing sample sets would make the reduced matrix inconsistent). The last pass
    // only evaluates the loss (its step would never be tried): no Gauss–Newton matrix.
    const last = it === plan.passes - 1;
    const { state, rows: read } = await runner.run('refine', { W, k, d, l, hessianRows: last ? 0 : HESSIAN_ROWS }, 'refine', rows, rows);
    // learn()'s source holds all n samples; a shard given to `pureneuron refine` may not, and a
    // refinement over fewer samples than the single run's would give another model.
    if (read < rows) {
      throw new PureneuronError('TOO_FEW_SAMPLES', `the refinement reads the first ${rows} samples of the data, but this shard holds ${read}: give refine the first shard(s) holding at least ${rows} samples (or lower refineSamples in the plan)`);
    }
    const vp = new VarProAccumulator(W, k, d, l);
    absorbVarPro(vp, state, '');
    const vpH = new VarProAccumulator(W, k, d, l);
    absorbVarPro(vpH, state, 'H');
    const hes = new HessianAccumulator(W, k, d);
    hes.M.set(state.M as Float64Array);
    hes.weight = state.wM as number;
    iterations++;
    const A = vp.leastSquaresA();
    const loss = A ? vp.loss(A) : Infinity;
    losses.push(loss);
    // The loss comes from sums (Σ‖y‖² − 2⟨A, Σyrᵀ⟩ + …), so near zero it carries rounding
    // error of order 1e-16·E‖y‖²: changes below that are not evidence of a worse step.
    if (!A || !(loss <= best.loss + 1e-13 * (vp.yy / vp.weight))) {
      // The step raised the loss: go halfway back.
      if (++halvings > 8) break;
      W = W.map((v, i) => Wprev[i] + 0.5 * (v - Wprev[i]));
      continue;
    }
    halvings = 0;
    // On noisy data the loss stops falling at the least-squares optimum: stop there too.
    const stalled = best.loss < Infinity && best.loss - loss <= plan.stopBelow * best.loss;
    best = { W, loss };
    if (stalled || last) break;
    H = vpH.reducedHessian(hes, vpH.leastSquaresA() ?? A);
    const delta = newtonStep(H, vp.gradient(A), kernels);
    let dn = 0;
    let wn = 0;
    for (let i = 0; i < delta.length; i++) { dn += delta[i] * delta[i]; wn += W[i] * W[i]; }
    Wprev = W;
    W = W.map((v, i) => v + delta[i]);
    if (dn <= 1e-20 * wn) break; // relative step below 1e-10: converged
  }
  // The best evaluated W, with unit rows (the scale moves into A at the final least squares).
  const Wn = normalizeRows(Float64Array.from(best.W), k, d);
  // Its standard error from the latest Gauss–Newton matrix (at best.W or one step before it).
  const standardError = H && Number.isFinite(best.loss) ? refinedStandardError(H, best.W, k, d, best.loss, l, rows, kernels) : undefined;
  return { W: Wn, report: { iterations, samples: rows, losses, standardError, used: true } as RefineReport };
}

/** Samples used to form the refinement's Gauss–Newton matrix in each pass. */
const HESSIAN_ROWS = 20_000;
