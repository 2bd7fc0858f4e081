/**
 * Worker-thread entry (bundled into worker.generated.ts by scripts/build-worker.mjs). Loads the
 * kernels of the backend the main thread chose, then runs per-chunk jobs and posts their
 * partial states back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PureneuronError } from '../errors.js';
import { jsKernels } from '../kernels/js/index.js';
import type { BackendName, Kernels } from '../kernels/types.js';
import type { WasmModule } from '../kernels/wasm/api.js';
import { instantiateWasmKernels } from '../kernels/wasm/kernels.js';
import { runChunkJob, type JobKind } from '../passes/jobs.js';
import { runPostedTask, type TaskName } from './tasks.js';

/**
 * What the pool passes (pool.ts): the backend the calling thread chose and, for 'wasm', the
 * module it compiled. Instantiating that module compiles nothing, and this bundle imports only
 * the glue (kernels/wasm/kernels.ts), not the embedded bytes (kernels/wasm/index.ts).
 */
export interface WorkerData {
  backend: BackendName;
  module?: WasmModule;
}

/** A per-chunk pass job, or (with `task`) a whole-data computation (tasks.ts). */
type JobMessage =
  | { id: number; task?: undefined; kind: JobKind; params: unknown; x: Float64Array; y: Float64Array; rows: number; start: number }
  | { id: number; task: TaskName; args: unknown };

const port = parentPort!;
const ready: Promise<Kernels> = (async () => {
  const { backend, module } = workerData as WorkerData;
  if (backend === 'js') return jsKernels;
  if (!module) throw new PureneuronError('BACKEND_UNAVAILABLE', 'a wasm worker thread received no compiled module');
  return instantiateWasmKernels(module);
})();
// A failure is reported to every job (with its error code), not as an unhandled rejection.
ready.catch(() => {});

port.on('message', (msg: JobMessage) => {
  ready
    .then((kernels) => {
      const state = msg.task ? runPostedTask(kernels, msg.task, msg.args) : runChunkJob(kernels, msg.kind, msg.params, { x: msg.x, y: msg.y, rows: msg.rows }, msg.start);
      // Copied (structured clone), not transferred: a transfer detaches the worker's buffers,
      // and after the first detach in an isolate V8 guards all optimized typed-array code with
      // detach checks — the JS kernels ran 13% slower in workers (pass 1 at n = 1e6, (32,16,32):
      // 750 → 650 ms on 2 workers). A state is a few hundred KB per chunk: the copy is ~0.1 ms.
      port.postMessage({ id: msg.id, state });
    })
    .catch((e: unknown) => {
      const err = e as Error;
      port.postMessage({ id: msg.id, error: { name: err.name, message: err.message, code: e instanceof PureneuronError ? e.code : undefined } });
    });
});
