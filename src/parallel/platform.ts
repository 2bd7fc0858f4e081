/**
 * What the learner asks of its host: cores, memory, a turn of the event loop, and its workers.
 * This is Node's (worker_threads); the browser bundles (scripts/browser-build.mjs) put
 * platform.browser.ts in its place.
 */
import { availableParallelism, totalmem } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { HostWorker, WorkerData } from './hostWorker.js';
import { WORKER_SOURCE } from './worker.generated.js';

/** Cores the worker pool may use. */
export const cores = (): number => availableParallelism();

/** The machine's memory in bytes (cacheBytes 'auto' takes a quarter of it, at most 1 GiB). */
export const memoryBytes = (): number => totalmem();

/** Worker threads can be started here. */
export const canStartWorkers = true;

/** Resolves on a later turn of the event loop: work on the calling thread yields between steps. */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A worker thread running the bundled worker (workerNode.ts), started from `data`. */
export function startWorker(data: WorkerData): HostWorker {
  // execArgv: [] — the worker is plain CommonJS; flags of the parent (e.g. --input-type=module) must not leak in.
  const w = new Worker(WORKER_SOURCE, { eval: true, workerData: data, execArgv: [] });
  return {
    postMessage: (m) => w.postMessage(m),
    onMessage: (listener) => w.on('message', listener),
    onError: (listener) => w.on('error', (e) => listener(e instanceof Error ? e : new Error(String(e)))),
    onExit: (listener) => w.on('exit', listener),
    ref: () => w.ref(),
    unref: () => w.unref(),
    terminate: () => w.terminate(),
  };
}
