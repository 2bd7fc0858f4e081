/**
 * Runs a sweep: for every configuration and seed, plant a problem, learn it with the public
 * learn(), compare with the truth, and record errors, time and diagnostics; then aggregate the
 * median and the worst over seeds. Data are generated once per (problem, seed) and shared by
 * every configuration that differs only in the learner's options (so variants are paired).
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { compare } from '../../src/api/compare.js';
import { PureneuronError } from '../../src/errors.js';
import { generate, type Generated } from '../../src/api/generate.js';
import { learn } from '../../src/api/learn.js';
import { Model } from '../../src/api/model.js';
import { Rng } from '../../src/math/random.js';
import type { Network } from '../../src/types.js';
import { getKernels } from '../../src/kernels/select.js';
import type { Kernels } from '../../src/kernels/types.js';
import { trainAdam, type AdamResult } from './adam.js';
import { leastSquares, type LeastSquaresResult } from './leastsq.js';
import type {
  AdamSettings,
  AugmentedAggregate,
  AugmentedCell,
  AugmentedRow,
  LeastSquaresReport,
  OptimumAggregate,
  OptimumResult,
  OptimumRow,
  OptimumSweep,
  BaselineAggregate,
  BaselineResult,
  BaselineRow,
  BaselineSweep,
  Machine,
  Method,
  Problem,
  Scale,
  SpectralAggregate,
  SpectralResult,
  SpectralRow,
  SpectralSweep,
  Stat,
  Sweep,
  SweepResult,
} from './types.js';

export interface RunOptions {
  /** Seeds 1..seeds (default 5). */
  seeds?: number;
  scale?: Scale;
  /** Skip configurations (and baseline problems) with more samples than this. */
  maxN?: number;
  /** Optimum sweep: only the cells whose id matches one of these globs (* any text, ? one character). */
  cells?: string[];
  /** Recorded in the result as the command that produced it. */
  command?: string;
  /** Progress lines (one per run). */
  log?: (line: string) => void;
  signal?: AbortSignal;
  /**
   * Optimum sweep: a JSON-lines file that receives every finished (cell, seed) as it ends, so that
   * a long run can be resumed after a crash; deleted when the sweep completes.
   */
  checkpoint?: string;
  /** Optimum sweep: reuse the (cell, seed) rows already in `checkpoint` instead of running them again. */
  resume?: boolean;
}

/** Samples of a planted problem: what generate() returns. */
export type Planted = Generated;

/** Samples of a problem for a seed (deterministic). */
export function plant(p: Problem, seed: number): Planted {
  const { distribution, n, d, k, l } = p;
  const noise = p.noise ?? 0;
  if ((p.teacher ?? 'planted') === 'planted') {
    const g = generate({ distribution, n, d, k, l, noise, seed, condW: p.condW, condA: p.condA });
    return { x: g.x, y: g.y, n, d, l, truth: g.truth };
  }
  // Safran–Shamir-type teacher: orthonormal rows of W, A = all ones + a small perturbation.
  const g = generate({ distribution, n, d, k, l, noise: 0, seed, condW: 1 });
  const rng = new Rng(seed, 11);
  const jitter = p.aJitter ?? 0.1;
  const A = new Float64Array(l * k);
  for (let t = 0; t < A.length; t++) A[t] = 1 + jitter * rng.normal();
  const truth: Network = { d, k, l, W: g.truth.W, A };
  const y = new Model(truth).predict(g.x);
  if (noise > 0) {
    const nr = new Rng(seed, 13);
    for (let t = 0; t < y.length; t++) y[t] += noise * nr.normal();
  }
  return { x: g.x, y, n, d, l, truth };
}

