/**
 * Worker-thread entry (bundled into worker.generated.ts by scripts/build-worker.mjs). Loads the
 * kernels of the backend the main thread chose, then runs per-chunk jobs and posts their
 * partial states back (arrays transferred, not copied).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PureneuronError } from '../errors.js';
import { getKernels } from '../kernels/select.js';
import type { Kernels } from '../kernels/types.js';
import { runChunkJob, type JobKind } from './jobs.js';
import { transferList } from './state.js';

interface JobMessage {
  id: number;
  kind: JobKind;
  params: unknown;
  x: Float64Array;
  y: Float64Array;
  rows: number;
  start: number;
}

const port = parentPort!;
const ready: Promise<Kernels> = getKernels((workerData as { backend: 'js' | 'wasm' }).backend);

port.on('message', (msg: JobMessage) => {
  ready
    .then((kernels) => {
      const state = runChunkJob(kernels, msg.kind, msg.params, { x: msg.x, y: msg.y, rows: msg.rows }, msg.start);
      port.postMessage({ id: msg.id, state }, transferList(state));
    })
    .catch((e: unknown) => {
      const err = e as Error;
      port.postMessage({ id: msg.id, error: { name: err.name, message: err.message, code: e instanceof PureneuronError ? e.code : undefined } });
    });
});
