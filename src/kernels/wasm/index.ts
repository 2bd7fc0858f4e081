/**
 * The wasm backend: AssemblyScript kernels (assembly/) compiled with SIMD128, embedded as
 * base64 (bytes.generated.ts, written by scripts/build-wasm.mjs), and a small typed glue:
 *   index.ts    the bytes, compiled once per process; the instance of the calling thread
 *   kernels.ts  the Kernels on an instance: each kernel's buffers stated once, as a table
 *   layout.ts   the one runner behind every kernel: scratch block, layout, copies, batches
 *   api.ts      the WebAssembly JS-API members the glue uses
 *
 * - The module is compiled once per process and instantiated once; every call reuses that
 *   instance (kernels are synchronous and never re-entered, so one instance is enough).
 * - Worker threads get the compiled module itself (wasmModule(), cloned into their workerData
 *   by parallel/pool.ts) and instantiate it with kernels.ts: they neither decode nor compile
 *   the bytes, and their bundle does not contain them.
 */
import type { Kernels } from '../types.js';
import { requireWasmApi, type WasmModule } from './api.js';
import { WASM_BASE64 } from './bytes.generated.js';
import { instantiateWasmKernels, instantiateWasmKernelsAsync, type WasmKernels } from './kernels.js';

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  if (typeof Buffer !== 'undefined') {
    const b = Buffer.from(b64, 'base64');
    const out = new Uint8Array(b.length);
    out.set(b);
    return out;
  }
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

let compiled: WasmModule | undefined;
let compiling: Promise<WasmModule> | undefined;
let instance: WasmKernels | undefined;

/**
 * The compiled module (compiled synchronously now if nothing compiled it yet), for worker
 * threads: WebAssembly.Module is structured-cloneable, and a clone shares the compiled code.
 */
export function wasmModule(): WasmModule {
  compiled ??= new (requireWasmApi().Module)(decodeBase64(WASM_BASE64));
  return compiled;
}

/** Synchronous path (Node): compile (once) and instantiate (once). */
export function wasmKernelsSync(): Kernels {
  instance ??= instantiateWasmKernels(wasmModule());
  return instance;
}

/** Asynchronous path (works where synchronous compilation of large modules is refused). */
export async function loadWasmKernels(): Promise<Kernels> {
  if (instance) return instance;
  if (!compiled) {
    compiling ??= requireWasmApi().compile(decodeBase64(WASM_BASE64));
    compiled ??= await compiling;
  }
  const kernels = await instantiateWasmKernelsAsync(compiled);
  instance ??= kernels;
  return instance;
}

export type { WasmKernels };
