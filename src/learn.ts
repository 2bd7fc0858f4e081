/**
 * learn(): the spectral learner end to end.
 *
 *   pass 1  second moments                       → Moments1Accumulator
 *   reduce  whitening, SVD of the linear part    → DetectorPlan (reduce.ts)
 *   pass 2  detector matrix T                    → DetectorAccumulator
 *   null space of T, Jennrich pairs, polish      → pure directions u_i (nullspace.ts, extract.ts)
 *   first layer  ŵ_i = sign(E[u_iᵀz])·Phᵀu_i, mapped back to x coordinates
 *   pass 3  least squares of y on relu(Ŵx)       → A (ReadoutAccumulator, layers.ts)
 */
import { PureneuronError } from './errors.js';
import { basisMatrices, jennrich, jointDiagResidual, selectAndPolish } from './extract.js';
import { getKernels, type BackendOption } from './kernels/select.js';
import type { Kernels } from './kernels/types.js';
import { Model, type Diagnostics, type RefineReport } from './model.js';
import { detectorNullSpace } from './nullspace.js';
import { DetectorAccumulator } from './passes/detector.js';
import { Moments1Accumulator } from './passes/moments1.js';
import { firstLayer, secondLayer } from './layers.js';
import { normalizeRows } from './linalg.js';
import { linearPart, reduce, significantRank, type Reduction } from './reduce.js';
import { SymmetryAccumulator } from './symmetry.js';
import { HessianAccumulator, newtonStep, VarProAccumulator } from './refine.js';
import { halfFirstLayer, samplesFor, weightDistance } from './errorEstimate.js';
import { findBadValue } from './sources/check.js';
import { toSampleSource } from './sources/index.js';
import { availableParallelism } from 'node:os';
import { absorbMoments1, absorbVarPro } from './parallel/jobs.js';
import { sharedPool, type WorkerPool } from './parallel/pool.js';
import { PassRunner } from './parallel/runner.js';
import type { PassState } from './parallel/state.js';
import type { ArrayInput, SampleSource } from './types.js';

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
   * number of Gauss–Newton passes (default 0 = the spectral estimate alone).
   */
  refine?: number;
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
  /** Samples per chunk read from the source (default 65536). */
  chunkRows?: number;
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
  refine: 0,
  refineSamples: 100_000,
  workers: 'auto' as number | 'auto',
  chunkRows: 65536,
};
const OPTION_KEYS = new Set(['k', 'signal', 'onProgress', ...Object.keys(DEFAULTS)]);

type Resolved = typeof DEFAULTS & { k: number | 'auto'; signal?: AbortSignal; onProgress?: (p: Progress) => void };

/** A value as the user wrote it: strings quoted (so '3' is not mistaken for 3), numbers as is (NaN stays NaN). */
const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : typeof v === 'symbol' ? v.toString() : String(v));

function resolveOptions(options: LearnOptions): Resolved {
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
  if (!Number.isInteger(o.refine) || o.refine < 0 || o.refine > 1000) throw new PureneuronError('BAD_OPTION', `refine must be an integer in [0, 1000] (Gauss–Newton passes), got ${show(o.refine)}`);
  if (!Number.isInteger(o.refineSamples) || o.refineSamples < 1) throw new PureneuronError('BAD_OPTION', `refineSamples must be a positive integer, got ${show(o.refineSamples)}`);
  if (o.workers !== 'auto' && (!Number.isInteger(o.workers) || o.workers < 0 || o.workers > 256)) throw new PureneuronError('BAD_OPTION', `workers must be 'auto' or an integer in [0, 256], got ${show(o.workers)}`);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw new PureneuronError('BAD_OPTION', `onProgress must be a function, got ${show(o.onProgress)}`);
  if (o.signal !== undefined && !(typeof o.signal === 'object' && o.signal !== null && typeof (o.signal as AbortSignal).aborted === 'boolean' && typeof (o.signal as AbortSignal).addEventListener === 'function')) {
    throw new PureneuronError('BAD_OPTION', `signal must be an AbortSignal, got ${show(o.signal)}`);
  }
  if (!Number.isInteger(o.chunkRows) || o.chunkRows < 1) throw new PureneuronError('BAD_OPTION', `chunkRows must be a positive integer, got ${o.chunkRows}`);
  return o;
}

