/**
 * Parquet files, streamed page by page.
 *
 * hyparquet (loaded only when a Parquet file is given) parses the footer, the page headers
 * and decodes each page's levels and values (every encoding and, with hyparquet-compressors,
 * every codec: snappy, gzip, zstd, brotli, lz4). Its row reader is not used: it assembles each
 * value into JS arrays through the Dremel algorithm (slow and memory-hungry for numeric columns:
 * README, design notes), while the learner wants numbers written straight into a row-major
 * Float64Array. So this file walks each chosen column's pages
 * itself and writes value j of row r of a column at out[r·width + offset + j]. Version-1 plain
 * pages, snappy or uncompressed — what DuckDB, pyarrow and Spark write for floats — stream
 * through small windows (pageStream.ts); other pages are read and decoded whole, one page per
 * column in memory.
 *
 * Columns: a top-level leaf of type DOUBLE, FLOAT, INT32 or INT64 (plain integers only: not
 * DECIMAL, DATE, TIME or TIMESTAMP), or a LIST of such leaves whose rows all have the length of
 * the first row (what DuckDB's DOUBLE[d], pyarrow's fixed_size_list and Spark's arrays become).
 * A null anywhere in a chosen column is an error naming the column and the row.
 */
import type { ColumnChunk, Compressors, DecodedArray, FileMetaData, PageHeader, SchemaTree } from 'hyparquet';
import { PureneuronError } from '../../errors.js';
import { badFile, openRegularFile, readAt, refName, type ByteFile, type FileRef } from '../blocks.js';
import type { RowReader } from '../spec.js';
import type { TableColumn } from './columns.js';
import { firstBelowEncoded, RawPage, SnappyPage, StreamBuffers, type PageBytes } from './pageStream.js';

type Hyparquet = typeof import('hyparquet') & typeof import('hyparquet/src/column.js') & typeof import('hyparquet/src/datapage.js') & typeof import('hyparquet/src/plain.js') & typeof import('hyparquet/src/schema.js') & typeof import('hyparquet/src/encoding.js');
type ColumnDecoder = Parameters<Hyparquet['readDataPage']>[2];

let loaded: Promise<{ hp: Hyparquet; compressors: Compressors }> | undefined;
/** hyparquet and its codecs, imported on first use (the core never loads them). */
function load(): Promise<{ hp: Hyparquet; compressors: Compressors }> {
  loaded ??= (async () => {
    const [main, column, datapage, plain, schema, encoding, codecs] = await Promise.all([
      import('hyparquet'),
      import('hyparquet/src/column.js'),
      import('hyparquet/src/datapage.js'),
      import('hyparquet/src/plain.js'),
      import('hyparquet/src/schema.js'),
      import('hyparquet/src/encoding.js'),
      import('hyparquet-compressors'),
    ]);
    return { hp: { ...main, ...column, ...datapage, ...plain, ...schema, ...encoding }, compressors: codecs.compressors };
  })();
  return loaded;
}

const NUMERIC = new Set(['DOUBLE', 'FLOAT', 'INT32', 'INT64']);
const INTEGER_CONVERTED = new Set(['INT_8', 'INT_16', 'INT_32', 'INT_64', 'UINT_8', 'UINT_16', 'UINT_32', 'UINT_64']);

/** Why a leaf cannot be read as numbers, or undefined when it can. */
function leafProblem(leaf: SchemaTree): string | undefined {
  const e = leaf.element;
  const logical = e.logical_type?.type;
  if (!e.type || !NUMERIC.has(e.type)) {
    const what = logical === 'STRING' || e.converted_type === 'UTF8' ? 'text' : logical === 'FLOAT16' ? 'float16' : (e.type ?? 'a group').toLowerCase();
    return `${what} (Parquet ${e.type ?? 'group'}${e.converted_type ? ` ${e.converted_type}` : ''})`;
  }
  if ((logical !== undefined && logical !== 'INTEGER') || (e.converted_type !== undefined && !INTEGER_CONVERTED.has(e.converted_type))) {
    return `${(logical ?? e.converted_type)!.toLowerCase()} (Parquet ${e.type} ${logical ?? e.converted_type})`;
  }
  return undefined;
}

/** A chosen column: where its leaf is in the schema and in each row group. */
interface LeafColumn {
  column: TableColumn;
  schemaPath: SchemaTree[];
  /** Index of the leaf's chunk in each row group's columns. */
  chunkIndex: number;
  /** Whether rows are lists (repetition levels present). */
  list: boolean;
}

