/**
 * Runs one pass over a source: every chunk becomes a job (passes/jobs.ts) executed on the
 * calling thread or in the worker pool, and the partial states are merged strictly in chunk
 * order (state0 + state1 + state2 …), so sums — and models — are bitwise the same for any number
 * of workers. Reading is overlapped with computing: up to 2 jobs per worker are in flight while
 * the next chunk is read; memory stays bounded by that many chunks.
 */
import { PureneuronError, throwIfAborted } from '../errors.js';
import type { Kernels } from '../kernels/types.js';
import type { RefineIO, Sample } from '../method/refine.js';
import { weightingFromSource, type Weighting } from '../method/weights.js';
import { PASSES, runChunkJob, type JobKind, type PassParams } from '../passes/jobs.js';
import { isSampleField, mergeState, rowsOf, type PassState } from '../passes/state.js';
import { arraySource } from '../sources/array.js';
import { findBadValue } from '../sources/check.js';
import type { Phase, Progress, SampleSource } from '../types.js';
import type { WorkerPool } from './pool.js';
import { uncached } from './cache.js';
import { sharedF64 } from './sharedMemory.js';
import { nextTurn, runTask } from './tasks.js';

export interface RunnerOptions {
  chunkRows: number;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /** The c of the robust weights, or undefined for unweighted passes. */
  robustScale?: number;
  /**
   * The robust weighting's scales, when fixed elsewhere (a shard's plan); otherwise they come
   * from the source's first samples before the first pass (weightingFromSource).
   */
  weighting?: Weighting;
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

export class PassRunner {
  private weighting: Weighting | undefined;

  constructor(
    private readonly source: SampleSource,
    private readonly kernels: Kernels,
    private readonly opts: RunnerOptions,
    private readonly pool?: WorkerPool,
  ) {
    this.weighting = opts.weighting;
  }

  /**
   * Streams the first `limit` samples (all by default) through pass `kind`; returns the merged
   * state and the sample count. `total` is the count shown in progress reports, when known.
   */
  async run<K extends JobKind>(kind: K, params: PassParams[K], total: number | undefined, limit = Infinity, phase: Phase = kind as Phase): Promise<{ state: PassState; rows: number }> {
    const { source, kernels, opts, pool } = this;
    const { d, l } = source;
    let merged: PassState | undefined;
    // Collected rows (sample fields) are appended to one buffer per field, sized from the first
    // chunk's share times the chunks expected (+10%), grown by half when that is short: a list
    // of parts concatenated at the end would hold the rows twice at the peak.
    const rows: Record<string, { buf: Float64Array; used: number }> = {};
    const chunksExpected = Math.ceil(Math.min(total ?? Infinity, limit) / opts.chunkRows);
    const take = (s: PassState) => {
      for (const key of Object.keys(s)) {
        if (!isSampleField(key)) continue;
        const part = s[key] as Float64Array;
        // Shared memory: the refinement's passes over these rows then reach the workers uncopied.
        const r = (rows[key] ??= { buf: sharedF64(Number.isFinite(chunksExpected) ? Math.ceil(1.1 * part.length * chunksExpected) : part.length), used: 0 });
        if (r.used + part.length > r.buf.length) {
          const grown = sharedF64(Math.max(r.used + part.length, Math.ceil(1.5 * r.buf.length)));
          grown.set(r.buf.subarray(0, r.used));
          r.buf = grown;
        }
        r.buf.set(part, r.used);
        r.used += part.length;
        s[key] = new Float64Array(0);
      }
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
        const chunk = done + whole.rows > limit ? rowsOf(whole, 0, limit - done, d, l) : whole;
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
          await nextTurn();
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
    for (const [key, r] of Object.entries(rows)) merged[key] = r.buf.subarray(0, r.used);
    return { state: merged, rows: done };
  }

  /**
   * One whole pass (run()), then the checks every pass of the method needs: it saw the samples
   * of pass 1 (`expectRows`, when given), and its sums are finite (PassDef.finite). A NaN or
   * ±Infinity anywhere in the data makes every sum it enters NaN or ±Infinity, weighted or not
   * (ρ = 0 for an infinite x still gives 0·∞ = NaN), so checking a few hundred sums replaces a
   * scan of every value; when one is not finite, the source is read once more to name the
   * first bad value, and if every value is finite the products overflowed: BAD_VALUE says so.
   */
  async pass<K extends JobKind>(kind: K, params: PassParams[K], total: number | undefined, expectRows?: number, phase: Phase = kind as Phase): Promise<{ state: PassState; rows: number }> {
    const r = await this.run(kind, params, total, Infinity, phase);
    if (expectRows !== undefined && r.rows !== expectRows) {
      throw new PureneuronError('BAD_FILE', `the source yielded ${r.rows} samples in ${phase.replace(/^pass/, 'pass ')} but ${expectRows} in pass 1: the data changed between passes (sources must be re-readable unchanged)`);
    }
    for (const { fields, overflow } of PASSES[kind].finite) {
      const finite = Object.entries(r.state).every(([key, v]) => !fields.some((f) => key.startsWith(f)) || (typeof v === 'number' ? Number.isFinite(v) : v.every(Number.isFinite)));
      if (finite) continue;
      await findBadValue(uncached(this.source), this.opts.chunkRows, this.opts.signal);
      throw new PureneuronError('BAD_VALUE', `the ${overflow.what} overflow double precision (values of magnitude ≳ ${overflow.scale}): rescale ${overflow.fix}`);
    }
    return r;
  }

  /**
   * The refinement's passes (method/refine.ts): over the in-memory subsample — its Gauss–Newton
   * sums (the matrix), its variable-projection sums and its gradient sums — through the same pool, unweighted, with no
   * progress reports (they take little time); and over all the samples at (A, W), reported as
   * 'refine', the last as 'pass3'.
   */
  refineIO(k: number, d: number, l: number, sample: Sample, n: number): RefineIO {
    const { kernels, opts, pool } = this;
    const sub = new PassRunner(arraySource({ x: sample.x, y: sample.y, d, l }, { checkValues: false }), kernels, { chunkRows: opts.chunkRows, signal: opts.signal }, pool);
    return {
      sample,
      // The factorizations (p³/3 each, p = k·d) run as tasks on the pool, off the calling thread.
      matrix: async (W) => {
        const sums = PASSES.refine.read((await sub.run('refine', { W, k, d, l, hessian: true }, sample.rows)).state);
        return runTask(pool, kernels, 'sampleMatrix', { sums, W, k, d, l });
      },
      inverseTrace: (J) => runTask(pool, kernels, 'inverseTrace', { L: J.L, p: k * d }),
      varProPass: async (W) => PASSES.refine.read((await sub.run('refine', { W, k, d, l, hessian: false }, sample.rows)).state).part,
      samplePass: async (A, W) => PASSES.gradient.read((await sub.run('gradient', { W, A, k, d, l }, sample.rows)).state),
      allPass: async (A, W, last) => {
        const r = await this.pass('gradient', { W, A, k, d, l }, n, n, last ? 'pass3' : 'refine');
        return PASSES.gradient.read(r.state);
      },
    };
  }
}