/** Learns y ≈ A·relu(W·x) from samples of a symmetric input distribution. */
export async function learn(input: ArrayInput | SampleSource, options: LearnOptions): Promise<Model> {
  const o = resolveOptions(options);
  // Arrays are not scanned value by value: checkSums() below finds NaN/±Inf from the sums.
  const source = toSampleSource(input, { checkValues: false });
  const { d, l } = source;
  if (o.k !== 'auto' && o.k > Math.min(d, l)) {
    throw new RangeError(`k = ${o.k} exceeds min(d, l) = ${Math.min(d, l)}: the method needs k ≤ d and k ≤ l; choose k ≤ ${Math.min(d, l)}`);
  }
  const kernels = await getKernels(o.backend);
  const workers = resolveWorkers(o.workers, source.n, o.chunkRows);
  // Shared across calls (started once, idle workers unref'd): see sharedPool in parallel/pool.ts.
  const pool = workers > 0 ? sharedPool(workers, kernels.name) : undefined;
  return learnWith(source, o, kernels, pool);
}

/**
 * Worker threads to use: an explicit count, or 'auto' = the available cores when the data span
 * at least two chunks (fewer samples are done before workers would have started), else 0.
 * 0 runs every pass on the calling thread. The result is the same bits either way.
 */
function resolveWorkers(w: number | 'auto', n: number | undefined, chunkRows: number): number {
  if (w !== 'auto') return w;
  if (n !== undefined && n <= chunkRows) return 0;
  return Math.max(1, Math.min(availableParallelism(), 64));
}