/** The parsed footer and the top-level columns of a Parquet file. */
export class ParquetTable {
  readonly path: string;
  private constructor(
    private readonly ref: FileRef,
    readonly size: number,
    readonly metadata: FileMetaData,
    readonly columns: TableColumn[],
    private readonly leaves: (LeafColumn | undefined)[],
    private readonly hp: Hyparquet,
    private readonly compressors: Compressors,
  ) {
    this.path = refName(ref);
  }

  get n(): number {
    return Number(this.metadata.num_rows);
  }

  static async open(ref: FileRef): Promise<ParquetTable> {
    const path = refName(ref);
    const { hp, compressors } = await load();
    const { fh, size } = await openRegularFile(ref);
    let metadata: FileMetaData;
    try {
      if (size < 12) throw badFile(`${path} is not a Parquet file: ${size} bytes is too short`);
      const tail = new Uint8Array(8);
      await readExactly(fh, path, tail, size - 8);
      const magic = String.fromCharCode(...tail.subarray(4));
      if (magic !== 'PAR1') throw badFile(`${path} is not a Parquet file (it does not end with PAR1${magic.startsWith('PAR') ? '' : '; truncated or another format'})`);
      const metaLength = new DataView(tail.buffer).getUint32(0, true);
      if (metaLength + 12 > size) throw badFile(`${path} is damaged: its footer claims ${metaLength} bytes of metadata in a ${size}-byte file`);
      const footer = new Uint8Array(metaLength + 8);
      await readExactly(fh, path, footer, size - 8 - metaLength);
      try {
        metadata = hp.parquetMetadata(footer);
      } catch (e) {
        throw badFile(`${path} is damaged: cannot parse its Parquet metadata (${(e as Error).message})`, e);
      }
    } finally {
      await fh.close().catch(() => undefined);
    }
    const schema = hp.parquetSchema(metadata);
    const chunkOf = new Map<string, number>();
    metadata.row_groups[0]?.columns.forEach((c, i) => chunkOf.set(c.meta_data?.path_in_schema.join('\u0000') ?? '', i));
    const columns: TableColumn[] = [];
    const leaves: (LeafColumn | undefined)[] = [];
    for (const top of schema.children) {
      const { column, leaf } = describe(top, schema, chunkOf, hp);
      columns.push(column);
      leaves.push(leaf);
    }
    return new ParquetTable(ref, size, metadata, columns, leaves, hp, compressors);
  }

  /**
   * The width of chosen list columns: values per row from the metadata when every row group
   * gives the same whole number (each row then has that length, or reading finds the row that
   * does not); otherwise the length of the first row, read from the first page.
   */
  async probeWidths(chosen: readonly number[]): Promise<void> {
    for (const i of chosen) {
      const leaf = this.leaves[i];
      if (!leaf || leaf.column.width !== undefined) continue;
      const ratios = new Set(
        this.metadata.row_groups.filter((g) => Number(g.num_rows) > 0).map((g) => Number(g.columns[leaf.chunkIndex]?.meta_data?.num_values ?? -1) / Number(g.num_rows)),
      );
      const [ratio] = ratios;
      if (ratios.size === 1 && Number.isInteger(ratio) && ratio! > 0) {
        leaf.column.width = ratio;
        continue;
      }
      const fh = (await openRegularFile(this.ref)).fh;
      try {
        const cursor = this.cursor(fh, leaf, 0, 0, 0);
        leaf.column.width = await cursor.firstRowLength();
      } finally {
        await fh.close().catch(() => undefined);
      }
    }
  }

  /** A reader of the chosen columns' rows (row-major, the columns side by side in the given order). */
  async reader(chosen: readonly number[]): Promise<RowReader> {
    const { fh } = await openRegularFile(this.ref);
    return new ParquetRows(this, fh, chosen.map((i) => this.leaves[i]!));
  }

  /** @internal A cursor over one column's chunk in row group `group`, writing at `offset` of each row. */
  cursor(fh: ByteFile, leaf: LeafColumn, group: number, offset: number, firstRow: number, buffers = new ColumnBuffers()): ColumnCursor {
    const chunk = this.metadata.row_groups[group]!.columns[leaf.chunkIndex]!;
    return new ColumnCursor(this, fh, chunk, leaf, offset, this.hp, this.compressors, firstRow, buffers);
  }
}

