/**
 * Arrow IPC files and streams (Feather v2 is the IPC file format), read record batch by
 * record batch with apache-arrow, loaded only when such a file is given. Compressed bodies
 * (what pyarrow's Feather writer does by default) are decoded by lz4js (LZ4 frame) and fzstd
 * (Zstandard), registered on first use.
 *
 * Columns: Float64, Float32 and integer columns, and FixedSizeList columns of those (a
 * FixedSizeList<Float64>[d] batch's values are one contiguous row-major array). A null in a
 * chosen column is an error naming the column and the row.
 *
 * An IPC file (Feather v2) is read batch by batch from its footer's blocks into one body buffer
 * per reader, reused (apache-arrow's message decoder and VectorLoader make the vectors, views of
 * it): apache-arrow's own reader allocates each body afresh, garbage that piles up between
 * collections (README, design notes, has the measurements). Streams, and files with
 * dictionary-encoded columns, go through apache-arrow's reader.
 */
import type { DataType, RecordBatch, Schema, Vector } from 'apache-arrow';
import { PureneuronError } from '../../errors.js';
import { badFile, openRegularFile, readAt, refName, type ByteFile, type FileRef } from '../blocks.js';
import type { RowReader } from '../spec.js';
import type { TableColumn } from './columns.js';

type Arrow = typeof import('apache-arrow') & { VectorLoader: typeof import('apache-arrow/visitor/vectorloader').VectorLoader };

