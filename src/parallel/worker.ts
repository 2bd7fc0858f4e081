/**
 * What a worker runs, whatever the host (entries: workerNode.ts for worker_threads,
 * workerBrowser.ts for Web Workers; both bundled by scripts/build-worker.mjs into generated
 * strings). Loads the kernels of the backend the calling thread chose, then runs per-chunk jobs
 * and whole-data tasks and posts their results back.
 */
import { PureneuronError } from '../errors.js';
import { jsKernels } from '../kernels/js/index.js';
import type { Kernels } from '../kernels/types.js';
import { instantiateWasmKernels } from '../kernels/wasm/kernels.js';
import { runChunkJob, type JobKind } from '../passes/jobs.js';
import type { WorkerData } from './hostWorker.js';
import { runPostedTask, type TaskName } from './tasks.js';

// The worker bundles import only the wasm glue (kernels/wasm/kernels.ts), never the embedded
// bytes (kernels/wasm/index.ts): a worker instantiates the module it is sent.
export type { WorkerData } from './hostWorker.js';

/** A per-chunk pass job, or (with `task`) a whole-data computation (tasks.ts). */
export type JobMessage =
  | { id: number; task?: undefined; kind: JobKind; params: unknown; x: Float64Array; y: Float64Array; rows: number; start: number }
  | { id: number; task: TaskName; args: unknown };

/** Serves jobs: `post` sends a reply to the calling thread; the returned function takes each job message. */
export function serveJobs(data: WorkerData, post: (reply: object) => void): (msg: JobMessage) => void {
  const ready: Promise<Kernels> = (async () => {
    if (data.backend === 'js') return jsKernels;
    if (!data.module) throw new PureneuronError('BACKEND_UNAVAILABLE', 'a wasm worker received no compiled module');
    return instantiateWasmKernels(data.module);
  })();
  // A failure is reported to every job (with its error code), not as an unhandled rejection.
  ready.catch(() => {});
  return (msg) => {
    ready
      .then((kernels) => {
        const state = msg.task ? runPostedTask(kernels, msg.task, msg.args) : runChunkJob(kernels, msg.kind, msg.params, { x: msg.x, y: msg.y, rows: msg.rows }, msg.start);
        // Copied (structured clone), not transferred: a transfer detaches the worker's buffers,
        // and after the first detach in an isolate V8 guards all optimized typed-array code with
        // detach checks — the JS kernels ran 13% slower in workers (pass 1 at n = 1e6, (32,16,32):
        // 750 → 650 ms on 2 workers). A state is a few hundred KB per chunk: the copy is ~0.1 ms.
        post({ id: msg.id, state });
      })
      .catch((e: unknown) => {
        const err = e as Error;
        post({ id: msg.id, error: { name: err.name, message: err.message, code: e instanceof PureneuronError ? e.code : undefined } });
      });
  };
}