/** The TableColumn and (when numeric) the leaf of one top-level schema node. */
function describe(top: SchemaTree, root: SchemaTree, chunkOf: Map<string, number>, hp: Hyparquet): { column: TableColumn; leaf?: LeafColumn } {
  const name = top.element.name;
  const leafOf = (node: SchemaTree, list: boolean): { column: TableColumn; leaf?: LeafColumn } => {
    const problem = leafProblem(node);
    if (problem !== undefined) return { column: { name, width: 1, unsupported: list ? `a list of ${problem}` : problem } };
    const index = chunkOf.get(node.path.join('\u0000'));
    if (index === undefined) return { column: { name, width: 1, unsupported: 'absent from the row groups' } };
    // A list's width is the length of its first row, probed once the column is chosen.
    const column: TableColumn = { name, width: list ? undefined : 1 };
    return { column, leaf: { column, schemaPath: hp.getTreePath(root, node.path), chunkIndex: index, list } };
  };
  // A repeated leaf is the legacy two-level list encoding.
  if (top.children.length === 0) return leafOf(top, top.element.repetition_type === 'REPEATED');
  // LIST → repeated group → one leaf (the three-level encoding), or LIST → repeated leaf.
  const isList = top.element.converted_type === 'LIST' || top.element.logical_type?.type === 'LIST';
  if (isList && top.children.length === 1) {
    const rep = top.children[0]!;
    if (rep.children.length === 0) return leafOf(rep, true);
    if (rep.children.length === 1 && rep.children[0]!.children.length === 0) return leafOf(rep.children[0]!, true);
  }
  return { column: { name, width: 1, unsupported: isList ? 'a nested list' : top.element.converted_type === 'MAP' ? 'a map' : 'a struct (group)' } };
}

async function readExactly(fh: ByteFile, path: string, out: Uint8Array, position: number): Promise<void> {
  const got = await readAt(fh, path, out, position);
  if (got < out.length) throw badFile(`${path} is truncated: it ended at byte ${position + got} inside a Parquet structure`);
}

/** Bytes read for a page header (a page decoded whole is read whole, even when larger). */
const READ_BYTES = 64 << 10;
/** Values decoded per step from a streamed page. */
const STREAM_VALUES = 8192;

/**
 * One column's working memory, kept from page to page and row group to row group: DuckDB
 * writes a row group's column as one page (tens of MB for a list column), and fresh buffers per
 * page — the compressed bytes, the page, the levels, an aligned copy of the values — were
 * garbage the collector let pile up. A page's views are dropped before the next page is read
 * into the same buffers.
 */
export class ColumnBuffers {
  raw = new Uint8Array(0);
  /** Decompressed page, with 8 bytes of slack to move the values to an 8-byte boundary. */
  page = new Uint8Array(0);
  reps = new Uint8Array(0);
  values = new Float64Array(0);
  /** Streamed pages: a file piece and the snappy window, and the level bytes. */
  stream: StreamBuffers | undefined;
  levels = new Uint8Array(0);

  static grow<T extends Uint8Array | Float64Array>(a: T, n: number, make: (n: number) => T): T {
    // A little slack: pages of one column differ by a few bytes.
    return a.length >= n ? a : make(Math.ceil(n * 1.0625));
  }
}

/**
 * One column's chunk in one row group, page by page. Holds the current page's values as
 * float64 (a view of the decoded page, or a converted copy) and, for list columns, its
 * repetition levels; `elem` is the position inside the current row and survives page breaks
 * (a version-1 data page may end inside a row).
 */
class ColumnCursor {
  private pos: number;
  private readonly end: number;
  private buf = new Uint8Array(0);
  private bufStart = 0;
  private dict: Float64Array | undefined;
  private vals: Float64Array = new Float64Array(0);
  private reps: ArrayLike<number> = [];
  private vi = 0;
  /** Index in the page of vals[0] (a streamed page's values come in steps). */
  private valBase = 0;
  /** Values in the current page, and those of a streamed page not yet decoded. */
  private pageValues = 0;
  private streamLeft = 0;
  private stream: PageBytes | undefined;
  private elem = 0;
  /** Rows begun in this chunk before the current page (for messages). */
  private rowsBefore = 0;
  private readonly decoder: ColumnDecoder;
  private readonly maxDef: number;
  private readonly maxRep: number;

