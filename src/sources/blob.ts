/**
 * Samples in Blobs (a browser's File objects, or Node's Blob): x and y as raw little-endian
 * float64 / float32 (d and l given) or .npy (float64 or float32, C order), read chunk by chunk
 * through Blob.slice — never whole — so a page can learn from files larger than its memory.
 */
import { PureneuronError } from '../errors.js';
import { parseNpyHeader, readNpyPreamble } from '../io/npy.js';
import type { Chunk, SampleSource } from '../types.js';
import { checkFinite, checkMaxRows, checkPositiveInt } from './check.js';

export type BlobFormat = 'f64' | 'f32' | 'npy';

export interface BlobSourceOptions {
  /** The inputs, n×d. */
  x: Blob;
  /** The outputs, n×l. */
  y: Blob;
  /** Both blobs' format; by default from a File's name (.f64, .f32, .npy), else required. */
  format?: BlobFormat;
  /** Columns of x (raw formats; checked against an .npy header). */
  d?: number;
  /** Columns of y. */
  l?: number;
}

/** One blob's layout: where the values start, bytes per value, values per row, rows. */
interface BlobSpec {
  blob: Blob;
  name: string;
  offset: number;
  itemBytes: 4 | 8;
  width: number;
  n: number;
}

const nameOf = (b: Blob, role: string): string => (b as { name?: string }).name || `the ${role} blob`;

function bad(message: string): PureneuronError {
  return new PureneuronError('BAD_FILE', message);
}

async function specOf(blob: Blob, role: 'x' | 'y', format: BlobFormat | undefined, width: number | undefined): Promise<BlobSpec> {
  if (typeof Blob === 'undefined' || !(blob instanceof Blob)) throw new TypeError(`${role} must be a Blob or File, got ${Object.prototype.toString.call(blob)}`);
  const name = nameOf(blob, role);
  const ext = /\.(f64|f32|npy)$/i.exec(name)?.[1]?.toLowerCase() as BlobFormat | undefined;
  const f = format ?? ext;
  const wn = role === 'x' ? 'd' : 'l';
  if (f === undefined) throw new PureneuronError('BAD_OPTION', `cannot tell the format of ${name} (known: .f64, .f32, .npy): pass format`);
  if (f === 'npy') {
    const head = new Uint8Array(await blob.slice(0, 16).arrayBuffer());
    const pre = readNpyPreamble(head, name);
    const h = parseNpyHeader(new Uint8Array(await blob.slice(0, pre.dataOffset).arrayBuffer()), name);
    if (h.fortranOrder) throw bad(`${name}: Fortran-order arrays are not supported (save it in C order)`);
    const w = h.shape.length === 1 ? 1 : h.shape[1]!;
    if (h.shape.length > 2) throw bad(`${name} has ${h.shape.length} dimensions; expected (n, ${wn}) or (n,)`);
    if (width !== undefined && width !== w) throw new PureneuronError('BAD_SHAPE', `${name} has ${w} columns, so ${wn} = ${w}, but ${wn} = ${width} was given`);
    if (blob.size < h.dataOffset + h.dataBytes) throw bad(`${name} is truncated: its header promises ${h.dataBytes} bytes of data, it holds ${blob.size - h.dataOffset}`);
    return { blob, name, offset: h.dataOffset, itemBytes: h.itemBytes as 4 | 8, width: w, n: h.shape[0]! };
  }
  if (f !== 'f64' && f !== 'f32') throw new PureneuronError('BAD_OPTION', `format must be 'f64', 'f32' or 'npy', got ${JSON.stringify(f)}`);
  if (width === undefined) throw new PureneuronError('BAD_OPTION', `${name} is raw ${f} data with no header, so its number of columns must be given: pass ${wn}`);
  checkPositiveInt(wn, width);
  const itemBytes = f === 'f64' ? 8 : 4;
  const row = itemBytes * width;
  if (blob.size % row !== 0) throw bad(`${name} holds ${blob.size} bytes, not a whole number of rows of ${width} ${f} values (${row} bytes)`);
  return { blob, name, offset: 0, itemBytes, width, n: blob.size / row };
}

/** Rows [from, from + rows) of a blob into `out` as float64. */
async function readRows(s: BlobSpec, from: number, rows: number, out: Float64Array): Promise<void> {
  const start = s.offset + from * s.width * s.itemBytes;
  const bytes = await s.blob.slice(start, start + rows * s.width * s.itemBytes).arrayBuffer();
  if (bytes.byteLength !== rows * s.width * s.itemBytes) throw bad(`${s.name} changed while it was read (ended at row ${from})`);
  const dv = new DataView(bytes);
  const count = rows * s.width;
  if (s.itemBytes === 8) for (let i = 0; i < count; i++) out[i] = dv.getFloat64(8 * i, true);
  else for (let i = 0; i < count; i++) out[i] = dv.getFloat32(4 * i, true);
}

/**
 * A re-readable SampleSource over two Blobs. Errors: TypeError (not Blobs), BAD_OPTION (format
 * unknown, d/l missing for raw data), BAD_SHAPE (d/l disagree with an .npy), BAD_FILE (sizes that
 * are not whole rows, truncated .npy, x and y of different row counts); BAD_VALUE names the first
 * NaN or ±Infinity (sample, column, blob).
 */
export async function blobSource(options: BlobSourceOptions): Promise<SampleSource> {
  if (options === null || typeof options !== 'object') throw new TypeError('blobSource expects { x, y, format?, d?, l? }');
  const xs = await specOf(options.x, 'x', options.format, options.d);
  const ys = await specOf(options.y, 'y', options.format, options.l);
  if (xs.n !== ys.n) throw bad(`${xs.name} has ${xs.n} samples but ${ys.name} has ${ys.n}; x and y must have the same number of rows`);
  const { n } = xs;
  const d = xs.width;
  const l = ys.width;
  return {
    d,
    l,
    n,
    async *chunks(maxRows: number): AsyncGenerator<Chunk> {
      checkMaxRows(maxRows);
      // One pair of buffers per pass, refilled (the consumers copy or finish with a chunk first).
      const x = new Float64Array(Math.min(maxRows, n) * d);
      const y = new Float64Array(Math.min(maxRows, n) * l);
      for (let done = 0; done < n; ) {
        const rows = Math.min(maxRows, n - done);
        const cx = rows * d === x.length ? x : x.subarray(0, rows * d);
        const cy = rows * l === y.length ? y : y.subarray(0, rows * l);
        await Promise.all([readRows(xs, done, rows, cx), readRows(ys, done, rows, cy)]);
        checkFinite('x', cx, d, done, () => ` in ${xs.name}`);
        checkFinite('y', cy, l, done, () => ` in ${ys.name}`);
        yield { x: cx, y: cy, rows };
        done += rows;
      }
    },
  };
}
