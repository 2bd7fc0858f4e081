/**
 * learn(): the method end to end in one process — the passes over the data (parallel/ runs
 * them, passes/ defines them) chained with the stages between them (method/stages.ts):
 *
 *   pass 1   second moments                        → afterPass1: linear part, reduction, plan
 *   pass 2   detector T, and a subsample of rows   → afterPass2: null space, pure directions, W
 *            half-sample error estimate            → estimateError (no pass)
 *   refine   Gauss–Newton on the subsample, then   → method/refine.ts: the least-squares
 *            passes over all the samples             optimum of all the samples
 *   pass 3   least squares of y on relu(Wx)        → A (with the refinement: its last pass)
 *
 * The shard steps (shard.ts) chain the same functions on states merged across processes.
 */
import { getKernels } from '../kernels/select.js';
import type { Kernels } from '../kernels/types.js';
import { fitDiagnostics } from '../method/diagnostics.js';
import { refine, refinePlan, type RefineReport } from '../method/refine.js';
import { afterPass2, estimateError, extractJobs, secondLayerOf, type HalfJob } from '../method/stages.js';
import { pass2Params } from '../passes/detector.js';
import { PASSES } from '../passes/jobs.js';
import { releasePool, sharedPool, type WorkerPool } from '../parallel/pool.js';
import { PassRunner, runnerOptions } from '../parallel/runner.js';
import { runTask } from '../parallel/tasks.js';
import { isSampleSource, toSampleSource } from '../sources/index.js';
import { cacheNeed, cachedSource } from '../parallel/cache.js';
import type { ArrayInput, SampleSource } from '../types.js';
import { Model } from './model.js';
export type { LearnOptions } from './options.js';
import { checkFits, fitOptionsOf, resolveCacheBytes, resolveChunkRows, resolveLearnOptions, resolveWorkers, type LearnOptions, type Resolved } from './options.js';

/** Learns y ≈ A·relu(W·x) from samples of a symmetric input distribution. */
export async function learn(input: ArrayInput | SampleSource, options: LearnOptions): Promise<Model> {
  const o0 = resolveLearnOptions(options);
  // Arrays are not scanned value by value: the runner finds NaN/±Inf from the pass sums.
  const given = toSampleSource(input, { checkValues: false });
  // A source not in memory (files) is read once when it fits the cache (parallel/cache.ts).
  const need = isSampleSource(input) ? cacheNeed(given) : undefined;
  const source = need !== undefined && need > 0 && need <= resolveCacheBytes(o0.cacheBytes) ? cachedSource(given) : given;
  const { d, l } = source;
  const o = { ...o0, chunkRows: resolveChunkRows(o0.chunkRows, d, l) };
  checkFits(o, d, l);
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

/** Options once the source's shape has fixed chunkRows. */
type Sized = Resolved & { chunkRows: number };

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

  const p1 = await runner.pass('pass1', { d, l }, source.n);
  const n = p1.rows;
  lap('pass1');
  const s1 = await runTask(pool, kernels, 'afterPass1', { p1: PASSES.pass1.read(p1.state), n, d, l, o: fitOptionsOf(o) });
  const { k, red } = s1;
  lap('reduce');

  const plan = refinePlan(o, n, k, d, l);
  const p2 = await runner.pass('pass2', pass2Params(red.plan, plan, n), n, n);
  lap('pass2');
  const p2sums = PASSES.pass2.read(p2.state);
  const jobs = extractJobs(s1, p2sums, o);
  const s2 = afterPass2(kernels, s1, p2sums, o, await runTask(pool, kernels, 'extract', jobs.full));
  lap('extract');
  // The half fits of the error estimate only feed the diagnostics. On the workers both run as
  // one task on the worker the full fit has just released (the idle list is last-in first-out),
  // whose code is compiled by now — in a fresh process another worker would run them cold —
  // alongside the refinement, and are awaited at the end. Without workers: now, one per turn.
  const fitHalves = (js: HalfJob[]) => runTask(pool, kernels, 'halfFits', js);
  const onWorkers = pool && jobs.halves.length > 0 ? fitHalves(jobs.halves) : undefined;
  // Observed at once: if the refinement fails first, learn() rejects with its error, and this
  // task's own failure (e.g. the pool closed meanwhile) must not surface as an unhandled rejection.
  onWorkers?.catch(() => {});
  let fits: (Float64Array | null)[] | undefined;
  if (!onWorkers) {
    fits = [];
    for (const j of jobs.halves) fits.push(...(await fitHalves([j])));
    if (o.errorEstimate) lap('errorEstimate');
  }

  let W = s2.W;
  let A: Float64Array;
  let refinement: RefineReport | undefined;
  if (plan.passes > 0 && p2sums.sample.rows > 0) {
    // The refinement's last pass over all the samples is pass 3, timed apart.
    const io = runner.refineIO(k, d, l, p2sums.sample, n);
    const allPass = io.allPass;
    io.allPass = async (Ap, Wp, last) => {
      if (last) lap('refine');
      return allPass(Ap, Wp, last);
    };
    ({ W, A, report: refinement } = await refine(plan, s2.W, n, k, d, l, io));
  } else {
    const p3 = await runner.pass('pass3', { W, k, d, l }, n, n);
    A = secondLayerOf(PASSES.pass3.read(p3.state), k, l);
  }
  lap('pass3');
  if (onWorkers) {
    fits = await onWorkers;
    if (o.errorEstimate) lap('errorEstimate');
  }
  const est = estimateError(kernels, s1, s2, o, fits);
  timings.total = performance.now() - t0;
  const diagnostics = fitDiagnostics(s1, s2, est, { workers: pool?.size ?? 0, refinement, refinementSkipped: plan.skipped, timings });
  return new Model({ d, k, l, W, A }, kernels.name, diagnostics);
}