  constructor(
    private readonly table: ParquetTable,
    private readonly fh: ByteFile,
    chunk: ColumnChunk,
    private readonly leaf: LeafColumn,
    private readonly offset: number,
    private readonly hp: Hyparquet,
    compressors: Compressors,
    /** Index in the file of this row group's first row (for messages). */
    private readonly firstRow: number,
    private readonly bufs: ColumnBuffers,
  ) {
    const meta = chunk.meta_data;
    if (!meta) throw badFile(`${table.path}: column ${JSON.stringify(leaf.column.name)} has no metadata in its row group`);
    this.pos = Number(meta.dictionary_page_offset ?? meta.data_page_offset);
    this.end = this.pos + Number(meta.total_compressed_size);
    if (this.end > table.size) throw badFile(`${table.path} is truncated: column ${JSON.stringify(leaf.column.name)} ends at byte ${this.end} of ${table.size}`);
    const element = leaf.schemaPath[leaf.schemaPath.length - 1]!.element;
    this.maxDef = hp.getMaxDefinitionLevel(leaf.schemaPath);
    this.maxRep = hp.getMaxRepetitionLevel(leaf.schemaPath);
    this.decoder = { pathInSchema: meta.path_in_schema, type: meta.type, element, schemaPath: leaf.schemaPath, codec: meta.codec, parsers: {} as ColumnDecoder['parsers'], compressors };
  }

  private get name(): string {
    return JSON.stringify(this.leaf.column.name);
  }

  /** Makes buf hold bytes [start, start + length) of the file. */
  private async ensure(start: number, length: number): Promise<void> {
    if (start >= this.bufStart && start + length <= this.bufStart + this.buf.length) return;
    const size = Math.min(Math.max(length, READ_BYTES), this.end - start);
    const bufs = this.bufs;
    bufs.raw = ColumnBuffers.grow(bufs.raw, size, (m) => new Uint8Array(m));
    this.buf = bufs.raw.subarray(0, size);
    this.bufStart = start;
    await readExactly(this.fh, this.table.path, this.buf, start);
  }

  /** The page's bytes decompressed: snappy into the column's page buffer (hyparquet's decoder writes into a given array), other codecs as their decoders return them. */
  private decompress(bytes: Uint8Array, size: number): Uint8Array {
    const codec = this.decoder.codec;
    if (codec === 'UNCOMPRESSED') return bytes;
    if (codec !== 'SNAPPY') return this.hp.decompressPage(bytes, size, codec, this.decoder.compressors);
    const bufs = this.bufs;
    bufs.page = ColumnBuffers.grow(bufs.page, size + 8, (m) => new Uint8Array(m));
    const page = bufs.page.subarray(0, size);
    this.hp.snappyUncompress(bytes, page);
    return page;
  }

  private damaged(e: unknown): PureneuronError {
    if (e instanceof PureneuronError) return e;
    return badFile(`${this.table.path} is damaged: cannot decode column ${this.name} near row ${this.firstRow + this.rowsBefore} (${(e as Error)?.message ?? String(e)})`, e);
  }

