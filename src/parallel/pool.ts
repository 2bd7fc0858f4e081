/**
 * A pool of workers that run per-chunk pass jobs (passes/jobs.ts) and hand back their partial
 * states: worker threads in Node, Web Workers in a page (platform.ts starts them from a bundled
 * script, so the package needs no separate worker file). Workers of the wasm backend receive the
 * module this thread compiled (a WebAssembly.Module is cloned with its compiled code) and only
 * instantiate it.
 *
 * Results are returned per job; the caller merges them in chunk order, so the sums — and the
 * model — do not depend on how many workers ran or which finished first.
 */
import { PureneuronError, type ErrorCode } from '../errors.js';
import { throwIfAborted } from '../errors.js';
import type { BackendName } from '../kernels/types.js';
import { wasmModule } from '../kernels/wasm/index.js';
import type { Chunk } from '../types.js';
import type { JobKind } from '../passes/jobs.js';
import type { PassState } from '../passes/state.js';
import type { HostWorker, WorkerData } from './hostWorker.js';
import { startWorker } from './threads.js';
import { isShared, sharedF64 } from './sharedMemory.js';
import type { TaskArgs, TaskName, TaskResult } from './tasks.js';

type Worker = HostWorker;

interface Pending {
  resolve: (s: never) => void;
  reject: (e: Error) => void;
  slot?: Slot;
}

/**
 * Shared memory for one job's chunk: the main thread copies the chunk in, the worker reads it in
 * place. Slots are reused across jobs and passes, so no buffer is allocated (and page-faulted)
 * per chunk; there are at most as many as jobs in flight.
 */
interface Slot {
  x: Float64Array;
  y: Float64Array;
}

/** `a` itself when it already lives in shared memory (no copy), else `slot` filled with a copy. */
function shared(a: Float64Array, slot: Float64Array | undefined): Float64Array {
  if (isShared(a)) return a;
  const view = slot!.subarray(0, a.length);
  view.set(a);
  return view;
}

interface Reply {
  id: number;
  state?: unknown;
  error?: { name: string; message: string; code?: ErrorCode };
}

