/**
 * Runs one pass over a source: every chunk becomes a job (jobs.ts) executed on the calling
 * thread or in the worker pool, and the partial states are merged strictly in chunk order
 * (state0 + state1 + state2 …), so sums — and models — are bitwise the same for any number of
 * workers. Reading is overlapped with computing: up to 2 jobs per worker are in flight while
 * the next chunk is read; memory stays bounded by that many chunks.
 */
import { PureneuronError, throwIfAborted } from '../errors.js';
import type { Kernels } from '../kernels/types.js';
import type { Chunk, SampleSource } from '../types.js';
import { weightingFromSource, type Weighting } from '../method/weights.js';
import { runChunkJob, type JobKind } from '../passes/jobs.js';
import type { WorkerPool } from './pool.js';
import { mergeState, type PassState } from '../passes/state.js';

export type Phase = 'pass1' | 'pass2' | 'pass3' | 'refine';

export interface RunnerOptions {
  chunkRows: number;
  signal?: AbortSignal;
  onProgress?: (p: { phase: Phase; done: number; total?: number }) => void;
  /** The c of the robust weights, or undefined for unweighted passes. */
  robustScale?: number;
}

export class PassRunner {
  /** Fixed from the first samples before the first pass (weightingFromSource), then used by every pass. */
  weighting: Weighting | undefined;

  constructor(
    private readonly source: SampleSource,
    private readonly kernels: Kernels,
    private readonly opts: RunnerOptions,
    private readonly pool?: WorkerPool,
  ) {}

  /** Streams the first `limit` samples (all by default) through one pass; returns the merged state and the sample count. */
  async run(kind: JobKind, params: object, phase: Phase, total: number | undefined, limit = Infinity): Promise<{ state: PassState; rows: number }> {
    const { source, kernels, opts, pool } = this;
    const { d, l } = source;
    let merged: PassState | undefined;
    const take = (s: PassState) => {
      if (merged) mergeState(merged, s);
      else merged = s;
    };
    const inFlight: Promise<PassState>[] = [];
    let done = 0;
    // Fixed before the first pass (from the first WEIGHTING_ROWS samples) and kept for the others.
    if (opts.robustScale !== undefined && !this.weighting) this.weighting = await weightingFromSource(source, opts.robustScale, opts.signal);
    const p = { ...params, weighting: this.weighting };
    try {
      for await (const whole of source.chunks(opts.chunkRows, opts.signal)) {
        // The same wording (and the signal's reason) as the sources' own check, wherever the abort is seen first.
        throwIfAborted(opts.signal, `learning (${phase})`);
        const chunk: Chunk = done + whole.rows > limit ? { x: whole.x.subarray(0, (limit - done) * d), y: whole.y.subarray(0, (limit - done) * l), rows: limit - done } : whole;
        if (pool) {
          const job = pool.run(kind, p, chunk, done, opts.signal);
          // Observed at once: a job may fail while we are still reading, before it is awaited.
          job.catch(() => {});
          inFlight.push(job);
          while (inFlight.length >= 2 * pool.size) take(await inFlight.shift()!);
        } else {
          take(runChunkJob(kernels, kind, p, chunk, done));
          // Let the event loop run between chunks (timers, I/O, an abort) even when every
          // pass runs on the calling thread and the source yields without real I/O.
          await new Promise<void>((res) => setImmediate(res));
        }
        done += chunk.rows;
        opts.onProgress?.({ phase, done, total });
        if (done >= limit) break;
      }
      while (inFlight.length) take(await inFlight.shift()!);
    } finally {
      // On an error the jobs still running are abandoned: keep their rejections from going unhandled.
      for (const f of inFlight) f.catch(() => {});
    }
    if (!merged) throw new PureneuronError('TOO_FEW_SAMPLES', 'the source yielded no samples');
    return { state: merged, rows: done };
  }
}
