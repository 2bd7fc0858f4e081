/**
 * Web Workers for the pool (the browser bundles substitute this module for threads.ts): the
 * bundled worker script (workerBrowser.ts) behind a Blob URL, so the package needs no worker file
 * on the page's server. Chunks reach them through SharedArrayBuffers when the page is
 * cross-origin isolated (COOP/COEP); otherwise sharedF64 gives ordinary arrays and postMessage
 * copies each chunk (structured clone): slower, the same bits.
 */
import type { HostWorker, WorkerData } from './hostWorker.js';
import { WORKER_SOURCE_BROWSER } from './workerBrowser.generated.js';

/** The parts of a Web Worker used here (the package is typed without the DOM library). */
interface WebWorker {
  postMessage(message: unknown): void;
  onmessage: ((e: { data: unknown }) => void) | null;
  onerror: ((e: { message?: string; preventDefault(): void }) => void) | null;
  terminate(): void;
}
const WebWorkerCtor = (globalThis as unknown as { Worker?: new (url: string) => WebWorker }).Worker;

let scriptUrl: string | undefined;

/** A Web Worker running the bundled worker script; its first message is `data`. */
export function startWorker(data: WorkerData): HostWorker {
  scriptUrl ??= URL.createObjectURL(new Blob([WORKER_SOURCE_BROWSER], { type: 'text/javascript' }));
  const w = new WebWorkerCtor!(scriptUrl);
  w.postMessage(data);
  return {
    postMessage: (m) => w.postMessage(m),
    onMessage: (listener) => (w.onmessage = (e) => listener(e.data)),
    onError: (listener) =>
      (w.onerror = (e) => {
        e.preventDefault();
        listener(new Error(`a Web Worker failed: ${e.message || 'its script did not load'}`));
      }),
    onExit: () => undefined,
    ref: () => undefined,
    unref: () => undefined,
    terminate: async () => w.terminate(),
  };
}
