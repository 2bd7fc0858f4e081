/**
 * Checks shared by every sample source: finite values, the maxRows argument.
 * Keeping them in one place means arrays, binary files and CSV report bad data with the same
 * wording, so callers (and the CLI) can rely on it.
 */
import { PureneuronError } from '../errors.js';
import type { SampleSource } from '../types.js';

/**
 * Throws BAD_VALUE at the first NaN or ±Infinity in `values` (rows×width, row-major).
 * `firstSample` is the index of row 0 of `values` counted from the start of the data, so the
 * message points at the sample in the user's terms. `where(row)` may add a location such as
 * " (x.csv line 19)" for the offending row of this block.
 */
export function checkFinite(
  name: 'x' | 'y',
  values: Float64Array,
  width: number,
  firstSample: number,
  where?: (row: number) => string,
): void {
  const len = values.length;
  for (let i = 0; i < len; i++) {
    const v = values[i]!;
    // v − v is 0 for every finite v and NaN for NaN and ±Infinity: one compare per value.
    if (v - v !== 0) {
      const row = Math.floor(i / width);
      const col = i - row * width;
      const what = Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
      const loc = where ? where(row) : '';
      throw new PureneuronError(
        'BAD_VALUE',
        `${name} has ${what} at sample ${firstSample + row}, column ${col} (0-based)${loc}; ` +
          `the learner needs finite values: remove or impute samples with missing or infinite values`,
      );
    }
  }
}

/** chunks(maxRows) argument check, identical for every source. */
export function checkMaxRows(maxRows: number): void {
  if (!Number.isInteger(maxRows) || maxRows < 1) {
    throw new RangeError(`maxRows must be a positive integer, got ${maxRows}`);
  }
}

/** Positive-integer check for d, l, n with the platform's RangeError. */
export function checkPositiveInt(name: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${String(v)}`);
  }
}

/**
 * Reads the whole source once more and throws BAD_VALUE (checkFinite's message: sample and
 * column) at its first NaN or ±Infinity; returns normally when every value is finite. The
 * learner calls this only when a pass's sums are not finite, so clean data never pay for it.
 */
export async function findBadValue(source: SampleSource, chunkRows: number, signal?: AbortSignal): Promise<void> {
  let done = 0;
  for await (const c of source.chunks(chunkRows, signal)) {
    checkFinite('x', c.x, source.d, done);
    checkFinite('y', c.y, source.l, done);
    done += c.rows;
  }
}
