/**
 * Persistent scratch for the JS kernels: one Float64Array per named slot, grown (never shrunk)
 * when a call needs more, reused by every later call. Kernels are synchronous and never
 * re-entered, so one set of slots per process is enough. Contents are not preserved between
 * calls and are not zeroed: every kernel writes what it reads.
 */
const slots = new Map<string, Float64Array>();

export function scratch(name: string, length: number): Float64Array {
  let a = slots.get(name);
  if (!a || a.length < length) {
    a = new Float64Array(Math.max(length, a ? Math.ceil(a.length * 1.5) : 0));
    slots.set(name, a);
  }
  return a;
}
