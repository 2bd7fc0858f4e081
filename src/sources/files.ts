/**
 * Samples in files: x and y in two separate files read in lock step (row i of x pairs with
 * row i of y), each in any supported format:
 *
 *   'f64'  raw little-endian float64, row-major, no header (extension .f64); needs d / l
 *   'f32'  raw little-endian float32, same layout (extension .f32); needs d / l
 *   'npy'  NumPy .npy, '<f8' or '<f4', C order, shape (n, d) or (n,) (extension .npy)
 *   'csv'  comma-separated text, optional header row (extension .csv); see csv.ts
 *
 * or one file with named columns, x and y chosen among them (`data`, `xColumns`, `yColumns`;
 * see table/columns.ts for the SPEC): 'parquet' (.parquet), 'arrow' (Arrow IPC file or stream,
 * Feather v2: .arrow, .feather, .ipc) or 'csv' with a header. Their two sides are read by two
 * readers of the same file, in lock step like two files.
 *
 * '.bin' and other extensions are not guessed (the element type would be a guess): pass
 * `format`. Each pass reopens both files and reads them block by block into one chunk's
 * buffers, refilled for every chunk, so memory holds one chunk plus two read buffers whatever
 * the file size.
 */
import { PureneuronError, throwIfAborted } from '../errors.js';
import type { Chunk, SampleSource } from '../types.js';
import { rawSpec, npySpec } from './binary.js';
import { DEFAULT_BLOCK_BYTES, refName, type FileRef } from './blocks.js';
import { checkFinite, checkMaxRows, checkPositiveInt } from './check.js';
import { csvSpec } from './csv.js';
import { widthName, type ArrayFormat, type FileFormat, type FileSpec, type Role, type RowReader, type TableFormat } from './spec.js';
import { tableSpecs } from './table/index.js';
import type { ColumnSpec } from './table/columns.js';

export type { FileFormat } from './spec.js';
export type { ColumnSpec } from './table/columns.js';

const FORMATS: readonly FileFormat[] = ['f64', 'f32', 'csv', 'npy', 'parquet', 'arrow'];
const TABLE_FORMATS: readonly TableFormat[] = ['parquet', 'arrow', 'csv'];
const EXTENSIONS: Record<string, FileFormat> = { f64: 'f64', f32: 'f32', csv: 'csv', npy: 'npy', parquet: 'parquet', arrow: 'arrow', feather: 'arrow', ipc: 'arrow' };

export interface FileSourceOptions {
  /** The inputs, n×d (with `y`; or give `data`): a path, or a Blob / File (a page's files). */
  x?: FileRef;
  /** The outputs, n×l. */
  y?: FileRef;
  /** One file holding x and y as named columns (Parquet, Arrow IPC / Feather, CSV with a header). */
  data?: FileRef;
  /** The columns of `data` that make x: names and glob patterns, comma-separated or as an array, taken in the file's order. */
  xColumns?: ColumnSpec;
  /** The columns of `data` that make y. */
  yColumns?: ColumnSpec;
  /** Format of the files; by default each file's format comes from its extension. */
  format?: FileFormat;
  /** Columns of x: required for raw f64/f32; checked against the file for npy/csv. */
  d?: number;
  /** Columns of y: required for raw f64/f32; checked against the file for npy/csv. */
  l?: number;
  /** @internal Read size per block in bytes (default 1 MiB); tests use tiny values. */
  blockBytes?: number;
}

/** The format implied by a file name's extension (.f64, .f32, .csv, .npy, .parquet, .arrow, .feather, .ipc; any case), or undefined. */
export function formatFromPath(path: string): FileFormat | undefined {
  const m = /\.([^./\\]+)$/.exec(path);
  return EXTENSIONS[m?.[1]?.toLowerCase() ?? ''];
}

const quoted = (fs: readonly string[]): string => fs.map((f) => `'${f}'`).join(' | ');

