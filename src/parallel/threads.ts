/**
 * Worker threads for the pool: the bundled worker (workerNode.ts, a string in worker.generated.ts)
 * run with `eval: true`. The browser bundles put threads.browser.ts (Web Workers) in its place.
 */
import { Worker } from 'node:worker_threads';
import type { HostWorker, WorkerData } from './hostWorker.js';
import { WORKER_SOURCE } from './worker.generated.js';

/** A worker thread running the bundled worker, started from `data`. */
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
