/** The worker_threads entry: workerData carries the backend (and module); jobs come from parentPort. */
import { parentPort, workerData } from 'node:worker_threads';
import { serveJobs, type WorkerData } from './worker.js';

const port = parentPort!;
const serve = serveJobs(workerData as WorkerData, (reply) => port.postMessage(reply));
port.on('message', serve);