function resolveFormat(ref: FileRef, format: FileFormat | undefined): FileFormat {
  const path = refName(ref);
  if (format !== undefined) {
    if (!FORMATS.includes(format)) throw new PureneuronError('BAD_OPTION', `format must be one of ${FORMATS.map((f) => `'${f}'`).join(', ')}, got ${JSON.stringify(format)}`);
    return format;
  }
  const f = formatFromPath(path);
  if (f === undefined) {
    throw new PureneuronError(
      'BAD_OPTION',
      `cannot tell the format of ${path} from its extension (known: ${Object.keys(EXTENSIONS).map((e) => `.${e}`).join(', ')}); ` +
        `pass format: ${quoted(FORMATS)} (--format on the command line)`,
    );
  }
  return f;
}

/** The format of a file of one side (x or y); Parquet and Arrow hold named columns, chosen with data/xColumns. */
function arrayFormat(ref: FileRef, format: FileFormat | undefined): ArrayFormat {
  const path = refName(ref);
  const f = resolveFormat(ref, format);
  if (f === 'parquet' || f === 'arrow') {
    throw new PureneuronError('BAD_OPTION', `${path} is a ${f === 'parquet' ? 'Parquet' : 'Arrow'} file of named columns: give it as data, choosing the columns with xColumns and yColumns (--data, --x-columns, --y-columns)`);
  }
  return f;
}

function tableFormat(ref: FileRef, format: FileFormat | undefined): TableFormat {
  const path = refName(ref);
  const f = resolveFormat(ref, format);
  if (!(TABLE_FORMATS as readonly string[]).includes(f)) {
    throw new PureneuronError('BAD_OPTION', `${path} is read as ${f}, which has no named columns; data files are ${quoted(TABLE_FORMATS)} (give raw or .npy x and y as two files: x, y)`);
  }
  return f as TableFormat;
}

async function openSpec(path: FileRef, format: ArrayFormat, role: Role, width: number | undefined, blockBytes: number): Promise<FileSpec> {
  switch (format) {
    case 'f64':
    case 'f32':
      return rawSpec(path, format, role, width);
    case 'npy':
      return npySpec(path, role, width);
    case 'csv':
      return csvSpec(path, role, width, blockBytes);
  }
}

function samples(n: number): string {
  return `${n} sample${n === 1 ? '' : 's'}`;
}

class FileSource implements SampleSource {
  readonly d: number;
  readonly l: number;
  private n_: number | undefined;
  /** Set once a complete pass has checked every value (later passes skip the check). */
  private verified = false;

  constructor(
    private readonly xs: FileSpec,
    private readonly ys: FileSpec,
    private readonly blockBytes: number,
  ) {
    this.d = xs.width;
    this.l = ys.width;
    this.n_ = xs.n ?? ys.n;
  }

  /** Known up front for binary files; for CSV pairs, set by the first complete pass. */
  get n(): number | undefined {
    return this.n_;
  }

  /** The format each file is read as. */
  get formats(): { x: FileFormat; y: FileFormat } {
    return { x: this.xs.format, y: this.ys.format };
  }

  private mismatch(nx: number, ny: number): PureneuronError {
    return new PureneuronError(
      'BAD_FILE',
      `${this.xs.path} has ${samples(nx)} but ${this.ys.path} has ${samples(ny)}; ` +
        `x and y must have the same number of rows (row i of x pairs with row i of y)`,
    );
  }

  chunks(maxRows: number, signal?: AbortSignal): AsyncGenerator<Chunk> {
    // One pair of buffers per pass, refilled chunk after chunk, as SampleSource allows (every
    // consumer copies or is done with a chunk before it asks for the next; the worker pool
    // copies chunks into its shared slots at once). Fresh buffers per chunk are garbage that
    // piles up between collections and raises the peak RSS (docs/measurements.md).
    // Ordinary buffers, not a SharedArrayBuffer: workers would read those in place, so the
    // next chunk could not refill them (the pool copies ordinary ones into its slots).
    let x: Float64Array | undefined;
    let y: Float64Array | undefined;
    return this.pass(maxRows, signal, !this.verified, (_, want) => {
      if (!x || !y || x.length < want * this.d) {
        x = new Float64Array(want * this.d);
        y = new Float64Array(want * this.l);
      }
      return { x, y };
    });
  }

