/** The worker the pool drives, as each host (platform.ts, platform.browser.ts) starts it. */
import type { BackendName } from '../kernels/types.js';
import type { WasmModule } from '../kernels/wasm/api.js';

/**
 * What a worker starts from: the backend the calling thread chose and, for 'wasm', the module it
 * compiled (a WebAssembly.Module is cloned with its compiled code: the worker only instantiates).
 */
export interface WorkerData {
  backend: BackendName;
  module?: WasmModule;
}

/** worker_threads' Worker or a Web Worker behind one face. */
export interface HostWorker {
  postMessage(message: object): void;
  onMessage(listener: (message: unknown) => void): void;
  onError(listener: (e: Error) => void): void;
  /** Node only: the thread ended (code 0 after terminate()). */
  onExit(listener: (code: number) => void): void;
  /** Node only: whether the worker keeps the process alive. */
  ref(): void;
  unref(): void;
  terminate(): Promise<unknown>;
}