  /** Reads pages up to the next data page and makes its values current. */
  private async nextPage(): Promise<void> {
    const { hp } = this;
    // The current page is done with: count its rows, drop its views of the reused buffers.
    this.rowsBefore += this.leaf.list ? countZeros(this.reps) : this.pageValues;
    this.reps = [];
    this.vals = new Float64Array(0);
    this.valBase = 0;
    this.pageValues = 0;
    this.stream = undefined;
    for (;;) {
      if (this.pos >= this.end) throw badFile(`${this.table.path} is damaged: column ${this.name} has fewer values than its row group has rows (row ${this.firstRow + this.rowsBefore})`);
      await this.ensure(this.pos, Math.min(READ_BYTES, this.end - this.pos));
      let header: PageHeader;
      const reader = { view: new DataView(this.buf.buffer, this.buf.byteOffset + this.pos - this.bufStart, this.bufStart + this.buf.length - this.pos), offset: 0 };
      try {
        header = hp.parquetHeader(reader);
      } catch (e) {
        throw this.damaged(e);
      }
      const start = this.pos + reader.offset;
      const size = header.compressed_page_size;
      if (start + size > this.end) throw this.damaged(new Error(`a page runs past the column chunk's end`));
      if (this.streams(header)) {
        this.pos = start + size;
        try {
          return await this.openStream(header.data_page_header!.num_values, start, start + size);
        } catch (e) {
          throw this.damaged(e);
        }
      }
      await this.ensure(start, size);
      const bytes = this.buf.subarray(start - this.bufStart, start - this.bufStart + size);
      this.pos = start + size;
      try {
        if (header.type === 'DICTIONARY_PAGE') {
          const page = this.decompress(bytes, Number(header.uncompressed_page_size));
          const view = { view: new DataView(page.buffer, page.byteOffset, page.byteLength), offset: 0 };
          // A copy: the page's buffers are reused by the data pages.
          const dict = hp.readPlain(view, this.decoder.type, header.dictionary_page_header!.num_values, undefined) as ArrayLike<number | bigint>;
          this.dict = Float64Array.from(dict, Number);
          continue;
        }
        let decoded: DecodedPage;
        if (header.type === 'DATA_PAGE') {
          decoded = this.decodeV1(this.decompress(bytes, Number(header.uncompressed_page_size)), header.data_page_header!);
        } else if (header.type === 'DATA_PAGE_V2') {
          const d = hp.readDataPageV2(bytes, header, this.decoder);
          decoded = { reps: d.repetitionLevels, firstNull: firstBelow(d.definitionLevels ?? [], this.maxDef), values: d.dataPage, encoding: header.data_page_header_v2!.encoding };
        } else continue; // index pages carry no values
        const { reps, firstNull, values: dataPage, encoding } = decoded;
        if (firstNull >= 0) throw this.nullAt(firstNull, reps);
        const dictionary = encoding.endsWith('DICTIONARY');
        if (dictionary && !this.dict) throw new Error('a dictionary-encoded page without a dictionary page');
        this.vals = dictionary ? this.lookUp(dataPage, this.dict!) : dataPage instanceof Float64Array ? dataPage : this.converted(dataPage);
        this.reps = reps;
        this.vi = 0;
        this.pageValues = this.vals.length;
        return;
      } catch (e) {
        throw this.damaged(e);
      }
    }
  }

  /** Whether a page is decoded as it is consumed (pageStream.ts): version-1 plain pages, snappy or uncompressed. */
  private streams(header: PageHeader): boolean {
    const codec = this.decoder.codec;
    return header.type === 'DATA_PAGE' && header.data_page_header!.encoding === 'PLAIN' && (codec === 'SNAPPY' || codec === 'UNCOMPRESSED') && VALUE_BYTES[this.decoder.type] !== undefined;
  }

  /** Starts a streamed page: its levels now (they lead the page), its values step by step (nextValues). */
  private async openStream(n: number, start: number, end: number): Promise<void> {
    const bufs = this.bufs;
    bufs.stream ??= new StreamBuffers();
    this.stream = this.decoder.codec === 'SNAPPY' ? new SnappyPage(this.fh, this.table.path, start, end, bufs.stream) : new RawPage(this.fh, this.table.path, start, end, bufs.stream);
    /** Version-1 levels: a 4-byte length, then the RLE / bit-packed hybrid; their bytes (valid until the next call). */
    const levelBytes = async (): Promise<Uint8Array> => {
      const head = new Uint8Array(4);
      await this.stream!.readInto(head);
      const length = new DataView(head.buffer).getUint32(0, true);
      bufs.levels = ColumnBuffers.grow(bufs.levels, length, (m) => new Uint8Array(m));
      const bytes = bufs.levels.subarray(0, length);
      await this.stream!.readInto(bytes);
      return bytes;
    };
    const reps = this.repLevels(n, this.leaf.list ? await levelBytes() : undefined);
    const firstNull = this.maxDef > 0 ? this.firstNull(n, await levelBytes()) : -1;
    if (firstNull >= 0) throw this.nullAt(firstNull, reps);
    this.reps = reps;
    this.pageValues = n;
    this.streamLeft = n;
    this.valBase = 0;
    this.vals = new Float64Array(0);
    await this.nextValues();
  }