  /**
   * @internal One pass read straight into `into` (x n×d, y n×l, row-major; n the source's n):
   * chunk i is the view of its own rows there, so a cache of the samples costs no copy. Values
   * are not checked: the caller checks the sums it forms (learn() does, after every pass).
   */
  chunksInto(maxRows: number, into: { x: Float64Array; y: Float64Array }, signal?: AbortSignal): AsyncGenerator<Chunk> {
    const { d, l } = this;
    const capacity = Math.min(into.x.length / d, into.y.length / l);
    if (this.n_ === undefined || capacity < this.n_) throw new RangeError(`chunksInto needs room for the source's ${this.n_ ?? 'unknown number of'} samples`);
    return this.pass(maxRows, signal, false, (done, want) => ({ x: into.x.subarray(done * d, (done + want) * d), y: into.y.subarray(done * l, (done + want) * l) }));
  }

  /** One pass; `buffers(done, want)` gives the arrays that receive the next chunk's rows. */
  private async *pass(
    maxRows: number,
    signal: AbortSignal | undefined,
    check: boolean,
    buffers: (done: number, want: number) => { x: Float64Array; y: Float64Array },
  ): AsyncGenerator<Chunk> {
    checkMaxRows(maxRows);
    const { d, l } = this;
    const aborted = (done: number): string =>
      `reading ${this.xs.path} and ${this.ys.path} (stopped before sample ${done})`;
    throwIfAborted(signal, aborted(0));
    let xr: RowReader | undefined;
    let yr: RowReader | undefined;
    // Values are checked until one complete pass has seen them all. A file changed afterwards
    // is still caught: learn() checks every pass's sums and rescans when they are not finite.
    try {
      xr = await this.xs.open(this.blockBytes, signal);
      yr = await this.ys.open(this.blockBytes, signal);
      let done = 0;
      for (;;) {
        throwIfAborted(signal, aborted(done));
        // With n known, the last chunk is allocated at its exact size.
        const want = this.n_ === undefined ? maxRows : Math.min(maxRows, this.n_ - done);
        if (want === 0) {
          // n rows read: both files must be exhausted now (a CSV partner could be longer).
          const rx = await xr.countRest();
          const ry = await yr.countRest();
          if (rx !== 0 || ry !== 0) throw this.mismatch(done + rx, done + ry);
          break;
        }
        const { x, y } = buffers(done, want);
        // Both files at once (each read is a libuv job); both settle before an error is
        // thrown, so no read is in flight when the handles close.
        const [rx, ry] = await settleBoth(xr.read(x, want), yr.read(y, want));
        if (rx !== ry) {
          // One file ended; count the rest of the other so the message gives both totals.
          const nx = done + rx + (rx === want ? await xr.countRest() : 0);
          const ny = done + ry + (ry === want ? await yr.countRest() : 0);
          throw this.mismatch(nx, ny);
        }
        if (rx > 0) {
          const cx = rx * d === x.length ? x : x.subarray(0, rx * d);
          const cy = ry * l === y.length ? y : y.subarray(0, ry * l);
          const xrr = xr;
          const yrr = yr;
          if (check) {
            checkFinite('x', cx, d, done, (row) => xrr.where(row));
            checkFinite('y', cy, l, done, (row) => yrr.where(row));
          }
          yield { x: cx, y: cy, rows: rx };
          done += rx;
        }
        if (rx < want) break;
      }
      if (this.n_ === undefined) this.n_ = done;
      else if (this.n_ !== done) {
        throw new PureneuronError(
          'BAD_FILE',
          `${this.xs.path} and ${this.ys.path} gave ${samples(done)} on this pass but ${this.n_} before; the files changed between passes`,
        );
      }
      if (check) this.verified = true;
    } finally {
      await xr?.close();
      await yr?.close();
    }
  }
}

/** Both results, once both promises have settled; the first rejection if any. */
async function settleBoth<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b]);
  if (ra.status === 'rejected') throw ra.reason;
  if (rb.status === 'rejected') throw rb.reason;
  return [ra.value, rb.value];
}