export function machine(): Machine {
  const c = cpus();
  return {
    cpu: c[0]?.model?.trim() ?? 'unknown',
    cores: c.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

/** Median and max over values; a null (failed run) counts as +∞. */
export function stat(values: (number | null)[]): Stat {
  if (values.length === 0) return { median: null, worst: null };
  const v = values.map((x) => (x === null || !Number.isFinite(x) ? Infinity : x)).sort((a, b) => a - b);
  const m = v.length;
  const med = m % 2 === 1 ? v[(m - 1) / 2] : (v[m / 2 - 1] + v[m / 2]) / 2;
  const worst = v[m - 1];
  return { median: Number.isFinite(med) ? med : null, worst: Number.isFinite(worst) ? worst : null };
}

const fmt = (v: number | null): string => (v === null ? 'failed' : v.toExponential(2));

function errorText(e: unknown): string {
  const err = e as { code?: string; message?: string };
  return err?.code ? `${err.code}: ${err.message}` : String(err?.message ?? e);
}

/** Warms up the JIT and compiles the kernels once, so the first timed run is not penalized. */
async function warmUp(): Promise<void> {
  const g = generate({ n: 4000, d: 8, k: 4, l: 6, seed: 99 });
  await learn({ x: g.x, y: g.y, d: 8, l: 6 }, { k: 4 });
}

/** `git describe`-like revision of the current directory's repository, or undefined. */
function revision(): string | undefined {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
    const head = git('rev-parse', '--short', 'HEAD');
    return git('status', '--porcelain', '--untracked-files=no') ? `${head}-dirty` : head;
  } catch {
    return undefined;
  }
}

const load = (): number => Math.round(loadavg()[0] * 100) / 100;

function base(sweep: Sweep, o: RunOptions, seeds: number[], t0: number, load0: number, backend: string) {
  return {
    sweep: sweep.name,
    title: sweep.title,
    description: sweep.description,
    scale: o.scale ?? 'full',
    command: o.command ?? `pureneuron experiment ${sweep.name}`,
    machine: machine(),
    backend,
    date: new Date().toISOString(),
    revision: revision(),
    durationMs: Math.round(performance.now() - t0),
    load: [load0, load()] as [number, number],
    seeds,
  };
}

export async function runSweep(sweep: Sweep, o: RunOptions = {}): Promise<SweepResult> {
  if (sweep.kind === 'optimum') return runOptimum(sweep, o);
  return sweep.kind === 'spectral' ? runSpectral(sweep, o) : runBaseline(sweep, o);
}

export async function runSpectral(sweep: SpectralSweep, o: RunOptions = {}): Promise<SpectralResult> {
  const t0 = performance.now();
  const load0 = load();
  const seeds = Array.from({ length: o.seeds ?? 5 }, (_, i) => i + 1);
  const configs = sweep.configs.filter((c) => o.maxN === undefined || c.problem.n <= o.maxN);
  // Group configurations that share a problem: one data set per (problem, seed).
  const groups = new Map<string, typeof configs>();
  for (const c of configs) {
    const key = JSON.stringify(c.problem);
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  await warmUp();
  const rows: SpectralRow[] = [];
  const total = configs.length * seeds.length;
  let backend = 'unknown';
  for (const group of groups.values()) {
    for (const seed of seeds) {
      if (o.signal?.aborted) throw new PureneuronError('ABORTED', 'the experiment was aborted');
      const data = plant(group[0].problem, seed);
      for (const c of group) {
        const row: SpectralRow = { config: c.id, seed, wError: null, aError: null, predictionError: null, learnMs: 0, nullSpaceRatio: null, jointDiagResidual: null, errorEstimate: null, warnings: 0 };
        const ts = performance.now();
        try {
          const model = await learn({ x: data.x, y: data.y, d: data.d, l: data.l }, { ...c.learner, k: c.problem.k, signal: o.signal });
          row.learnMs = performance.now() - ts;
          const cmp = compare(model, data.truth);
          row.wError = cmp.wError;
          row.aError = cmp.aError;
          row.predictionError = cmp.predictionError;
          const dg = model.diagnostics;
          row.nullSpaceRatio = dg?.nullSpaceRatio ?? null;
          row.jointDiagResidual = dg?.jointDiagResidual ?? null;
          const est = (dg as { errorEstimate?: unknown } | undefined)?.errorEstimate;
          row.errorEstimate = typeof est === 'number' && Number.isFinite(est) ? est : null;
          row.warnings = dg?.warnings.length ?? 0;
          row.backend = model.backend;
          if (model.backend) backend = model.backend;
        } catch (e) {
          if (o.signal?.aborted) throw e;
          row.learnMs = performance.now() - ts;
          row.error = errorText(e);
        }
        rows.push(row);
        o.log?.(
          `[${sweep.name} ${rows.length}/${total}] ${c.id} seed ${seed}: W ${fmt(row.wError)}, ${(row.learnMs / 1000).toFixed(2)} s${row.error ? ` (${row.error})` : ''}`,
        );
      }
    }
  }
  const order = new Map(configs.map((c, i) => [c.id, i]));
  rows.sort((a, b) => order.get(a.config)! - order.get(b.config)! || a.seed - b.seed);
  const aggregates: SpectralAggregate[] = configs.map((c) => {
    const r = rows.filter((x) => x.config === c.id);
    return {
      config: c.id,
      series: c.series,
      facet: c.facet,
      x: c.x,
      runs: r.length,
      failures: r.filter((x) => x.error !== undefined).length,
      wError: stat(r.map((x) => x.wError)),
      aError: stat(r.map((x) => x.aError)),
      predictionError: stat(r.map((x) => x.predictionError)),
      learnMs: stat(r.map((x) => x.learnMs)),
      nullSpaceRatio: stat(r.map((x) => x.nullSpaceRatio)),
      jointDiagResidual: stat(r.map((x) => x.jointDiagResidual)),
      errorEstimate: r.some((x) => x.errorEstimate !== null) ? stat(r.map((x) => x.errorEstimate)) : { median: null, worst: null },
      warned: r.filter((x) => x.warnings > 0).length,
    };
  });
  return {
    kind: 'spectral',
    ...base(sweep, o, seeds, t0, load0, backend),
    xLabel: sweep.xLabel,
    xScale: sweep.xScale,
    seriesLabel: sweep.seriesLabel,
    reference: sweep.reference?.filter((p) => configs.some((c) => c.series === p.series && c.facet === p.facet && c.x === p.x)),
    configs,
    rows: rows.map(roundRow),
    aggregates: aggregates.map(roundAggregate),
  };
}

/** Keeps at most `max` points of a trace: the first ones, then log-spaced, and the last. */
export function thin(trace: [number, number][], max = 60): [number, number][] {
  if (trace.length <= max) return trace;
  const keep = new Set<number>();
  const m = trace.length - 1;
  for (let i = 0; i < max; i++) keep.add(Math.round(Math.exp((Math.log(m + 1) * i) / (max - 1))) - 1);
  keep.add(0);
  keep.add(m);
  return [...keep].filter((i) => i >= 0 && i <= m).sort((a, b) => a - b).map((i) => trace[i]);
}

/** W error only (prediction error on a handful of inputs: cheap enough to run every epoch). */
function wErrorOf(W: Float64Array, A: Float64Array, truth: Network): number {
  return compare({ d: truth.d, k: truth.k, l: truth.l, W, A }, truth, { n: 8 }).wError;
}

function runAdam(
  data: Planted,
  settings: AdamSettings,
  seed: number,
  target: number,
  fineTarget: number,
  init?: { W: Float64Array; A: Float64Array },
): { res: AdamResult; hitMs: number | null; fineMs: number | null; trace: [number, number][] } {
  const trace: [number, number][] = [];
  let hitMs: number | null = null;
  let fineMs: number | null = null;
  const res = trainAdam(data.x, data.y, data.n, data.d, data.l, {
    k: data.truth.k,
    lr: settings.lr,
    batchSize: settings.batchSize,
    maxMs: settings.maxMs,
    window: settings.window,
    plateauTol: settings.plateauTol,
    seed,
    init,
    onEpoch: (s) => {
      const w = wErrorOf(s.W, s.A, data.truth);
      trace.push([s.ms, w]);
      if (hitMs === null && w < target) hitMs = s.ms;
      if (fineMs === null && w < fineTarget) fineMs = s.ms;
    },
  });
  return { res, hitMs, fineMs, trace };
}

export async function runBaseline(sweep: BaselineSweep, o: RunOptions = {}): Promise<BaselineResult> {
  const t0 = performance.now();
  const load0 = load();
  const seeds = Array.from({ length: o.seeds ?? 5 }, (_, i) => i + 1);
  const problems = sweep.problems.filter((p) => o.maxN === undefined || p.problem.n <= o.maxN);
  await warmUp();
  const rows: BaselineRow[] = [];
  const methods: Method[] = sweep.refineLearner ? ['spectral', 'spectral+refine', 'adam', 'spectral+adam'] : ['spectral', 'adam', 'spectral+adam'];
  const total = problems.length * seeds.length * methods.length;
  let backend = 'unknown';
  const log = (r: BaselineRow) =>
    o.log?.(
      `[${sweep.name} ${rows.length}/${total}] ${r.problem} ${r.method} seed ${r.seed}: W ${fmt(r.wError)}, ${(r.ms / 1000).toFixed(2)} s` +
        (r.msToTarget !== null ? `, < ${sweep.target} after ${(r.msToTarget / 1000).toFixed(2)} s` : '') +
        (r.stop ? ` (${r.stop})` : '') +
        (r.error ? ` (${r.error})` : ''),
    );
  const finish = (r: BaselineRow, W: Float64Array, A: Float64Array, truth: Network) => {
    const c = compare({ d: truth.d, k: truth.k, l: truth.l, W, A }, truth);
    r.wError = c.wError;
    r.aError = c.aError;
    r.predictionError = c.predictionError;
    r.success = c.wError < sweep.target;
  };
  for (const bp of problems) {
    for (const seed of seeds) {
      if (o.signal?.aborted) throw new PureneuronError('ABORTED', 'the experiment was aborted');
      const data = plant(bp.problem, seed);
      const { truth } = data;
      const empty = (method: Method): BaselineRow => ({ problem: bp.id, method, seed, wError: null, aError: null, predictionError: null, msToTarget: null, msToFine: null, ms: 0, success: false });

      // 1. The spectral method.
      const sp = empty('spectral');
      let model: Model | undefined;
      const ts = performance.now();
      try {
        // The spectral estimate alone; learn()'s default refinement is the 'spectral+refine' method.
        model = await learn({ x: data.x, y: data.y, d: data.d, l: data.l }, { k: truth.k, refine: 0, signal: o.signal });
        sp.ms = performance.now() - ts;
        finish(sp, model.W, model.A, truth);
        if (sp.success) sp.msToTarget = sp.ms;
        if (sp.wError! < sweep.fineTarget) sp.msToFine = sp.ms;
        sp.trace = [[sp.ms, sp.wError!]];
        if (model.backend) backend = model.backend;
      } catch (e) {
        if (o.signal?.aborted) throw e;
        sp.ms = performance.now() - ts;
        sp.error = errorText(e);
      }
      rows.push(sp);
      log(sp);

      // 1b. learn() with its own local refinement (the default, or the sweep's options).
      if (sweep.refineLearner) {
        const sr = empty('spectral+refine');
        const tr = performance.now();
        try {
          const m = await learn({ x: data.x, y: data.y, d: data.d, l: data.l }, { ...sweep.refineLearner, k: truth.k, signal: o.signal });
          sr.ms = performance.now() - tr;
          finish(sr, m.W, m.A, truth);
          if (sr.success) sr.msToTarget = sr.ms;
          if (sr.wError! < sweep.fineTarget) sr.msToFine = sr.ms;
          sr.trace = [[sr.ms, sr.wError!]];
        } catch (e) {
          if (o.signal?.aborted) throw e;
          sr.ms = performance.now() - tr;
          sr.error = errorText(e);
        }
        rows.push(sr);
        log(sr);
      }

      // 2. Adam from a random start.
      const ad = empty('adam');
      const a = runAdam(data, sweep.adam, seed, sweep.target, sweep.fineTarget);
      ad.ms = a.res.ms;
      ad.msToTarget = a.hitMs;
      ad.msToFine = a.fineMs;
      ad.stop = a.res.stop;
      ad.epochs = a.res.epochs;
      ad.trace = thin(a.trace);
      finish(ad, a.res.W, a.res.A, truth);
      rows.push(ad);
      log(ad);

      // 3. Adam from the spectral estimate.
      const rf = empty('spectral+adam');
      if (model) {
        const r = runAdam(data, sweep.refine, seed, sweep.target, sweep.fineTarget, { W: model.W, A: model.A });
        rf.ms = sp.ms + r.res.ms;
        rf.msToTarget = sp.success ? sp.ms : r.hitMs === null ? null : sp.ms + r.hitMs;
        rf.msToFine = r.fineMs === null ? null : sp.ms + r.fineMs;
        rf.stop = r.res.stop;
        rf.epochs = r.res.epochs;
        rf.trace = thin([[sp.ms, sp.wError!], ...r.trace.map(([t, w]): [number, number] => [sp.ms + t, w])]);
        finish(rf, r.res.W, r.res.A, truth);
      } else {
        rf.error = `no spectral estimate to start from (${sp.error})`;
      }
      rows.push(rf);
      log(rf);
    }
  }
  const aggregates: BaselineAggregate[] = [];
  for (const bp of problems) {
    for (const method of methods) {
      const r = rows.filter((x) => x.problem === bp.id && x.method === method);
      const hits = r.map((x) => x.msToTarget).filter((x): x is number => x !== null);
      const fine = r.map((x) => x.msToFine).filter((x): x is number => x !== null);
      aggregates.push({
        problem: bp.id,
        method,
        runs: r.length,
        successes: r.filter((x) => x.success).length,
        wError: stat(r.map((x) => x.wError)),
        aError: stat(r.map((x) => x.aError)),
        predictionError: stat(r.map((x) => x.predictionError)),
        msToTargetMedian: hits.length ? stat(hits).median : null,
        fineSuccesses: fine.length,
        msToFineMedian: fine.length ? stat(fine).median : null,
        msMedian: stat(r.map((x) => (x.error ? null : x.ms))).median,
      });
    }
  }
  return {
    kind: 'baseline',
    ...base(sweep, o, seeds, t0, load0, backend),
    problems,
    adam: sweep.adam,
    refine: sweep.refine,
    refineLearner: sweep.refineLearner,
    target: sweep.target,
    fineTarget: sweep.fineTarget,
    rows: rows.map(roundBaselineRow),
    aggregates: aggregates.map(roundBaselineAggregate),
  };
}

// --- The optimum sweep (issue 12).

/** The cells --max-n and --cells leave in. */
function cellFilter(o: RunOptions): (c: { id: string; n: number }) => boolean {
  const globs = o.cells?.map((g) => new RegExp('^' + g.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$'));
  return (c) => (o.maxN === undefined || c.n <= o.maxN) && (globs === undefined || globs.some((g) => g.test(c.id)));
}

/** Frees the previous cell's samples before the next is generated, when node runs with --expose-gc. */
const collect = (): void => (globalThis as { gc?: () => void }).gc?.();

/**
 * Exactly symmetric samples as users build them (AugmentedCell): X (m×d) iid exponential(1) or
 * |N(0,1)|, x = [X; −X] as one block, y = A·relu(W·x) with the planted network of the seed (the
 * generator's, as for every other sweep), then noise on every output of both halves.
 */
export function plantAugmented(c: AugmentedCell, seed: number): Planted {
  const { n, d, k, l } = c;
  if (n % 2 !== 0) throw new RangeError(`augmented n = ${n} must be even`);
  const m = n / 2;
  const truth = generate({ distribution: 'gaussian', n: 1, d, k, l, seed }).truth;
  const x = new Float64Array(new SharedArrayBuffer(8 * n * d));
  const rng = new Rng(seed, 21);
  for (let t = 0; t < m * d; t++) {
    const v = c.base === 'exponential' ? -Math.log(1 - rng.uniform()) : Math.abs(rng.normal());
    x[t] = v;
    x[m * d + t] = -v;
  }
  const y = new Float64Array(new SharedArrayBuffer(8 * n * l));
  y.set(new Model(truth).predict(x));
  if (c.noise > 0) {
    const nr = new Rng(seed, 23);
    for (let t = 0; t < y.length; t++) y[t] += c.noise * nr.normal();
  }
  return { x, y, n, d, l, truth };
}

/**
 * The least-squares optimum of all the samples into `row` (Gauss–Newton from the planted truth), and
 * the default model's distance from it; noiseless samples: the optimum is the truth (0, not computed).
 */
function fitOptimum(
  kernels: Kernels,
  data: Planted,
  noise: number,
  tol: number,
  dm: Model | undefined,
  row: Pick<OptimumRow, 'optimum' | 'optimumFit' | 'toOptimum'>,
  errors: string[],
): void {
  if (noise === 0) {
    row.optimum = 0;
    return;
  }
  const { truth } = data;
  try {
    const f = leastSquares(kernels, data.x, data.y, data.n, truth, { tol });
    row.optimum = lsqWError(f, truth);
    row.optimumFit = lsqReport(f);
    if (dm) row.toOptimum = compare(dm, { d: truth.d, k: truth.k, l: truth.l, W: f.W, A: f.A }).wError;
  } catch (e) {
    errors.push(`optimum: ${errorText(e)}`);
  }
}

const lsqReport = (f: LeastSquaresResult): LeastSquaresReport => ({ passes: f.passes, iterations: f.iterations, step: f.step, stop: f.stop, ms: f.ms });

const lsqWError = (f: LeastSquaresResult, truth: Network): number => compare({ d: truth.d, k: truth.k, l: truth.l, W: f.W, A: f.A }, truth).wError;

const estimateOf = (m: Model): number | null => {
  const v = m.diagnostics?.errorEstimate;
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
};

/** Quantile (linear interpolation between order statistics) of finite values; null when none. */
export function quantile(values: number[], q: number): number | null {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const p = q * (v.length - 1);
  const lo = Math.floor(p);
  const hi = Math.ceil(p);
  return v[lo] + (v[hi] - v[lo]) * (p - lo);
}

/** Default/optimum ratio of a run; null when either failed or the optimum is 0 (noiseless). */
export const optimumRatio = (def: number | null, opt: number | null): number | null => (def === null || opt === null || opt === 0 ? null : def / opt);

/** Noiseless augmented data must be fitted exactly and say so (algorithm.md, "Exactly symmetric samples"). */
export const AUGMENTED_CHECK = { wError: 1e-10, errorEstimate: 1e-8 } as const;

export function augmentedPassed(r: AugmentedRow, k: number): boolean {
  return (
    r.wError !== null &&
    r.wError <= AUGMENTED_CHECK.wError &&
    (r.errorEstimate ?? Infinity) <= AUGMENTED_CHECK.errorEstimate &&
    r.warnings.length === 0 &&
    r.kAuto === k
  );
}

export async function runOptimum(sweep: OptimumSweep, o: RunOptions = {}): Promise<OptimumResult> {
  const t0 = performance.now();
  const load0 = load();
  const seeds = Array.from({ length: o.seeds ?? sweep.seeds ?? 5 }, (_, i) => i + 1);
  const chosen = cellFilter(o);
  const cells = sweep.cells.filter(chosen);
  const augmented = sweep.augmented.filter(chosen);
  if (cells.length + augmented.length === 0) throw new PureneuronError('BAD_OPTION', `no cell of the ${sweep.name} sweep matches --cells ${o.cells?.join(',')} and --max-n ${o.maxN ?? '∞'}`);
  await warmUp();
  const kernels = await getKernels('auto');
  const rows: OptimumRow[] = [];
  const augmentedRows: AugmentedRow[] = [];
  const total = (cells.length + augmented.length) * seeds.length;
  let done = 0;
  // Rows of an interrupted run (resume), keyed by "cell seed"; their wall time counts in durationMs.
  const previous = new Map<string, { kind: 'row'; row: OptimumRow } | { kind: 'augmented'; row: AugmentedRow }>();
  let previousMs = 0;
  if (o.checkpoint && o.resume && existsSync(o.checkpoint)) {
    for (const line of readFileSync(o.checkpoint, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const e = JSON.parse(line) as { kind: 'row'; row: OptimumRow } | { kind: 'augmented'; row: AugmentedRow };
      previous.set(`${e.row.cell} ${e.row.seed}`, e);
    }
  } else if (o.checkpoint) {
    rmSync(o.checkpoint, { force: true });
  }
  const save = (e: { kind: 'row'; row: OptimumRow } | { kind: 'augmented'; row: AugmentedRow }): void => {
    if (o.checkpoint) appendFileSync(o.checkpoint, JSON.stringify(e) + '\n');
  };
  const reuse = (cell: string, seed: number, kind: 'row' | 'augmented'): boolean => {
    const e = previous.get(`${cell} ${seed}`);
    if (!e || e.kind !== kind) return false;
    if (e.kind === 'row') rows.push(e.row);
    else augmentedRows.push(e.row);
    previousMs += e.row.wallMs ?? 0;
    done++;
    o.log?.(`[${sweep.name} ${done}/${total}] ${cell} seed ${seed}: reused from ${o.checkpoint}`);
    return true;
  };
  let backend = 'unknown';
  const aborted = () => {
    if (o.signal?.aborted) throw new PureneuronError('ABORTED', 'the experiment was aborted');
  };
  const e2 = (v: number | null) => (v === null ? '✗' : v.toExponential(2));

  // The augmented samples first (cheap), then the cells in the sweep's order (by n: the largest last).
  for (const c of augmented) {
    for (const seed of seeds) {
      aborted();
      if (reuse(c.id, seed, 'augmented')) continue;
      const tw = performance.now();
      collect();
      let data: Planted | undefined = plantAugmented(c, seed);
      const { truth } = data;
      const input = { x: data.x, y: data.y, d: data.d, l: data.l };
      const row: AugmentedRow = {
        cell: c.id, seed, wError: null, aError: null, errorEstimate: null, warnings: [], kAuto: null, kAutoWError: null, kAutoWarnings: [], optimum: null, learnMs: 0,
      };
      const errors: string[] = [];
      const ts = performance.now();
      let dm: Model | undefined;
      try {
        const m = await learn(input, { k: c.k, signal: o.signal });
        dm = m;
        row.learnMs = performance.now() - ts;
        const cmp = compare(m, truth);
        row.wError = cmp.wError;
        row.aError = cmp.aError;
        row.errorEstimate = estimateOf(m);
        row.warnings = [...(m.diagnostics?.warnings ?? [])];
      } catch (e) {
        if (o.signal?.aborted) throw e;
        errors.push(`default: ${errorText(e)}`);
      }
      try {
        const m = await learn(input, { k: 'auto', signal: o.signal });
        row.kAuto = m.k;
        row.kAutoWarnings = [...(m.diagnostics?.warnings ?? [])];
        if (m.k === c.k) row.kAutoWError = compare(m, truth).wError;
      } catch (e) {
        if (o.signal?.aborted) throw e;
        errors.push(`k auto: ${errorText(e)}`);
      }
      fitOptimum(kernels, data, c.noise, sweep.tol, dm, row, errors);
      if (errors.length) row.errors = errors;
      data = undefined;
      row.wallMs = performance.now() - tw;
      augmentedRows.push(row);
      save({ kind: 'augmented', row: roundAugmentedRow(row) });
      done++;
      const verdict = c.noise === 0 ? (augmentedPassed(row, c.k) ? ', checks passed' : ', CHECKS FAILED') : '';
      o.log?.(
        `[${sweep.name} ${done}/${total}] ${c.id} seed ${seed}: W ${e2(row.wError)}, estimate ${e2(row.errorEstimate)}, ${row.warnings.length} warning(s), k auto ${row.kAuto ?? '✗'}` +
          (c.noise > 0 ? `, optimum ${e2(row.optimum)}` : '') +
          verdict +
          (errors.length ? ` [${errors.join('; ')}]` : ''),
      );
    }
  }

  for (const c of cells) {
    for (const seed of seeds) {
      aborted();
      if (reuse(c.id, seed, 'row')) continue;
      const tw = performance.now();
      collect();
      let data: Planted | undefined = plant({ distribution: c.distribution, n: c.n, d: c.d, k: c.k, l: c.l, noise: c.noise }, seed);
      const { truth } = data;
      const input = { x: data.x, y: data.y, d: data.d, l: data.l };
      const row: OptimumRow = {
        cell: c.id, seed, spectral: null, default: null, head: null, optimum: null, errorEstimate: null, spectralErrorEstimate: null, warnings: [], spectralMs: 0, learnMs: 0,
      };
      const errors: string[] = [];
      let spectral: Model | undefined;
      let ts = performance.now();
      try {
        spectral = await learn(input, { k: c.k, refine: 0, signal: o.signal });
        row.spectralMs = performance.now() - ts;
        row.spectral = compare(spectral, truth).wError;
      } catch (e) {
        if (o.signal?.aborted) throw e;
        errors.push(`spectral: ${errorText(e)}`);
      }
      ts = performance.now();
      let dm: Model | undefined;
      try {
        const m = await learn(input, { k: c.k, signal: o.signal });
        dm = m;
        row.learnMs = performance.now() - ts;
        row.default = compare(m, truth).wError;
        row.errorEstimate = estimateOf(m);
        const sp = m.diagnostics?.spectralErrorEstimate;
        row.spectralErrorEstimate = typeof sp === 'number' && Number.isFinite(sp) ? sp : null;
        row.warnings = [...(m.diagnostics?.warnings ?? [])];
        const rf = m.diagnostics?.refinement;
        if (rf) row.refinement = { passes: rf.passes.length, converged: rf.converged, ...(rf.stopped ? { stopped: rf.stopped } : {}) };
        if (m.backend) backend = m.backend;
      } catch (e) {
        if (o.signal?.aborted) throw e;
        errors.push(`default: ${errorText(e)}`);
      }
      if (spectral) {
        try {
          const f = leastSquares(kernels, data.x, data.y, Math.min(c.n, sweep.headRows), { d: c.d, k: c.k, l: c.l, W: spectral.W, A: spectral.A }, { tol: sweep.tol });
          row.head = lsqWError(f, truth);
          row.headFit = lsqReport(f);
        } catch (e) {
          errors.push(`head: ${errorText(e)}`);
        }
      }
      fitOptimum(kernels, data, c.noise, sweep.tol, dm, row, errors);
      if (errors.length) row.errors = errors;
      data = undefined;
      row.wallMs = performance.now() - tw;
      rows.push(row);
      save({ kind: 'row', row: roundOptimumRow(row) });
      done++;
      const ratio = optimumRatio(row.default, row.optimum);
      o.log?.(
        `[${sweep.name} ${done}/${total}] ${c.id} seed ${seed}: spectral ${e2(row.spectral)}, default ${e2(row.default)}, first ${e2(row.head)}, optimum ${e2(row.optimum)}` +
          (ratio !== null ? ` (default/optimum ${ratio.toFixed(4)})` : '') +
          `, estimate ${e2(row.errorEstimate)}; learn ${(row.learnMs / 1000).toFixed(2)} s` +
          (row.optimumFit ? `, optimum ${(row.optimumFit.ms / 1000).toFixed(1)} s (${row.optimumFit.passes} passes, ${row.optimumFit.stop}, step ${row.optimumFit.step.toExponential(1)})` : '') +
          (row.warnings.length ? `, ${row.warnings.length} warning(s)` : '') +
          (errors.length ? ` [${errors.join('; ')}]` : ''),
      );
    }
  }

  const aggregates: OptimumAggregate[] = cells.map((c) => {
    const r = rows.filter((x) => x.cell === c.id);
    const ratios = r.map((x) => optimumRatio(x.default, x.optimum));
    const ratio = c.noise > 0 ? stat(ratios) : { median: null, worst: null };
    return {
      cell: c.id,
      runs: r.length,
      spectral: stat(r.map((x) => x.spectral)),
      default: stat(r.map((x) => x.default)),
      head: stat(r.map((x) => x.head)),
      optimum: stat(r.map((x) => x.optimum)),
      ratio,
      flagged: c.noise > 0 && (ratio.median === null || ratio.median > sweep.flagRatio),
      over: c.noise > 0 ? ratios.filter((x) => x === null || x > sweep.flagRatio).length : 0,
      errorEstimate: stat(r.map((x) => x.errorEstimate)),
      warned: r.filter((x) => x.warnings.length > 0).length,
      toOptimum: c.noise > 0 ? stat(r.map((x) => (x.toOptimum === undefined || x.optimum === null || x.optimum === 0 ? null : x.toOptimum / x.optimum))) : { median: null, worst: null },
    };
  });
  const augmentedAggregates: AugmentedAggregate[] = augmented.map((c) => {
    const r = augmentedRows.filter((x) => x.cell === c.id);
    return {
      cell: c.id,
      runs: r.length,
      wError: stat(r.map((x) => x.wError)),
      errorEstimate: stat(r.map((x) => x.errorEstimate)),
      optimum: stat(r.map((x) => x.optimum)),
      ratio: c.noise > 0 ? stat(r.map((x) => optimumRatio(x.wError, x.optimum))) : { median: null, worst: null },
      warned: r.filter((x) => x.warnings.length > 0).length,
      kAutoRight: r.filter((x) => x.kAuto === c.k).length,
      ...(c.noise === 0 ? { passed: r.filter((x) => augmentedPassed(x, c.k)).length } : {}),
    };
  });
  const result: OptimumResult = {
    kind: 'optimum',
    ...base(sweep, o, seeds, t0, load0, backend),
    cells,
    augmented,
    headRows: sweep.headRows,
    tol: sweep.tol,
    flagRatio: sweep.flagRatio,
    rows: rows.map(roundOptimumRow),
    augmentedRows: augmentedRows.map(roundAugmentedRow),
    aggregates: aggregates.map((a) => ({
      ...a,
      spectral: sigStat(a.spectral),
      default: sigStat(a.default),
      head: sigStat(a.head),
      optimum: sigStat(a.optimum),
      ratio: sigStat(a.ratio),
      errorEstimate: sigStat(a.errorEstimate),
      toOptimum: sigStat(a.toOptimum),
    })),
    augmentedAggregates: augmentedAggregates.map((a) => ({ ...a, wError: sigStat(a.wError), errorEstimate: sigStat(a.errorEstimate), optimum: sigStat(a.optimum), ratio: sigStat(a.ratio) })),
  };
  if (previous.size) {
    result.durationMs += Math.round(previousMs);
    result.resumed = [...previous.values()].filter((e) => rows.includes(e.row as OptimumRow) || augmentedRows.includes(e.row as AugmentedRow)).length;
  }
  if (o.checkpoint) rmSync(o.checkpoint, { force: true });
  return result;
}

const roundLsq = (f: LeastSquaresReport | undefined): LeastSquaresReport | undefined => (f ? { ...f, step: sig(f.step)!, ms: ms(f.ms)! } : undefined);

function roundOptimumRow(r: OptimumRow): OptimumRow {
  return {
    ...r,
    spectral: sig(r.spectral),
    default: sig(r.default),
    head: sig(r.head),
    optimum: sig(r.optimum),
    errorEstimate: sig(r.errorEstimate),
    spectralErrorEstimate: sig(r.spectralErrorEstimate),
    toOptimum: r.toOptimum === undefined ? undefined : sig(r.toOptimum)!,
    spectralMs: ms(r.spectralMs)!,
    learnMs: ms(r.learnMs)!,
    wallMs: ms(r.wallMs ?? null) ?? undefined,
    headFit: roundLsq(r.headFit),
    optimumFit: roundLsq(r.optimumFit),
  };
}

function roundAugmentedRow(r: AugmentedRow): AugmentedRow {
  return {
    ...r,
    wError: sig(r.wError),
    aError: sig(r.aError),
    errorEstimate: sig(r.errorEstimate),
    kAutoWError: sig(r.kAutoWError),
    optimum: sig(r.optimum),
    toOptimum: r.toOptimum === undefined ? undefined : sig(r.toOptimum)!,
    optimumFit: roundLsq(r.optimumFit),
    learnMs: ms(r.learnMs)!,
    wallMs: ms(r.wallMs ?? null) ?? undefined,
  };
}

// --- Rounding for compact JSON: 4 significant digits for errors, 0.1 ms for times.

const sig = (v: number | null): number | null => (v === null ? null : Number(v.toPrecision(4)));
const ms = (v: number | null): number | null => (v === null ? null : Math.round(v * 10) / 10);
const sigStat = (s: Stat): Stat => ({ median: sig(s.median), worst: sig(s.worst) });
const msStat = (s: Stat): Stat => ({ median: ms(s.median), worst: ms(s.worst) });

function roundRow(r: SpectralRow): SpectralRow {
  return {
    ...r,
    wError: sig(r.wError),
    aError: sig(r.aError),
    predictionError: sig(r.predictionError),
    learnMs: ms(r.learnMs)!,
    nullSpaceRatio: sig(r.nullSpaceRatio),
    jointDiagResidual: sig(r.jointDiagResidual),
    errorEstimate: sig(r.errorEstimate),
  };
}

function roundAggregate(a: SpectralAggregate): SpectralAggregate {
  return {
    ...a,
    wError: sigStat(a.wError),
    aError: sigStat(a.aError),
    predictionError: sigStat(a.predictionError),
    learnMs: msStat(a.learnMs),
    nullSpaceRatio: sigStat(a.nullSpaceRatio),
    jointDiagResidual: sigStat(a.jointDiagResidual),
    errorEstimate: sigStat(a.errorEstimate),
  };
}

function roundBaselineRow(r: BaselineRow): BaselineRow {
  return {
    ...r,
    wError: sig(r.wError),
    aError: sig(r.aError),
    predictionError: sig(r.predictionError),
    msToTarget: ms(r.msToTarget),
    msToFine: ms(r.msToFine),
    ms: ms(r.ms)!,
    trace: r.trace?.map(([t, w]): [number, number] => [ms(t)!, sig(w)!]),
  };
}

function roundBaselineAggregate(a: BaselineAggregate): BaselineAggregate {
  return {
    ...a,
    wError: sigStat(a.wError),
    aError: sigStat(a.aError),
    predictionError: sigStat(a.predictionError),
    msToTargetMedian: ms(a.msToTargetMedian),
    msToFineMedian: ms(a.msToFineMedian),
    msMedian: ms(a.msMedian),
  };
}