  /** The next step of a streamed page's values into the column's values buffer. */
  private async nextValues(): Promise<void> {
    const bufs = this.bufs;
    const m = Math.min(STREAM_VALUES, this.streamLeft);
    const size = VALUE_BYTES[this.decoder.type]!;
    bufs.values = ColumnBuffers.grow(bufs.values, STREAM_VALUES, (k) => new Float64Array(k));
    this.valBase += this.vals.length;
    const vals = bufs.values.subarray(0, m);
    // Doubles go straight into the float64 buffer (little-endian hosts: every platform Node ships
    // on); narrower values into its tail, then widened front to back (reads stay ahead of writes).
    const bytes = new Uint8Array(bufs.values.buffer, size === 8 ? 0 : 8 * m - size * m, size * m);
    await this.stream!.readInto(bytes);
    if (this.decoder.type !== 'DOUBLE') {
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const t = this.decoder.type;
      for (let i = 0; i < m; i++) vals[i] = t === 'FLOAT' ? dv.getFloat32(4 * i, true) : t === 'INT32' ? dv.getInt32(4 * i, true) : Number(dv.getBigInt64(8 * i, true));
    }
    this.vals = vals;
    this.vi = 0;
    this.streamLeft -= m;
  }

  private nullAt(i: number, reps: ArrayLike<number>): PureneuronError {
    return badFile(
      `${this.table.path}: column ${this.name} has a ${this.leaf.list ? 'null or missing element' : 'null'} in row ${this.rowOf(i, reps)} (counted from 0); ` +
        `the learner needs a value everywhere: drop or impute the rows with missing values`,
    );
  }

  /**
   * The repetition levels of a version-1 page (a list column's) decoded from their bytes into the
   * column's buffer as bytes — hyparquet's page reader writes them into plain JS arrays, 8 bytes
   * a level, and a 32-wide list row group of DuckDB's is one 4-million-value page; none (empty)
   * for a flat column.
   */
  private repLevels(n: number, bytes: Uint8Array | undefined): Uint8Array {
    if (!bytes) return new Uint8Array(0);
    this.bufs.reps = ColumnBuffers.grow(this.bufs.reps, n, (m) => new Uint8Array(m));
    const reps = this.bufs.reps.subarray(0, n);
    this.hp.readRleBitPackedHybrid({ view: new DataView(bytes.buffer, bytes.byteOffset, bytes.length), offset: 0 }, bitWidth(this.maxRep), reps, bytes.length);
    return reps;
  }

  /** The first of n values that is null, from the encoded definition levels (not written out), or −1. */
  private firstNull(n: number, defBytes: Uint8Array): number {
    return firstBelowEncoded(defBytes, bitWidth(this.maxDef), n, this.maxDef);
  }

  /**
   * A version-1 data page's levels and values. Encodings other than plain, dictionary and
   * byte-stream-split go to hyparquet's page reader.
   */
  private decodeV1(page: Uint8Array, daph: NonNullable<PageHeader['data_page_header']>): DecodedPage {
    const { hp } = this;
    const n = daph.num_values;
    if (!FAST_ENCODINGS.has(daph.encoding)) {
      const d = hp.readDataPage(page, daph, this.decoder);
      return { reps: d.repetitionLevels, firstNull: firstBelow(d.definitionLevels ?? [], this.maxDef), values: d.dataPage, encoding: daph.encoding };
    }
    const reader = { view: new DataView(page.buffer, page.byteOffset, page.byteLength), offset: 0 };
    /** Version-1 levels: a 4-byte length, then the RLE / bit-packed hybrid; their bytes. */
    const levelBytes = (): Uint8Array => {
      const length = reader.view.getUint32(reader.offset, true);
      const bytes = page.subarray(reader.offset + 4, reader.offset + 4 + length);
      reader.offset += 4 + length;
      return bytes;
    };
    const reps = this.repLevels(n, this.leaf.list ? levelBytes() : undefined);
    const firstNull = this.maxDef > 0 ? this.firstNull(n, levelBytes()) : -1;
    if (firstNull >= 0) return { reps, firstNull, values: new Float64Array(0), encoding: daph.encoding };
    let values: DecodedArray;
    if (daph.encoding === 'PLAIN' && this.decoder.type === 'DOUBLE') values = this.doubles(page, reader.offset, n);
    else if (daph.encoding === 'PLAIN') values = hp.readPlain(reader, this.decoder.type, n, undefined);
    else if (daph.encoding === 'BYTE_STREAM_SPLIT') values = hp.byteStreamSplit(reader, n, this.decoder.type, undefined);
    else {
      const width = reader.view.getUint8(reader.offset++);
      values = new Uint32Array(n);
      if (width > 0) hp.readRleBitPackedHybrid(reader, width, values, page.byteLength - reader.offset);
    }
    return { reps, firstNull, values, encoding: daph.encoding };
  }

