/**
 * Backend choice: 'auto' | 'js' | 'wasm', with PURENEURON_BACKEND as the environment override.
 *
 * - 'js'   : the pure-JS kernels, always available.
 * - 'wasm' : the SIMD wasm kernels; if this engine cannot run them, a PureneuronError with code
 *            BACKEND_UNAVAILABLE says why (no silent fallback when asked for explicitly).
 * - 'auto' : PURENEURON_BACKEND if set and non-empty (validated: 'auto' | 'js' | 'wasm', else a
 *            BAD_OPTION error); otherwise wasm when SIMD128 validates, falling back silently to
 *            JS when it does not or when the module fails to instantiate.
 * Both backends give bitwise-identical results (the accumulation contract in ./types.ts), so
 * the choice affects speed only.
 */
import { PureneuronError } from '../errors.js';
import { jsKernels } from './js/index.js';
import type { Kernels } from './types.js';
import { wasmApi } from './wasm/api.js';
import { loadWasmKernels } from './wasm/index.js';

export type BackendOption = 'auto' | 'js' | 'wasm';

const OPTIONS: readonly string[] = ['auto', 'js', 'wasm'];

/**
 * The smallest module using a SIMD128 opcode (as wasm-feature-detect does): one function
 * returning v128 whose body is `i32.const 0; i8x16.splat; i8x16.popcnt; end`.
 */
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x0a, 0x01, 0x08, 0x00, 0x41, 0x00, 0xfd, 0x0f, 0xfd, 0x62, 0x0b, // code section
]);

let simdCache: boolean | undefined;

/** Synchronously: does this engine run WebAssembly with SIMD128? (Cached.) */
export function simdSupported(): boolean {
  if (simdCache === undefined) {
    const WA = wasmApi();
    try {
      simdCache = WA !== undefined && WA.validate(SIMD_PROBE);
    } catch {
      simdCache = false;
    }
  }
  return simdCache;
}

function envBackend(): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const v = env?.PURENEURON_BACKEND;
  return v === undefined || v.trim() === '' ? undefined : v.trim().toLowerCase();
}

function unavailableReason(): string | undefined {
  if (!wasmApi()) return 'this JavaScript engine has no WebAssembly';
  if (!simdSupported()) return 'this engine does not support WebAssembly SIMD128';
  return undefined;
}

async function wasmOrThrow(): Promise<Kernels> {
  const reason = unavailableReason();
  if (reason) throw new PureneuronError('BACKEND_UNAVAILABLE', `wasm backend unavailable: ${reason}`);
  try {
    return await loadWasmKernels();
  } catch (err) {
    if (err instanceof PureneuronError) throw err;
    throw new PureneuronError('BACKEND_UNAVAILABLE', `wasm backend unavailable: ${(err as Error)?.message ?? String(err)}`);
  }
}

/** Resolve a backend option to kernels (see the module comment for the rules). */
export async function getKernels(backend: BackendOption = 'auto'): Promise<Kernels> {
  if (!OPTIONS.includes(backend)) {
    throw new PureneuronError('BAD_OPTION', `backend must be 'auto', 'js' or 'wasm', got ${JSON.stringify(backend)}`);
  }
  let choice: string = backend;
  if (choice === 'auto') {
    const env = envBackend();
    if (env !== undefined) {
      if (!OPTIONS.includes(env)) {
        throw new PureneuronError('BAD_OPTION', `PURENEURON_BACKEND must be 'auto', 'js' or 'wasm', got ${JSON.stringify(env)}`);
      }
      choice = env;
    }
  }
  if (choice === 'js') return jsKernels;
  if (choice === 'wasm') return wasmOrThrow();
  // auto: wasm when it works, JS otherwise, silently.
  if (unavailableReason()) return jsKernels;
  try {
    return await loadWasmKernels();
  } catch {
    return jsKernels;
  }
}
