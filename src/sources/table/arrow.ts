/**
 * Arrow IPC files and streams (Feather v2 is the IPC file format), read record batch by
 * record batch with apache-arrow, loaded only when such a file is given. Compressed bodies
 * (what pyarrow's Feather writer does by default) are decoded by lz4js (LZ4 frame) and fzstd
 * (Zstandard), registered on first use.
 *
 * Columns: Float64, Float32 and integer columns, and FixedSizeList columns of those (a
 * FixedSizeList<Float64>[d] batch's values are one contiguous row-major array). A null in a
 * chosen column is an error naming the column and the row.
 */
import type { FileHandle } from 'node:fs/promises';
import type { DataType, RecordBatch, Vector } from 'apache-arrow';
import { badFile, openRegularFile } from '../blocks.js';
import type { RowReader } from '../spec.js';
import type { TableColumn } from './columns.js';

type Arrow = typeof import('apache-arrow');

let loaded: Promise<Arrow> | undefined;
function load(): Promise<Arrow> {
  loaded ??= (async () => {
    const [arrow, lz4, zstd] = await Promise.all([import('apache-arrow'), import('lz4js'), import('fzstd')]);
    // Decoders only; an encoder the application registered stays.
    const { compressionRegistry: registry, CompressionType } = arrow;
    registry.set(CompressionType.LZ4_FRAME, { ...registry.get(CompressionType.LZ4_FRAME), decode: (b) => Uint8Array.from(lz4.decompress(b)) });
    registry.set(CompressionType.ZSTD, { ...registry.get(CompressionType.ZSTD), decode: (b) => zstd.decompress(b) });
    return arrow;
  })();
  return loaded;
}


/** Why values of this type cannot be learned from, or undefined when they can. */
function typeProblem(A: Arrow, t: DataType): string | undefined {
  if (A.DataType.isFloat(t)) return t.precision === A.Precision.HALF ? 'float16' : undefined;
  if (A.DataType.isInt(t)) return undefined;
  if (A.DataType.isUtf8(t) || A.DataType.isLargeUtf8(t)) return 'text (Arrow Utf8)';
  if (A.DataType.isDictionary(t)) return `dictionary-encoded (Arrow ${String(t)})`;
  if (A.DataType.isList(t)) return `a variable-length list (Arrow ${String(t)}); lists of one length are FixedSizeList`;
  return `Arrow ${String(t)}`;
}

/** The schema's columns as the learner sees them. */
function describe(A: Arrow, fields: { name: string; type: DataType }[]): TableColumn[] {
  return fields.map(({ name, type }) => {
    if (A.DataType.isFixedSizeList(type)) {
      const child = type.children[0]!.type;
      const problem = typeProblem(A, child);
      return problem === undefined ? { name, width: type.listSize } : { name, width: 1, unsupported: `a list of ${problem}` };
    }
    const problem = typeProblem(A, type);
    return problem === undefined ? { name, width: 1 } : { name, width: 1, unsupported: problem };
  });
}

type Reader = AsyncIterableIterator<RecordBatch> & { open(): Promise<unknown>; schema: { fields: { name: string; type: DataType }[] }; cancel?(): Promise<void> };

async function openReader(A: Arrow, path: string, fh: FileHandle): Promise<Reader> {
  try {
    const r = (await A.RecordBatchReader.from(fh)) as unknown as Reader;
    await r.open();
    if (!r.schema) throw new Error('no schema message');
    return r;
  } catch (e) {
    throw badFile(`${path} is not a readable Arrow IPC / Feather v2 file (${(e as Error)?.message ?? String(e)})`, e);
  }
}

/**
 * The rows of an IPC file: the footer lists its record batches, and each batch's message header
 * (a few hundred bytes before its body) holds its length — read without the bodies, so the
 * cache (cacheBytes) can take the file as it takes raw files. Undefined for a stream.
 */
async function countRows(A: Arrow, path: string, fh: FileHandle, r: Reader): Promise<number | undefined> {
  const file = r as unknown as { isFile(): boolean; footer?: { recordBatches(): Iterable<{ offset: number; metaDataLength: number }> } };
  if (!file.isFile() || !file.footer) return undefined;
  let n = 0;
  for (const block of file.footer.recordBatches()) {
    const buf = new Uint8Array(block.metaDataLength);
    try {
      const { bytesRead } = await fh.read(buf, 0, buf.length, block.offset);
      if (bytesRead !== buf.length) throw new Error('the file ends inside a batch header');
      // A message starts with the continuation marker 0xFFFFFFFF and its length (older files: the length alone).
      const skip = new DataView(buf.buffer).getInt32(0, true) === -1 ? 8 : 4;
      const m = A.Message.decode(buf.subarray(skip));
      if (!m.isRecordBatch()) throw new Error('a footer block is not a record batch');
      n += Number(m.header().length);
    } catch (e) {
      throw badFile(`${path} is damaged: cannot read the header of a record batch (${(e as Error)?.message ?? String(e)})`, e);
    }
  }
  return n;
}