  /**
   * n plain doubles at page[offset …] as a Float64Array without a new allocation: a view when
   * 8-byte aligned; in the column's page buffer, moved to the next boundary (its 8 bytes of
   * slack); otherwise copied into the column's values buffer.
   */
  private doubles(page: Uint8Array, offset: number, n: number): Float64Array {
    const at = page.byteOffset + offset;
    if (at + 8 * n > page.byteOffset + page.length) throw new Error(`the page holds fewer than its ${n} values`);
    if (at % 8 === 0) return new Float64Array(page.buffer, at, n);
    const bufs = this.bufs;
    if (page.buffer === bufs.page.buffer) {
      const to = Math.ceil(at / 8) * 8;
      bufs.page.copyWithin(to, at, at + 8 * n);
      return new Float64Array(bufs.page.buffer, to, n);
    }
    bufs.values = ColumnBuffers.grow(bufs.values, n, (m) => new Float64Array(m));
    new Uint8Array(bufs.values.buffer, 0, 8 * n).set(page.subarray(offset, offset + 8 * n));
    return bufs.values.subarray(0, n);
  }

  /** Values of another type as float64, in the column's values buffer. */
  private converted(a: DecodedArray): Float64Array {
    const bufs = this.bufs;
    bufs.values = ColumnBuffers.grow(bufs.values, a.length, (m) => new Float64Array(m));
    const out = bufs.values.subarray(0, a.length);
    for (let i = 0; i < a.length; i++) out[i] = Number((a as ArrayLike<number | bigint>)[i]);
    return out;
  }

  private lookUp(indices: DecodedArray, dict: Float64Array): Float64Array {
    const bufs = this.bufs;
    bufs.values = ColumnBuffers.grow(bufs.values, indices.length, (m) => new Float64Array(m));
    const out = bufs.values.subarray(0, indices.length);
    for (let i = 0; i < indices.length; i++) {
      const v = dict[(indices as ArrayLike<number>)[i]!];
      if (v === undefined) throw new Error(`dictionary index ${String((indices as ArrayLike<number>)[i])} out of range`);
      out[i] = v;
    }
    return out;
  }

  /** The file row of value i of the current page (reps: its repetition levels, for lists). */
  private rowOf(i: number, reps: ArrayLike<number>): number {
    // rowsBefore counts rows begun before this page; a list row begun there and continued here is rowsBefore − 1.
    return this.firstRow + this.rowsBefore + (this.leaf.list ? countZeros(reps, i + 1) - 1 : i);
  }

  /** The length of the chunk's first row (list columns). */
  async firstRowLength(): Promise<number> {
    await this.nextPage();
    let n = 0;
    for (let first = true; ; first = false) {
      const reps = this.reps;
      for (let i = first ? 1 : 0; i < reps.length; i++) if (reps[i] === 0) return n + i;
      n += reps.length;
      if (this.pos >= this.end) return n;
      await this.nextPage();
    }
  }

  /** Writes rows r0 … r0 + rows − 1 of out (row stride `stride`) at this column's offset. */
  async take(out: Float64Array, stride: number, r0: number, rows: number): Promise<void> {
    const w = this.leaf.column.width!;
    const off = this.offset;
    let r = r0;
    const rEnd = r0 + rows;
    while (r < rEnd) {
      if (this.vi >= this.vals.length) {
        if (this.streamLeft > 0) {
          try {
            await this.nextValues();
          } catch (e) {
            throw this.damaged(e);
          }
        } else await this.nextPage();
      }
      const vals = this.vals;
      let vi = this.vi;
      if (!this.leaf.list) {
        const n = Math.min(rEnd - r, vals.length - vi);
        for (let i = 0; i < n; i++) out[(r + i) * stride + off] = vals[vi + i]!;
        r += n;
        vi += n;
      } else {
        // Row starts carry repetition level 0, every other value a level > 0.
        // reps covers the page; vals starts at value valBase of it.
        const reps = this.reps;
        const base = this.valBase;
        let elem = this.elem;
        // Whole rows in this step: check a row's levels (0, then w − 1 nonzero), then copy it.
        if (elem === 0) {
          for (; r < rEnd && vi + w <= vals.length; r++, vi += w) {
            if (reps[base + vi] !== 0) throw this.badLength(0, base + vi);
            for (let j = 1; j < w; j++) if (reps[base + vi + j] === 0) throw this.badLength(j, base + vi + j);
            const o = r * stride + off;
            for (let j = 0; j < w; j++) out[o + j] = vals[vi + j]!;
          }
        }
        while (r < rEnd && vi < vals.length) {
          if ((reps[base + vi] === 0) !== (elem === 0)) throw this.badLength(elem, base + vi);
          out[r * stride + off + elem] = vals[vi]!;
          vi++;
          if (++elem === w) {
            elem = 0;
            r++;
          }
        }
        this.elem = elem;
      }
      this.vi = vi;
    }
  }

