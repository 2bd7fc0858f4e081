/**
 * A pool of worker threads that run per-chunk pass jobs (jobs.ts) and hand back their partial
 * states. The worker code is bundled at build time into worker.generated.ts (a string, run with
 * `eval: true`), so the package needs no separate worker file and works the same from src/
 * (tests) and dist/ (ESM and CJS builds).
 *
 * Results are returned per job; the caller merges them in chunk order, so the sums — and the
 * model — do not depend on how many workers ran or which finished first.
 */
import { Worker } from 'node:worker_threads';
import { PureneuronError, type ErrorCode } from '../errors.js';
import type { BackendName } from '../kernels/types.js';
import type { Chunk } from '../types.js';
import type { JobKind } from './jobs.js';
import type { PassState } from './state.js';
import { WORKER_SOURCE } from './worker.generated.js';

interface Pending {
  resolve: (s: PassState) => void;
  reject: (e: Error) => void;
}

interface Reply {
  id: number;
  state?: PassState;
  error?: { name: string; message: string; code?: ErrorCode };
}

export class WorkerPool {
  readonly size: number;
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly waiting: (() => void)[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;
  private failure: Error | undefined;

  constructor(size: number, backend: BackendName) {
    this.size = size;
    for (let i = 0; i < size; i++) {
      // execArgv: [] — the worker is plain CommonJS; flags of the parent (e.g. --input-type=module) must not leak in.
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { backend }, execArgv: [] });
      w.on('message', (r: Reply) => this.onReply(w, r));
      w.on('error', (e) => this.fail(e instanceof Error ? e : new Error(String(e))));
      w.on('exit', (code) => {
        if (!this.closed && code !== 0) this.fail(new PureneuronError('NUMERICAL_FAILURE', `a worker thread exited with code ${code}`));
      });
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  /**
   * Runs one job on the next idle worker (waiting for one if all are busy). The chunk is
   * copied into fresh buffers that are transferred, not cloned, to the worker.
   */
  async run(kind: JobKind, params: unknown, chunk: Chunk, start: number): Promise<PassState> {
    if (this.failure) throw this.failure;
    let w = this.idle.pop();
    while (!w) {
      await new Promise<void>((res) => this.waiting.push(res));
      if (this.failure) throw this.failure;
      w = this.idle.pop();
    }
    const x = Float64Array.from(chunk.x);
    const y = Float64Array.from(chunk.y);
    const id = this.nextId++;
    const worker = w;
    return new Promise<PassState>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, kind, params, x, y, rows: chunk.rows, start }, [x.buffer, y.buffer]);
    });
  }

  private onReply(w: Worker, r: Reply): void {
    const p = this.pending.get(r.id);
    this.pending.delete(r.id);
    this.idle.push(w);
    this.waiting.shift()?.();
    if (!p) return;
    if (r.error) {
      const { name, message, code } = r.error;
      p.reject(code ? new PureneuronError(code, message) : name === 'RangeError' ? new RangeError(message) : name === 'TypeError' ? new TypeError(message) : new Error(message));
    } else {
      p.resolve(r.state!);
    }
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    for (const res of this.waiting.splice(0)) res();
  }

  /** Stops every worker (idempotent). Pending jobs are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fail(new PureneuronError('ABORTED', 'the worker pool was closed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