export class ArrowTable {
  private constructor(
    readonly path: string,
    readonly columns: TableColumn[],
    /** Rows of an IPC file, from its batches' headers; a stream's are counted by the first pass. */
    readonly n: number | undefined,
    private readonly A: Arrow,
  ) {}

  static async open(path: string): Promise<ArrowTable> {
    const A = await load();
    const { fh, size } = await openRegularFile(path);
    try {
      if (size === 0) throw badFile(`${path} is empty`);
      const r = await openReader(A, path, fh);
      return new ArrowTable(path, describe(A, r.schema.fields), await countRows(A, path, fh, r), A);
    } finally {
      await fh.close().catch(() => undefined);
    }
  }

  async reader(chosen: readonly number[]): Promise<RowReader> {
    const { fh } = await openRegularFile(this.path);
    try {
      return new ArrowRows(this.path, fh, await openReader(this.A, this.path, fh), chosen, this.columns);
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw e;
    }
  }
}

/** One chosen column of the current batch: its values, `width` per row, row-major. */
interface BatchColumn {
  values: ArrayLike<number | bigint>;
  width: number;
  offset: number;
}

class ArrowRows implements RowReader {
  private readonly width: number;
  private batch: BatchColumn[] = [];
  private batchRows = 0;
  private pos = 0;
  private done = 0;
  private lastFirst = 0;
  private ended = false;

  constructor(
    private readonly path: string,
    private readonly fh: FileHandle,
    private readonly reader: Reader,
    private readonly chosen: readonly number[],
    private readonly columns: TableColumn[],
  ) {
    this.width = chosen.reduce((s, i) => s + columns[i]!.width!, 0);
  }

  /** Loads the next batch with rows; false at the end. */
  private async nextBatch(): Promise<boolean> {
    for (;;) {
      let next: IteratorResult<RecordBatch>;
      try {
        next = await this.reader.next();
      } catch (e) {
        throw badFile(`${this.path} is damaged or truncated after row ${this.done} (${(e as Error)?.message ?? String(e)})`, e);
      }
      if (next.done) return false;
      const b = next.value;
      if (b.numRows === 0) continue;
      let offset = 0;
      this.batch = this.chosen.map((i) => {
        const column = this.columns[i]!;
        const vec = b.getChildAt(i) as Vector;
        const list = column.width! > 1 || vec.type.typeId === 16; // FixedSizeList
        const flat = list ? (vec.getChildAt(0) as Vector) : vec;
        this.checkNulls(column.name, vec, 1);
        if (list) this.checkNulls(column.name, flat, column.width!);
        const values = flat.toArray() as ArrayLike<number | bigint>;
        // A batch whose buffers hold fewer values than its rows need is damaged (reading past them gives undefined: NaN).
        if (values.length < b.numRows * column.width!) {
          throw badFile(`${this.path} is damaged: column ${JSON.stringify(column.name)} holds ${values.length} values for the ${b.numRows} rows of its batch at row ${this.done}`);
        }
        const bc = { values, width: column.width!, offset };
        offset += column.width!;
        return bc;
      });
      this.batchRows = b.numRows;
      this.pos = 0;
      return true;
    }
  }

  private checkNulls(name: string, vec: Vector, per: number): void {
    if (vec.nullCount === 0) return;
    let i = 0;
    while (vec.isValid(i)) i++;
    throw badFile(
      `${this.path}: column ${JSON.stringify(name)} has a null in row ${this.done + Math.floor(i / per)} (counted from 0); ` +
        `the learner needs a value everywhere: drop or impute the rows with missing values`,
    );
  }

  async read(out: Float64Array, maxRows: number): Promise<number> {
    this.lastFirst = this.done;
    const W = this.width;
    let r = 0;
    while (r < maxRows && !this.ended) {
      if (this.pos === this.batchRows && !(await this.nextBatch())) {
        this.ended = true;
        break;
      }
      const take = Math.min(maxRows - r, this.batchRows - this.pos);
      for (const c of this.batch) {
        const { values, width: w, offset } = c;
        const from = this.pos * w;
        if (typeof values[0] === 'bigint') {
          for (let i = 0; i < take; i++) for (let j = 0; j < w; j++) out[(r + i) * W + offset + j] = Number(values[from + i * w + j]);
        } else {
          const v = values as ArrayLike<number>;
          for (let i = 0; i < take; i++) for (let j = 0; j < w; j++) out[(r + i) * W + offset + j] = v[from + i * w + j]!;
        }
      }
      r += take;
      this.pos += take;
      this.done += take;
    }
    return r;
  }

  async countRest(): Promise<number> {
    let rest = this.batchRows - this.pos;
    while (await this.nextBatch()) rest += this.batchRows;
    this.ended = true;
    return rest;
  }

  where(row: number): string {
    return ` in ${this.path} row ${this.lastFirst + row}`;
  }

  async close(): Promise<void> {
    await this.reader.cancel?.().catch(() => undefined);
    await this.fh.close().catch(() => undefined);
  }
}
