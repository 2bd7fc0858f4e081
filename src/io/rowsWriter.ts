/**
 * Rows of numbers (n×width, row-major float64) streamed to a file whose extension picks the
 * format: .npy (float64, shape (n, width); the header is rewritten with n at the end), .csv
 * (a header y0 … y{width−1}, then shortest round-trip decimals) or .f64 (raw little-endian).
 * Atomic: the file appears complete at commit(), or not at all.
 */
import { PureneuronError } from '../errors.js';
import { openAtomicWriter, type AtomicWriter } from './atomic.js';
import { littleEndianBytes, npyHeaderBytes } from './npy.js';

export type RowsFormat = 'npy' | 'csv' | 'f64';
export const ROWS_FORMATS: readonly RowsFormat[] = ['npy', 'csv', 'f64'];

export interface RowsWriter {
  /** Appends rows (a multiple of width values). */
  write(rows: Float64Array): Promise<void>;
  /** Completes the file (writes the .npy header's row count) and moves it into place. */
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** The output format implied by `path`'s extension. */
export function rowsFormat(path: string): RowsFormat {
  const ext = /\.([^./\\]+)$/.exec(path)?.[1]?.toLowerCase();
  if (!ROWS_FORMATS.includes(ext as RowsFormat)) {
    throw new PureneuronError('BAD_OPTION', `cannot tell the output format of ${path}: its extension must be ${ROWS_FORMATS.map((f) => `.${f}`).join(', ')}`);
  }
  return ext as RowsFormat;
}

export async function openRowsWriter(path: string, width: number, columnPrefix = 'y'): Promise<RowsWriter> {
  const format = rowsFormat(path);
  const w: AtomicWriter = await openAtomicWriter(path);
  let rows = 0;
  // Room for any row count: the header of the widest shape this file could have.
  const reserve = format === 'npy' ? npyHeaderBytes([Number.MAX_SAFE_INTEGER, width]).length : 0;
  try {
    if (format === 'npy') await w.write(new Uint8Array(reserve));
    if (format === 'csv') await w.write(new TextEncoder().encode(Array.from({ length: width }, (_, j) => `${columnPrefix}${j}`).join(',') + '\n'));
  } catch (e) {
    await w.abort();
    throw e;
  }
  const encoder = new TextEncoder();
  return {
    async write(values: Float64Array): Promise<void> {
      const n = values.length / width;
      if (format === 'csv') {
        const lines: string[] = new Array(n);
        for (let i = 0; i < n; i++) lines[i] = Array.prototype.join.call(values.subarray(i * width, (i + 1) * width), ',');
        await w.write(encoder.encode(lines.join('\n') + '\n'));
      } else {
        await w.write(littleEndianBytes(values));
      }
      rows += n;
    },
    async commit(): Promise<void> {
      if (format === 'npy') await w.writeAt(npyHeaderBytes([rows, width], 'f8', reserve), 0);
      await w.commit();
    },
    abort: () => w.abort(),
  };
}