export class WorkerPool {
  readonly size: number;
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly waiting: (() => void)[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly slots: Slot[] = [];
  private nextId = 0;
  private closed = false;
  private failure: Error | undefined;

  constructor(size: number, backend: BackendName) {
    this.size = size;
    const workerData: WorkerData = { backend, module: backend === 'wasm' ? wasmModule() : undefined };
    for (let i = 0; i < size; i++) {
      const w = startWorker(workerData);
      w.onMessage((r) => this.onReply(w, r as Reply));
      w.onError((e) => this.fail(e));
      w.onExit((code) => {
        if (!this.closed && code !== 0) this.fail(new PureneuronError('NUMERICAL_FAILURE', `a worker thread exited with code ${code}`));
      });
      // An idle worker must not keep the process alive; a busy one is ref'd until its reply.
      w.unref();
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  /**
   * Runs one job on the next idle worker (waiting for one if all are busy). The chunk reaches
   * the worker through shared memory: a reused slot the chunk is copied into, or the chunk's own
   * buffer when that is already a SharedArrayBuffer (zero copy; the caller must then leave it
   * unchanged until the job settles). The copy is made at once, before waiting for a worker,
   * so that it overlaps the jobs still running instead of delaying the next one; the caller may
   * reuse its chunk as soon as run() returns.
   */
  async run(kind: JobKind, params: unknown, chunk: Chunk, start: number, signal?: AbortSignal): Promise<PassState> {
    if (this.failure) throw this.failure;
    // No slot when the chunk already lives in shared memory.
    const slot = isShared(chunk.x) && isShared(chunk.y) ? undefined : this.slot(chunk.x.length, chunk.y.length);
    const x = shared(chunk.x, slot?.x);
    const y = shared(chunk.y, slot?.y);
    let w: Worker;
    try {
      w = await this.idleWorker();
    } catch (e) {
      this.reuse(slot);
      throw e;
    }
    if (signal?.aborted) {
      // The learner that queued this job has stopped: hand the worker on instead of running it.
      this.reuse(slot);
      this.release(w);
      throwIfAborted(signal, 'learning');
    }
    return this.send<PassState>(w, { kind, params, x, y, rows: chunk.rows, start }, slot);
  }

  /**
   * Runs a whole-data computation (tasks.ts) on the next idle worker, off the calling thread.
   * Its arguments are copied to the worker (structured clone; arrays in shared memory are not).
   */
  async task<N extends TaskName>(name: N, args: TaskArgs<N>): Promise<TaskResult<N>> {
    if (this.failure) throw this.failure;
    return this.send<TaskResult<N>>(await this.idleWorker(), { task: name, args });
  }

  /** The next idle worker, once one is free; the pool's failure if it fails meanwhile. */
  private async idleWorker(): Promise<Worker> {
    let w = this.idle.pop();
    while (!w) {
      await new Promise<void>((res) => this.waiting.push(res));
      if (this.failure) throw this.failure;
      w = this.idle.pop();
    }
    return w;
  }

  /** Posts `message` to `w` under a fresh id; settles with its reply (onReply), `slot` freed then. */
  private send<T>(w: Worker, message: object, slot?: Slot): Promise<T> {
    w.ref();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, slot });
      w.postMessage({ id, ...message });
    });
  }

  /** A free slot holding at least nx and ny doubles (grown or created as needed). */
  private slot(nx: number, ny: number): Slot {
    const s = this.slots.pop() ?? { x: sharedF64(nx), y: sharedF64(ny) };
    if (s.x.length < nx) s.x = sharedF64(nx);
    if (s.y.length < ny) s.y = sharedF64(ny);
    return s;
  }

  private reuse(slot: Slot | undefined): void {
    if (slot) this.slots.push(slot);
  }

  /** `w` is free again: unref it and wake one waiting job. */
  private release(w: Worker): void {
    if (this.closed) return; // it stays ref'd until it has exited (close())
    w.unref();
    this.idle.push(w);
    this.waiting.shift()?.();
  }

  private onReply(w: Worker, r: Reply): void {
    const p = this.pending.get(r.id);
    this.pending.delete(r.id);
    this.release(w);
    if (!p) return;
    this.reuse(p.slot);
    if (r.error) {
      const { name, message, code } = r.error;
      p.reject(code ? new PureneuronError(code, message) : name === 'RangeError' ? new RangeError(message) : name === 'TypeError' ? new TypeError(message) : new Error(message));
    } else {
      p.resolve(r.state as never);
    }
  }

  /** True once a worker failed or the pool was closed: it runs no more jobs. */
  get broken(): boolean {
    return this.failure !== undefined;
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
    // Each worker ref'd until it has exited: terminate()'s promise alone does not keep the
    // event loop alive, so in a process with nothing else to do, `await closeWorkers()` on an
    // idle (unref'd) worker ended the process before it settled (exit code 13, an unsettled
    // top-level await: the fuzz test's child process, now and then).
    await Promise.all(this.workers.map((w) => (w.ref(), w.terminate())));
  }
}

/**
 * Pools shared by every learn() call of this process, one per (backend, size): workers start on
 * the first call and stay for the next ones (no start-up, and their compiled code stays warm),
 * but idle workers are unref'd, so they never keep a process alive. A pool whose worker failed
 * is replaced. Taking a pool of another size closes the backend's pools no call is using, so
 * at most one set of idle workers per backend is kept around (runs alternating between the
 * backends, as the benchmark's, keep both warm). Every sharedPool() must be paired with
 * releasePool().
 */
const sharedPools = new Map<string, { pool: WorkerPool; users: number }>();

export function sharedPool(size: number, backend: BackendName): WorkerPool {
  const key = `${backend}:${size}`;
  let entry = sharedPools.get(key);
  if (!entry || entry.pool.broken) {
    for (const [k, e] of sharedPools) {
      if (e.pool.broken || (e.users === 0 && k.startsWith(`${backend}:`))) {
        sharedPools.delete(k);
        void e.pool.close();
      }
    }
    entry = { pool: new WorkerPool(size, backend), users: 0 };
    sharedPools.set(key, entry);
  }
  entry.users++;
  return entry.pool;
}

/** The caller of sharedPool() is done with `pool` (it stays open for the next call). */
export function releasePool(pool: WorkerPool): void {
  for (const e of sharedPools.values()) if (e.pool === pool) e.users = Math.max(0, e.users - 1);
}

/**
 * Terminates the shared worker pools (public as closeWorkers()). Never required — idle workers
 * do not keep the process alive — but frees their memory (worker heaps, wasm instances) at once.
 * Jobs still running are rejected; the next learn() starts new workers.
 */
export async function closeSharedPools(): Promise<void> {
  const entries = [...sharedPools.values()];
  sharedPools.clear();
  await Promise.all(entries.map((e) => e.pool.close()));
}
