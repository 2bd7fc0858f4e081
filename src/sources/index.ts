/** Sample sources: in-memory arrays and files (f64, f32, npy, csv), all streamed in chunks. */
import type { ArrayInput, Chunk, SampleSource } from '../types.js';
import { arraySource } from './array.js';

export { arraySource } from './array.js';
export { fileSource, formatFromPath } from './files.js';
export type { ColumnSpec, FileFormat, FileSource, FileSourceOptions } from './files.js';
export { checkFinite } from './check.js';

/** A source that can read one pass straight into arrays of n rows (FileSource.chunksInto). */
export interface DirectSource extends SampleSource {
  chunksInto(maxRows: number, into: { x: Float64Array; y: Float64Array }, signal?: AbortSignal): AsyncIterable<Chunk>;
}

export const readsInto = (s: SampleSource): s is DirectSource => typeof (s as Partial<DirectSource>).chunksInto === 'function';

/** True for anything with a `chunks` method and numeric d, l (a SampleSource rather than ArrayInput). */
export function isSampleSource(v: unknown): v is SampleSource {
  return (
    v !== null &&
    typeof v === 'object' &&
    typeof (v as SampleSource).chunks === 'function' &&
    typeof (v as SampleSource).d === 'number' &&
    typeof (v as SampleSource).l === 'number'
  );
}

/**
 * A SampleSource as is; ArrayInput wrapped by arraySource (validating shapes and types;
 * `checkValues` as in arraySource).
 */
export function toSampleSource(input: ArrayInput | SampleSource, opts?: { checkValues?: boolean }): SampleSource {
  if (input !== null && typeof input === 'object' && typeof (input as { then?: unknown }).then === 'function') {
    throw new TypeError('input is a Promise; did you forget to await fileSource(...)?');
  }
  return isSampleSource(input) ? input : arraySource(input, opts);
}
