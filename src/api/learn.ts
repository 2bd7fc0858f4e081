/**
 * learn(): the method end to end in one process — the passes over the data (parallel/ runs
 * them, passes/ defines them) chained with the stages between them (method/stages.ts):
 *
 *   pass 1   second moments                        → afterPass1: linear part, reduction, plan
 *   pass 2   detector T                            → afterPass2: null space, pure directions, W
 *            half-sample error estimate            → estimateError (no pass)
 *   refine   Gauss–Newton passes from W            → method/refine.ts
 *   pass 3   least squares of y on relu(Wx)        → A
 *
 * The shard steps (shard.ts) chain the same functions on states merged across processes.
 */
import { getKernels } from '../kernels/select.js';
import type { Kernels } from '../kernels/types.js';
import { fitDiagnostics } from '../method/diagnostics.js';
import { refine } from '../method/refine.js';
import { afterPass1, afterPass2, estimateError, secondLayerOf } from '../method/stages.js';
import { PASSES } from '../passes/jobs.js';
import { releasePool, sharedPool, type WorkerPool } from '../parallel/pool.js';
import { PassRunner, runnerOptions } from '../parallel/runner.js';
import { toSampleSource } from '../sources/index.js';
import type { ArrayInput, SampleSource } from '../types.js';
import { Model } from './model.js';
export type { LearnOptions } from './options.js';
import { checkKFits, resolveChunkRows, resolveLearnOptions, resolveWorkers, type LearnOptions, type Resolved } from './options.js';

/** Learns y ≈ A·relu(W·x) from samples of a symmetric input distribution. */
export async function learn(input: ArrayInput | SampleSource, options: LearnOptions): Promise<Model> {
  const o0 = resolveLearnOptions(options);
  // Arrays are not scanned value by value: the runner finds NaN/±Inf from the pass sums.
  const source = toSampleSource(input, { checkValues: false });
  const { d, l } = source;
  const o = { ...o0, chunkRows: resolveChunkRows(o0.chunkRows, d, l) };
  checkKFits(o.k, d, l);
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
  const s1 = afterPass1(kernels, PASSES.pass1.read(p1.state), n, d, l, o);
  const { k, red } = s1;
  lap('reduce');

  const p2 = await runner.pass('pass2', { plan: red.plan }, n, n);
  lap('pass2');
  const s2 = afterPass2(kernels, s1, PASSES.pass2.read(p2.state), o);
  lap('extract');
  const est = estimateError(kernels, s1, s2, o);
  if (o.errorEstimate) lap('errorEstimate');

  const { W, report: refinement } = await refine(kernels, o, s2.W, n, k, d, l, est.errorEstimate, runner.refinePass(k, d, l, Math.min(n, o.refineSamples)));
  if (refinement) lap('refine');

  const p3 = await runner.pass('pass3', { W, k, d, l }, n, n);
  const A = secondLayerOf(PASSES.pass3.read(p3.state), k, l);
  lap('pass3');
  timings.total = performance.now() - t0;
  const diagnostics = fitDiagnostics(s1, s2, est, { workers: pool?.size ?? 0, refinement, timings });
  return new Model({ d, k, l, W, A }, kernels.name, diagnostics);
}
