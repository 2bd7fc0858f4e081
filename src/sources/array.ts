/** In-memory samples as a SampleSource. */
import type { ArrayInput, Chunk, SampleSource } from '../types.js';
import { checkFinite, checkMaxRows, checkPositiveInt } from './check.js';
import { throwIfAborted } from '../errors.js';

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v !== 'object') return typeof v;
  return (v as object).constructor?.name ?? 'object';
}

/**
 * Wraps n×d inputs x and n×l outputs y (row-major) as a re-readable source.
 * Float64Array chunks are zero-copy subarrays of the input (so the caller must not mutate the
 * arrays while a pass runs; worker threads read them in place when they are on a
 * SharedArrayBuffer, else the pool copies each chunk once per pass); Float32Array inputs are widened one chunk at a time, so memory
 * stays at one chunk beyond the input. Values are checked for NaN/±Infinity during the first
 * complete pass unless `checkValues` is false (learn() passes false: it checks the pass sums
 * instead, which is free, and rescans only when they are not finite — see parallel/runner.ts).
 */
export function arraySource(input: ArrayInput, { checkValues = true }: { checkValues?: boolean } = {}): SampleSource {
  if (input === null || typeof input !== 'object') {
    throw new TypeError(`arraySource expects { x, y, d, l }, got ${describe(input)}`);
  }
  const { x, y, d, l } = input;
  for (const [name, a] of [['x', x], ['y', y]] as const) {
    if (!(a instanceof Float64Array) && !(a instanceof Float32Array)) {
      throw new TypeError(`${name} must be a Float64Array or Float32Array, got ${describe(a)}`);
    }
  }
  checkPositiveInt('d', d);
  checkPositiveInt('l', l);
  let n: number;
  if (input.n === undefined) {
    if (x.length % d !== 0) throw new RangeError(`x has ${x.length} values, not a multiple of d = ${d}`);
    n = x.length / d;
    if (n === 0) throw new RangeError('x is empty: need at least one sample');
  } else {
    checkPositiveInt('n', input.n);
    n = input.n;
    if (x.length !== n * d) throw new RangeError(`x has ${x.length} values, expected n·d = ${n * d}`);
  }
  if (y.length !== n * l) throw new RangeError(`y has ${y.length} values, expected n·l = ${n * l}`);

  // Float32 chunks are widened into fresh ordinary buffers (not shared ones: see files.ts).
  const slice = (a: Float64Array | Float32Array, from: number, to: number): Float64Array =>
    a instanceof Float64Array ? a.subarray(from, to) : Float64Array.from(a.subarray(from, to));

  // Values are checked until one complete pass has seen them all: the arrays are the caller's
  // and must not change while a learner reads them, so later passes (one per pass of the
  // method) need not pay for the check again.
  let verified = !checkValues;
  return {
    d,
    l,
    n,
    async *chunks(maxRows: number, signal?: AbortSignal): AsyncGenerator<Chunk> {
      checkMaxRows(maxRows);
      const check = !verified;
      for (let start = 0; start < n; start += maxRows) {
        throwIfAborted(signal, `reading samples (stopped before sample ${start} of ${n})`);
        const rows = Math.min(maxRows, n - start);
        const cx = slice(x, start * d, (start + rows) * d);
        const cy = slice(y, start * l, (start + rows) * l);
        if (check) {
          checkFinite('x', cx, d, start);
          checkFinite('y', cy, l, start);
        }
        yield { x: cx, y: cy, rows };
      }
      if (check) verified = true;
    },
  };
}