let loaded: Promise<Arrow> | undefined;
function load(): Promise<Arrow> {
  loaded ??= (async () => {
    const [main, loader, lz4, zstd] = await Promise.all([import('apache-arrow'), import('apache-arrow/visitor/vectorloader'), import('lz4js'), import('fzstd')]);
    const arrow: Arrow = { ...main, VectorLoader: loader.VectorLoader };
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

async function openReader(A: Arrow, path: string, fh: ByteFile): Promise<Reader> {
  try {
    // A FileHandle, or a Blob's handle with the fd and stat() apache-arrow checks for.
    const r = (await A.RecordBatchReader.from(fh as never)) as unknown as Reader;
    await r.open();
    if (!r.schema) throw new Error('no schema message');
    return r;
  } catch (e) {
    throw badFile(`${path} is not a readable Arrow IPC / Feather v2 file (${(e as Error)?.message ?? String(e)})`, e);
  }
}

/** A record batch of an IPC file: where its message is, the message decoded (its header: rows, field nodes, buffer regions), and where its body is. */
interface Block {
  message: BatchMessage;
  bodyOffset: number;
}

/**
 * The record batches of an IPC file: the footer lists them, and each one's message header (a
 * few hundred bytes before its body) holds its row count — read without the bodies, so the rows
 * are known up front and the cache (cacheBytes) takes the file as it takes raw files.
 * Undefined for a stream.
 */
async function fileBlocks(A: Arrow, path: string, fh: ByteFile, r: Reader): Promise<Block[] | undefined> {
  const file = r as unknown as { isFile(): boolean; footer?: { recordBatches(): Iterable<{ offset: number; metaDataLength: number }> } };
  if (!file.isFile() || !file.footer) return undefined;
  const blocks: Block[] = [];
  // Decoded once: every pass reads the bodies only.
  for (const { offset, metaDataLength } of file.footer.recordBatches()) {
    blocks.push({ message: await readMessage(A, path, fh, Number(offset), metaDataLength), bodyOffset: Number(offset) + metaDataLength });
  }
  return blocks;
}

type RecordBatchHeader = import('apache-arrow/ipc/metadata/message').RecordBatch;
/** A decoded record-batch message: its header (rows, field nodes, buffer regions, compression) and body length. */
interface BatchMessage {
  bodyLength: number | bigint;
  header(): RecordBatchHeader;
}

/** The record-batch message at `offset` (metaDataLength bytes: the continuation marker and length, then the flatbuffer). */
async function readMessage(A: Arrow, path: string, fh: ByteFile, offset: number, metaDataLength: number): Promise<BatchMessage> {
  const buf = new Uint8Array(metaDataLength);
  try {
    if ((await readAt(fh, path, buf, offset)) !== buf.length) throw new Error('the file ends inside a batch header');
    // A message starts with 0xFFFFFFFF and its length (older files: the length alone).
    const skip = new DataView(buf.buffer).getInt32(0, true) === -1 ? 8 : 4;
    const m = A.Message.decode(buf.subarray(skip));
    if (!m.isRecordBatch()) throw new Error('a footer block is not a record batch');
    return m as unknown as BatchMessage;
  } catch (e) {
    throw badFile(`${path} is damaged: cannot read the header of a record batch (${(e as Error)?.message ?? String(e)})`, e);
  }
}

/** What ArrowRows needs of a batch. */
interface Batch {
  numRows: number;
  getChildAt(i: number): Vector | null;
}

/** Record batches in order; undefined after the last. */
type Batches = () => Promise<Batch | undefined>;

/** The batches of an IPC file read by apache-arrow's reader (streams, dictionary-encoded files). */
function readerBatches(r: Reader): Batches {
  return async () => {
    const next = await r.next();
    return next.done ? undefined : next.value;
  };
}

/**
 * The batches of an IPC file, each body read into one reused buffer and turned into vectors
 * (views of it) by apache-arrow's VectorLoader; a compressed body's buffers are decompressed
 * one by one (each to its own array, as apache-arrow does).
 */
function blockBatches(A: Arrow, path: string, fh: ByteFile, schema: Schema, blocks: Block[]): Batches {
  let i = 0;
  let body = new Uint8Array(0);
  return async () => {
    if (i >= blocks.length) return undefined;
    const { message, bodyOffset } = blocks[i++]!;
    const length = Number(message.bodyLength);
    // 8-byte aligned: the vectors are typed-array views of it at the buffers' offsets.
    if (body.length < length) body = new Uint8Array(Math.ceil(length * 1.0625));
    const bytes = body.subarray(0, length);
    if ((await readAt(fh, path, bytes, bodyOffset)) !== length) throw new Error(`the file ends inside record batch ${i - 1}`);
    const header = message.header();
    let data: Uint8Array = bytes;
    let buffers: { offset: number; length: number }[] = header.buffers;
    if (header.compression != null) ({ data, buffers } = decompress(A, header, bytes));
    const children = new A.VectorLoader(data, header.nodes, buffers as never, new Map(), schema.metadataVersion, header.variadicBufferCounts).visitMany(schema.fields);
    return { numRows: Number(header.length), getChildAt: (c: number) => (children[c] ? A.makeVector(children[c]!) : null) };
  };
}

/** A compressed body's buffers (each an int64 uncompressed length, −1 for stored, then the codec's frame), decompressed into one aligned body. */
function decompress(A: Arrow, header: RecordBatchHeader, body: Uint8Array): { data: Uint8Array; buffers: { offset: number; length: number }[] } {
  const codec = A.compressionRegistry.get(header.compression!.type);
  if (!codec?.decode) throw new Error('record batch is compressed with an unsupported codec');
  const parts: Uint8Array[] = [];
  const buffers: { offset: number; length: number }[] = [];
  let at = 0;
  for (const { offset, length } of header.buffers) {
    const raw = body.subarray(offset, offset + length);
    const part = length === 0 ? raw : Number(new DataView(raw.buffer, raw.byteOffset, 8).getBigInt64(0, true)) === -1 ? raw.subarray(8) : codec.decode(raw.subarray(8));
    at = (at + 7) & ~7;
    buffers.push({ offset: at, length: part.length });
    parts.push(part);
    at += part.length;
  }
  const data = new Uint8Array(at);
  parts.forEach((p, k) => data.set(p, buffers[k]!.offset));
  return { data, buffers };
}

export class ArrowTable {
  readonly path: string;
  private constructor(
    private readonly ref: FileRef,
    readonly columns: TableColumn[],
    private readonly schema: Schema,
    /** An IPC file's record batches (undefined for a stream). */
    private readonly blocks: Block[] | undefined,
    private readonly A: Arrow,
  ) {
    this.path = refName(ref);
  }

  /** Rows of an IPC file, from its batches' headers; a stream's are counted by the first pass. */
  get n(): number | undefined {
    return this.blocks?.reduce((s, b) => s + Number(b.message.header().length), 0);
  }

  static async open(ref: FileRef): Promise<ArrowTable> {
    const path = refName(ref);
    const A = await load();
    const { fh, size } = await openRegularFile(ref);
    try {
      if (size === 0) throw badFile(`${path} is empty`);
      const r = await openReader(A, path, fh);
      return new ArrowTable(ref, describe(A, r.schema.fields), r.schema as unknown as Schema, await fileBlocks(A, path, fh, r), A);
    } finally {
      await fh.close().catch(() => undefined);
    }
  }

  /** Widths come from the schema (FixedSizeList sizes): nothing to probe. */
  async probeWidths(): Promise<void> {}

  async reader(chosen: readonly number[]): Promise<RowReader> {
    const { fh } = await openRegularFile(this.ref);
    try {
      const own = this.blocks !== undefined && this.schema.dictionaries.size === 0;
      const batches = own ? blockBatches(this.A, this.path, fh, this.schema, this.blocks!) : readerBatches(await openReader(this.A, this.path, fh));
      return new ArrowRows(this.path, fh, batches, chosen, this.columns);
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw e;
    }
  }
}

/** One chosen column of the current batch: its values, `width` per row, row-major. */
interface BatchColumn {
  values: Float64Array;
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
    private readonly fh: ByteFile,
    private readonly batches: Batches,
    private readonly chosen: readonly number[],
    private readonly columns: TableColumn[],
  ) {
    this.width = chosen.reduce((s, i) => s + columns[i]!.width!, 0);
  }

  /** Loads the next batch with rows; false at the end. */
  private async nextBatch(): Promise<boolean> {
    for (;;) {
      let b: Batch | undefined;
      try {
        b = await this.batches();
      } catch (e) {
        if (e instanceof PureneuronError) throw e;
        throw badFile(`${this.path} is damaged or truncated after row ${this.done} (${(e as Error)?.message ?? String(e)})`, e);
      }
      if (!b) return false;
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
        // Float64 as is (a view of the batch); other types converted once per batch, so the copy below runs on one array type.
        const bc = { values: values instanceof Float64Array ? values : Float64Array.from(values as ArrayLike<number>, Number), width: column.width!, offset };
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
      for (const { values, width: w, offset } of this.batch) {
        const from = this.pos * w;
        if (w === W) out.set(values.subarray(from, from + take * w), r * W);
        else for (let i = 0; i < take; i++) for (let j = 0; j < w; j++) out[(r + i) * W + offset + j] = values[from + i * w + j]!;
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
    await this.fh.close().catch(() => undefined);
  }
}
