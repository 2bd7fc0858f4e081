/**
 * Binary writers for sample and model arrays. Raw layout: values little-endian, row-major,
 * no header (the reader needs d/l). All writes go through the atomic writer, and large arrays
 * are written in blocks so float32 conversion never copies the whole array.
 */
import type { NumericArray } from '../types.js';
import { openAtomicWriter, type AtomicWriter } from './atomic.js';
import { HOST_LITTLE_ENDIAN, littleEndianBytes, npyHeaderFor } from './npy.js';

/** Values converted per write when a copy is needed (big-endian host or f64 → f32). */
const BLOCK_VALUES = 1 << 17;

function checkArray(data: unknown): asserts data is NumericArray {
  if (!(data instanceof Float64Array) && !(data instanceof Float32Array)) {
    throw new TypeError('data must be a Float64Array or Float32Array');
  }
}

/** Writes `data` to `w` as little-endian values of `bytes` (8 or 4) each. */
async function writeValues(w: AtomicWriter, data: NumericArray, bytes: 8 | 4): Promise<void> {
  const same = (bytes === 8 && data instanceof Float64Array) || (bytes === 4 && data instanceof Float32Array);
  if (same && HOST_LITTLE_ENDIAN) {
    await w.write(littleEndianBytes(data));
    return;
  }
  const buf = new Uint8Array(Math.min(data.length, BLOCK_VALUES) * bytes);
  const dv = new DataView(buf.buffer);
  for (let start = 0; start < data.length; start += BLOCK_VALUES) {
    const m = Math.min(BLOCK_VALUES, data.length - start);
    if (bytes === 8) for (let i = 0; i < m; i++) dv.setFloat64(8 * i, data[start + i]!, true);
    else for (let i = 0; i < m; i++) dv.setFloat32(4 * i, data[start + i]!, true);
    await w.write(buf.subarray(0, m * bytes));
  }
}

async function writeAll(path: string, parts: (w: AtomicWriter) => Promise<void>): Promise<void> {
  const w = await openAtomicWriter(path);
  try {
    await parts(w);
  } catch (e) {
    await w.abort();
    throw e;
  }
  await w.commit();
}

/** Writes raw little-endian float64 values (row-major, no header), atomically. */
export async function writeRawF64(path: string, data: NumericArray): Promise<void> {
  checkArray(data);
  await writeAll(path, (w) => writeValues(w, data, 8));
}

/** Writes raw little-endian float32 values (rounded from float64 if needed), atomically. */
export async function writeRawF32(path: string, data: NumericArray): Promise<void> {
  checkArray(data);
  await writeAll(path, (w) => writeValues(w, data, 4));
}

/**
 * Writes a .npy file (version 1.0, C order; '<f8' for Float64Array, '<f4' for Float32Array)
 * atomically, streaming the data after the header.
 */
export async function writeNpy(path: string, data: NumericArray, shape: number[]): Promise<void> {
  checkArray(data);
  const header = npyHeaderFor(data, shape);
  await writeAll(path, async (w) => {
    await w.write(header);
    await writeValues(w, data, data instanceof Float64Array ? 8 : 4);
  });
}
