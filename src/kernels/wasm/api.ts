/**
 * The few WebAssembly JS-API members the glue uses, typed locally: the project compiles with
 * lib ES2022 and no DOM lib, and @types/node 20 does not declare the WebAssembly namespace.
 * Typing it here (instead of a global declaration) cannot clash with a lib added later.
 */
import { PureneuronError } from '../../errors.js';

export interface WasmModule { readonly __wasmModule?: never }
export interface WasmMemory { readonly buffer: ArrayBuffer }
export interface WasmInstance { readonly exports: Record<string, unknown> }
export type WasmImports = Record<string, Record<string, unknown>>;

export interface WasmApi {
  Module: new (bytes: Uint8Array<ArrayBuffer>) => WasmModule;
  Instance: new (module: WasmModule, imports?: WasmImports) => WasmInstance;
  compile(bytes: Uint8Array<ArrayBuffer>): Promise<WasmModule>;
  instantiate(module: WasmModule, imports?: WasmImports): Promise<WasmInstance>;
  validate(bytes: Uint8Array<ArrayBuffer>): boolean;
}

/** globalThis.WebAssembly, or undefined where the engine has none. */
export function wasmApi(): WasmApi | undefined {
  return (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
}

/** globalThis.WebAssembly, or a BACKEND_UNAVAILABLE error where the engine has none. */
export function requireWasmApi(): WasmApi {
  const WA = wasmApi();
  if (!WA) throw new PureneuronError('BACKEND_UNAVAILABLE', 'this JavaScript engine has no WebAssembly');
  return WA;
}
