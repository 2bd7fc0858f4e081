/**
 * The browser's answers to platform.ts (the browser bundles substitute this module): Web Workers
 * from the bundled worker script (workerBrowser.ts) behind a Blob URL, so the package needs no
 * worker file on the page's server. Chunks reach them through SharedArrayBuffers when the page
 * is cross-origin isolated (COOP/COEP); otherwise sharedF64 gives ordinary arrays and
 * postMessage copies each chunk (structured clone): slower, the same bits.
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

const nav = (globalThis as { navigator?: { hardwareConcurrency?: number; deviceMemory?: number } }).navigator;

/** Cores the page reports. */
export const cores = (): number => nav?.hardwareConcurrency || 1;

/** Chrome's navigator.deviceMemory (GiB, rounded down, at most 8) where offered, else 4 GiB: the cache takes a quarter. */
export const memoryBytes = (): number => (nav?.deviceMemory || 4) * 2 ** 30;

export const canStartWorkers = typeof WebWorkerCtor === 'function' && typeof Blob === 'function' && typeof URL.createObjectURL === 'function';

/**
 * A macrotask through a MessageChannel: setTimeout(0) is clamped to 4 ms once nested, which a
 * pass that yields after every chunk would pay thousands of times.
 */
const channel = typeof MessageChannel === 'function' ? new MessageChannel() : undefined;
const waiting: (() => void)[] = [];
// onmessage (not addEventListener): setting it starts the port in browsers.
if (channel) (channel.port1 as unknown as { onmessage: () => void }).onmessage = () => waiting.shift()?.();

export const nextTurn = (): Promise<void> =>
  new Promise((resolve) => {
    if (!channel) return void setTimeout(resolve, 0);
    waiting.push(resolve);
    channel.port2.postMessage(null);
  });

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