async function learnWith(source: SampleSource, o: Resolved, kernels: Kernels, pool: WorkerPool | undefined): Promise<Model> {
  const { d, l } = source;
  const timings: Record<string, number> = {};
  const warnings: string[] = [];
  const t0 = performance.now();
  let tp = t0;
  const lap = (name: string) => {
    const t = performance.now();
    timings[name] = t - tp;
    tp = t;
  };
  const runner = new PassRunner(
    source,
    kernels,
    {
      chunkRows: o.chunkRows,
      signal: o.signal,
      onProgress: o.onProgress,
      robustScale: o.weighting === 'robust' ? o.robustScale : undefined,
    },
    pool,
  );

  // Pass 1: second moments (the two halves of every chunk apart, for the error estimate) and
  // the symmetry test.
  const p1 = await runner.run('pass1', { d, l }, 'pass1', source.n);
  const n = p1.rows;
  const overflow = (what: string, scale: string, fix: string) => `the ${what} overflow double precision (values of magnitude ≳ ${scale}): rescale ${fix}`;
  await checkSums(p1.state, ['xx', 'xs'], source, o, overflow('second moments of x', '1e150', 'x'));
  await checkSums(p1.state, ['yy', 'ys', 'yx'], source, o, overflow('second moments of y', '1e150', 'y'));
  const m1h = (['0', '1'] as const).map((suffix) => {
    const m = new Moments1Accumulator(kernels, d, l);
    absorbMoments1(m, p1.state, suffix);
    return m;
  });
  const m1 = new Moments1Accumulator(kernels, d, l);
  m1.merge(m1h[0]);
  m1.merge(m1h[1]);
  const sym = new SymmetryAccumulator(d);
  for (const key of ['s1', 'v1', 's3', 'v3'] as const) sym[key].set(p1.state[key] as Float64Array);
  lap('pass1');

  const lp = linearPart(kernels, m1.sums, m1.weight, n, d, l);
  const rank = significantRank(lp);
  const k = o.k === 'auto' ? Math.max(1, Math.min(rank, d, l)) : o.k;
  // The detector has mz = k(k+1)/2 unknowns; its null space is only determined with several
  // samples per unknown (accuracy needs far more: see the README's limits).
  const needed = 2 * k * (k + 1);
  if (n < needed) {
    throw new PureneuronError('TOO_FEW_SAMPLES', `${n} samples are too few for k = ${k}: the detector has ${(k * (k + 1)) / 2} unknowns per output coordinate; give at least ${needed} samples (many more for accuracy)`);
  }
  if (o.k !== 'auto' && k > rank) {
    warnings.push(`the linear part A·W has only ${rank} singular value(s) clear of sampling noise, fewer than k = ${k}: k may be too large (try k = ${Math.max(rank, 1)} or k: 'auto'), or the samples too few`);
  }
  const symmetry = sym.report();
  if (symmetry.asymmetric) {
    warnings.push(`x looks asymmetric: the ${symmetry.order === 1 ? 'mean' : 'third moment'} of column ${symmetry.column} is ${symmetry.maxZ.toFixed(1)} standard errors from 0 (threshold ${symmetry.threshold.toFixed(1)}); the method assumes p(x) = p(−x), so the model may be biased`);
  }
  const red = reduce(kernels, lp, k, { reduceX: o.reduceX, whitenY: o.whitenY, literal: o.detector === 'literal' });
  lap('reduce');

  // Pass 2: the detector, over the two halves of every chunk separately (for the error estimate).
  const p2 = await runner.run('pass2', { plan: red.plan }, 'pass2', n);
  sameCount(p2.rows, n, 2);
  await checkSums(p2.state, ['T'], source, o, overflow("detector's fourth-order sums", '1e75', 'x and y'));
  const dets = [0, 1].map((i) => {
    const a = new DetectorAccumulator(kernels, red.plan);
    a.T.set(p2.state['T' + i] as Float64Array);
    a.n = p2.state['n' + i] as number;
    a.weight = p2.state['w' + i] as number;
    return a;
  });
  const det = new DetectorAccumulator(kernels, red.plan);
  det.merge(dets[0]);
  det.merge(dets[1]);
  lap('pass2');

  const full = pureDirections(kernels, det, red, k, o, 2 * k);
  warnings.push(...full.warnings);
  let W = firstLayer(full.U, red.plan, red.zMean, k);
  lap('extract');

  let errorEstimate: number | undefined;
  if (o.errorEstimate) {
    try {
      const [Wa, Wb] = dets.map((hv, i) => halfFirstLayer(m1h[i].sums, m1h[i].weight, lp, red.plan.Ry, pureDirections(kernels, hv, red, k, o, k, k + Math.ceil(k / 4)).U, red.zMean, k));
      const est = Wa.every(Number.isFinite) && Wb.every(Number.isFinite) ? weightDistance(Wa, Wb, k, d) / 2 : NaN;
      if (!Number.isFinite(est)) throw new PureneuronError('NUMERICAL_FAILURE', 'degenerate half-sample fit');
      errorEstimate = est;
    } catch {
      // Any failure of a half fit (too few or degenerate samples in a half) only costs the estimate.
      warnings.push('the half-sample estimates failed (too few samples for half the data): no error estimate');
    }
    lap('errorEstimate');
  }

  // Pass 3: least squares of y on relu(Ŵx).
  const readout = async (Wr: Float64Array) => {
    const p3 = await runner.run('pass3', { W: Wr, k, d, l }, 'pass3', n);
    sameCount(p3.rows, n, 3);
    await checkSums(p3.state, ['rr', 'ry'], source, o, overflow('second-layer sums', '1e150', 'x and y'));
    return secondLayer({ rr: p3.state.rr as Float64Array, ry: p3.state.ry as Float64Array }, k, l);
  };
  let A = await readout(W);
  lap('pass3');

  let refinement: RefineReport | undefined;
  if (o.refine > 0) {
    const r = await refineLoop(runner, o, W, n, k, d, l);
    refinement = r.report;
    W = r.W;
    A = await readout(W); // least squares over all samples at the refined W
    lap('refine');
  }
  timings.total = performance.now() - t0;

  const sv = full.singularValues;
  const nullSpaceRatio = k < sv.length ? sv[k - 1] / Math.max(sv[k], Number.MIN_VALUE) : 0;
  if (nullSpaceRatio > 0.5) {
    warnings.push(`the detector's null space is not well separated (σ_k/σ_k+1 = ${nullSpaceRatio.toFixed(3)}): too few samples for k = ${k}, or k is wrong; the weights may be inaccurate`);
  }
  if (full.residual > JD_WARN) {
    warnings.push(`the recovered directions leave ${(100 * full.residual).toFixed(0)}% of the null-space basis off-diagonal (joint-diagonalization residual ${full.residual.toFixed(2)}): the rank-one extraction is unreliable (too few samples, a degenerate input distribution, or k too large)`);
  }
  if (errorEstimate !== undefined && errorEstimate > ERROR_WARN) {
    warnings.push(`estimated W error ≈ ${errorEstimate.toFixed(3)} (half-sample disagreement): too few samples; about ${samplesFor(ERROR_TARGET, n, errorEstimate)} samples would bring it to ${ERROR_TARGET}`);
  }
  const diagnostics: Diagnostics = {
    n,
    k,
    workers: pool?.size ?? 0,
    linearSingularValues: Array.from(red.linearSingularValues),
    linearNoiseFloor: lp.noiseFloor,
    linearRank: rank,
    detectorSingularValues: Array.from(sv.subarray(0, Math.min(sv.length, 2 * k + 2))),
    nullSpaceRatio,
    jointDiagResidual: full.residual,
    errorEstimate,
    refinement,
    symmetry,
    warnings,
    timings,
  };
  return new Model({ d, k, l, W, A }, kernels.name, diagnostics);
}

/**
 * Local refinement (refine.ts): up to o.refine streamed Gauss–Newton passes over the first
 * min(n, o.refineSamples) samples. Returns W with unit rows.
 */
