/**
 * Shared memory for sample data. Worker threads read a chunk that lives in a SharedArrayBuffer
 * in place; any other chunk is first copied into shared memory by the pool (pool.ts). So
 * producers of large arrays (generate(), the file sources) allocate them here.
 */

/** True when `a` lives in shared memory (a worker can read it without a copy). */
export const isShared = (a: Float64Array): boolean => typeof SharedArrayBuffer === 'function' && a.buffer instanceof SharedArrayBuffer;

/**
 * A zero-filled Float64Array of `length` doubles on a SharedArrayBuffer where the engine offers
 * one (Node always; browsers only when cross-origin isolated), else on an ordinary ArrayBuffer.
 */
export function sharedF64(length: number): Float64Array {
  return typeof SharedArrayBuffer === 'function' ? new Float64Array(new SharedArrayBuffer(length * 8)) : new Float64Array(length);
}
