/**
 * Persistent scratch for the JS kernels: one Float64Array per named slot, grown (never shrunk)
 * when a call needs more, reused by every later call. Kernels are synchronous and never
 * re-entered, so one set of slots per process is enough. Contents are not preserved between
 * calls and are not zeroed: every kernel writes what it reads.
 */
const slots = new Map<string, Float64Array | Float32Array>();

function slot<T extends Float64Array | Float32Array>(name: string, length: number, make: (n: number) => T): T {
  let a = slots.get(name) as T | undefined;
  if (!a || a.length < length) {
    a = make(Math.max(length, a ? Math.ceil(a.length * 1.5) : 0));
    slots.set(name, a);
  }
  return a;
}

export const scratch = (name: string, length: number): Float64Array => slot(name, length, (n) => new Float64Array(n));

/** A float32 slot (the detector's float32 GEMM operands). */
export const scratch32 = (name: string, length: number): Float32Array => slot(name, length, (n) => new Float32Array(n));