async function refineLoop(runner: PassRunner, o: Resolved, W0: Float64Array, n: number, k: number, d: number, l: number) {
  const rows = Math.min(n, o.refineSamples);
  let W = W0;
  let Wprev = W0;
  let best = { W: W0, loss: Infinity };
  let iterations = 0;
  let halvings = 0;
  const losses: number[] = [];
  for (let it = 0; it < o.refine; it++) {
    // One pass at W: the variable-projection sums over all `rows` samples; the Gauss–Newton
    // matrix and its Schur pieces from the first HESSIAN_ROWS of them, all from the same
    // samples (mixing sample sets would make the reduced matrix inconsistent).
    const { state } = await runner.run('refine', { W, k, d, l, hessianRows: HESSIAN_ROWS }, 'refine', rows, rows);
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
    const stalled = best.loss < Infinity && best.loss - loss <= 1e-9 * best.loss;
    best = { W, loss };
    if (stalled) break;
    const delta = newtonStep(vpH.reducedHessian(hes, vpH.leastSquaresA() ?? A), vp.gradient(A));
    let dn = 0;
    let wn = 0;
    for (let i = 0; i < delta.length; i++) { dn += delta[i] * delta[i]; wn += W[i] * W[i]; }
    Wprev = W;
    W = W.map((v, i) => v + delta[i]);
    if (dn <= 1e-20 * wn) break; // relative step below 1e-10: converged
  }
  // The best evaluated W, with unit rows (the scale moves into A at the final least squares).
  const Wn = normalizeRows(Float64Array.from(best.W), k, d);
  return { W: Wn, report: { iterations, samples: rows, losses } as RefineReport };
}

/** Samples used to form the refinement's Gauss–Newton matrix in each pass. */
const HESSIAN_ROWS = 20_000;

/**
 * A pass's sums (the state fields whose names start with one of `prefixes`) must be finite.
 * A NaN or ±Infinity anywhere in the data makes every sum it enters NaN or ±Infinity, weighted
 * or not (ρ = 0 for an infinite x still gives 0·∞ = NaN), so this check of a few hundred sums
 * replaces a scan of every value. When it fails, the source is read once more to name the
 * first bad value; if every value is finite, the products overflowed: `overflow` says so.
 */
async function checkSums(state: PassState, prefixes: string[], source: SampleSource, o: Resolved, overflow: string): Promise<void> {
  const finite = Object.entries(state).every(([key, v]) => !prefixes.some((p) => key.startsWith(p)) || (typeof v === 'number' ? Number.isFinite(v) : v.every(Number.isFinite)));
  if (finite) return;
  await findBadValue(source, o.chunkRows, o.signal);
  throw new PureneuronError('BAD_VALUE', overflow);
}

/** Every pass must see the samples pass 1 saw: a source that changes between passes is an error. */
function sameCount(rows: number, n: number, pass: number): void {
  if (rows !== n) throw new PureneuronError('BAD_FILE', `the source yielded ${rows} samples in pass ${pass} but ${n} in pass 1: the data changed between passes (sources must be re-readable unchanged)`);
}

/** Joint-diagonalization residual above which learn() warns (good fits measured ≤ 0.17, failed ones ≥ 0.34). */
const JD_WARN = 0.3;

/** Estimated W error above which learn() warns, and the error its sample-size advice aims at. */
const ERROR_WARN = 0.1;
const ERROR_TARGET = 0.05;

/** Null space of an accumulated detector, then the pure directions (columns of U, k×k). */
function pureDirections(kernels: Kernels, det: DetectorAccumulator, red: Reduction, k: number, o: Resolved, budget: number, cap = budget + k) {
  const ns = detectorNullSpace(kernels, det.T, det.weight, det.mh, det.mz, red.plan.hDim, k);
  return { ...extractPure(ns.basis, ns.G, k, o, budget, cap), singularValues: ns.singularValues };
}

/**
 * Jennrich over several random pairs, then (default) the selection and polish of k distinct
 * directions from all pairs' candidates; without polish, the pair that best jointly
 * diagonalizes the null-space basis is used as is (the paper's procedure).
 */
function extractPure(basis: Float64Array, G: Float64Array, k: number, o: Resolved, budget: number, cap: number): { U: Float64Array; residual: number; warnings: string[] } {
  const warnings: string[] = [];
  const N = basisMatrices(basis, k);
  let jr = jennrich(N, k, o.jennrichPairs, o.seed);
  if (!jr.best) {
    // Every pair had complex eigenvalues: retry with more pairs before giving up.
    jr = jennrich(N, k, o.jennrichPairs * 8, o.seed + 1);
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
  if (!U) {
    throw new PureneuronError('NUMERICAL_FAILURE', `rank-one extraction failed: no Jennrich pair gave ${k} real, distinct pure directions; the samples are too few or k = ${k} is too large`);
  }
  return { U, residual: jointDiagResidual(U, N, k), warnings };
}

