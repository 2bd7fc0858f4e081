/** The Web Worker entry: the first message carries the backend (and module), every later one a job. */
import { serveJobs, type JobMessage, type WorkerData } from './worker.js';

const scope = globalThis as unknown as { onmessage: ((e: { data: unknown }) => void) | null; postMessage: (m: unknown) => void };
let serve: ((msg: JobMessage) => void) | undefined;
scope.onmessage = (e) => {
  if (serve) serve(e.data as JobMessage);
  else serve = serveJobs(e.data as WorkerData, (reply) => scope.postMessage(reply));
};