  /** A list row whose length differs from the first row's, found at value vi of the current page (counted from the page's start). */
  private badLength(elem: number, vi: number): PureneuronError {
    const w = this.leaf.column.width!;
    return badFile(
      `${this.table.path}: column ${this.name} has ${elem === 0 ? `more than ${w}` : `${elem}`} values in row ${this.rowOf(vi - 1, this.reps)} (counted from 0) but ${w} in its first row; ` +
        `a list column is learned from only when every row has the same length`,
    );
  }
}

/** A data page's repetition levels (lists), its first null (−1: none) and its values as stored. */
interface DecodedPage {
  reps: ArrayLike<number>;
  firstNull: number;
  values: DecodedArray;
  encoding: string;
}

const FAST_ENCODINGS = new Set(['PLAIN', 'PLAIN_DICTIONARY', 'RLE_DICTIONARY', 'BYTE_STREAM_SPLIT']);

/** Bytes per plain value of the physical types a page can stream. */
const VALUE_BYTES: Partial<Record<string, number>> = { DOUBLE: 8, FLOAT: 4, INT32: 4, INT64: 8 };

/** Bits of a level up to `max`. */
function bitWidth(max: number): number {
  return 32 - Math.clz32(max);
}

/** Index of the first level below `max` (a null at some depth), or −1. */
function firstBelow(levels: ArrayLike<number>, max: number): number {
  for (let i = 0; i < levels.length; i++) if (levels[i]! < max) return i;
  return -1;
}

/** How many of levels[0 … end) are 0 (row starts of a list column). */
function countZeros(levels: ArrayLike<number>, end = levels.length): number {
  let z = 0;
  for (let i = 0; i < Math.min(end, levels.length); i++) if (levels[i] === 0) z++;
  return z;
}

/** Rows of the chosen columns, row group after row group, each column advanced by its own cursor. */
class ParquetRows implements RowReader {
  private readonly width: number;
  private readonly offsets: number[];
  private group = -1;
  private groupRows = 0;
  private groupDone = 0;
  private groupFirst = 0;
  private cursors: ColumnCursor[] = [];
  private readonly buffers: ColumnBuffers[];
  /** File row of row 0 of the most recent read. */
  private lastFirst = 0;

  constructor(
    private readonly table: ParquetTable,
    private readonly fh: ByteFile,
    private readonly leaves: LeafColumn[],
  ) {
    let o = 0;
    this.offsets = leaves.map((l) => ((o += l.column.width!), o - l.column.width!));
    this.width = o;
    this.buffers = leaves.map(() => new ColumnBuffers());
  }

  private get position(): number {
    return this.groupFirst + this.groupDone;
  }

  /** Moves to the next row group with rows; false after the last. */
  private nextGroup(): boolean {
    const groups = this.table.metadata.row_groups;
    this.groupFirst += this.groupRows;
    while (++this.group < groups.length) {
      this.groupRows = Number(groups[this.group]!.num_rows);
      this.groupDone = 0;
      if (this.groupRows === 0) continue;
      this.cursors = this.leaves.map((l, i) => this.table.cursor(this.fh, l, this.group, this.offsets[i]!, this.groupFirst, this.buffers[i]));
      return true;
    }
    this.groupRows = 0;
    this.groupDone = 0;
    return false;
  }

  async read(out: Float64Array, maxRows: number): Promise<number> {
    this.lastFirst = this.position;
    let r = 0;
    while (r < maxRows) {
      if (this.groupDone === this.groupRows && !this.nextGroup()) break;
      const take = Math.min(maxRows - r, this.groupRows - this.groupDone);
      // The columns write disjoint entries of each row: their reads overlap.
      await Promise.all(this.cursors.map((c) => c.take(out, this.width, r, take)));
      r += take;
      this.groupDone += take;
    }
    return r;
  }

  async countRest(): Promise<number> {
    return this.table.n - this.position;
  }

  where(row: number): string {
    return ` in ${this.table.path} row ${this.lastFirst + row}`;
  }

  async close(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }
}