function checkPath(name: string, p: unknown): asserts p is FileRef {
  const blob = typeof Blob === 'function' && p instanceof Blob;
  if (!blob && (typeof p !== 'string' || p === '')) throw new TypeError(`${name} must be a file path or a Blob / File, got ${JSON.stringify(p)}`);
}

function checkWidth(spec: FileSpec, role: Role, given: number | undefined): void {
  const wn = widthName(role);
  if (given !== undefined && given !== spec.width) {
    throw new PureneuronError('BAD_SHAPE', `the ${role} columns of ${spec.path} give ${spec.width} values per row, so ${wn} = ${spec.width}, but ${wn} = ${given} was given`);
  }
}

/**
 * Opens the samples as a re-readable SampleSource: x and y files (`x`, `y`), or one file with
 * named columns (`data`, `xColumns`, `yColumns`). Reads headers (npy), sizes (raw), footers
 * and schemas (Parquet, Arrow) or the first data row (CSV) now, so shape problems surface
 * before any pass; values are checked as the passes read them. Errors: BAD_OPTION (unknown
 * format, missing d/l for raw files, a column SPEC matching nothing or choosing a column
 * twice), BAD_SHAPE (d/l disagree with the file), BAD_FILE (missing, empty, truncated,
 * malformed, a chosen column of another type or with nulls, or x and y with different row
 * counts — named with both paths).
 */
export async function fileSource(options: FileSourceOptions): Promise<FileSource> {
  if (options === null || typeof options !== 'object') throw new TypeError('fileSource expects { x, y, format?, d?, l? } or { data, xColumns, yColumns, format? }');
  const { x, y, d, l } = options;
  if (d !== undefined) checkPositiveInt('d', d);
  if (l !== undefined) checkPositiveInt('l', l);
  const blockBytes = options.blockBytes ?? DEFAULT_BLOCK_BYTES;
  checkPositiveInt('blockBytes', blockBytes);
  if (options.data !== undefined || options.xColumns !== undefined || options.yColumns !== undefined) {
    if (x !== undefined || y !== undefined) throw new TypeError('give either x and y files or one data file with xColumns and yColumns, not both');
    checkPath('data', options.data);
    if (options.xColumns === undefined || options.yColumns === undefined) throw new TypeError(`a data file needs both xColumns and yColumns (which of its columns are x and which y)`);
    const specs = await tableSpecs(options.data, tableFormat(options.data, options.format), options.xColumns, options.yColumns, blockBytes);
    checkWidth(specs.x, 'x', d);
    checkWidth(specs.y!, 'y', l);
    return new FileSource(specs.x, specs.y!, blockBytes);
  }
  checkPath('x', x);
  checkPath('y', y);
  const xs = await openSpec(x, arrayFormat(x, options.format), 'x', d, blockBytes);
  const ys = await openSpec(y, arrayFormat(y, options.format), 'y', l, blockBytes);
  if (xs.n !== undefined && ys.n !== undefined && xs.n !== ys.n) {
    throw new PureneuronError(
      'BAD_FILE',
      `${refName(x)} has ${samples(xs.n)} but ${refName(y)} has ${samples(ys.n)}; x and y must have the same number of rows (row i of x pairs with row i of y)`,
    );
  }
  return new FileSource(xs, ys, blockBytes);
}

/**
 * @internal The inputs alone, for predictions: an x file, or the xColumns of a data file.
 * Same formats, checks and errors as fileSource.
 */
export async function inputRows(options: Pick<FileSourceOptions, 'x' | 'data' | 'xColumns' | 'format' | 'd' | 'blockBytes'>): Promise<FileSpec> {
  const blockBytes = options.blockBytes ?? DEFAULT_BLOCK_BYTES;
  if (options.data !== undefined) {
    checkPath('data', options.data);
    if (options.xColumns === undefined) throw new TypeError('a data file needs xColumns (which of its columns are x)');
    const { x } = await tableSpecs(options.data, tableFormat(options.data, options.format), options.xColumns, undefined, blockBytes);
    checkWidth(x, 'x', options.d);
    return x;
  }
  checkPath('x', options.x);
  return openSpec(options.x, arrayFormat(options.x, options.format), 'x', options.d, blockBytes);
}

export type { FileSource };
