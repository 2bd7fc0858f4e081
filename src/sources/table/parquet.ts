/**
 * Parquet files, streamed page by page.
 *
 * hyparquet (loaded only when a Parquet file is given) parses the footer, the page headers
 * and decodes each page's levels and values (every encoding and, with hyparquet-compressors,
 * every codec: snappy, gzip, zstd, brotli, lz4). Its row reader is not used: it assembles each
 * value into JS arrays through the Dremel algorithm (~0.2 M rows/s for 64 double columns,
 * ~650 MB resident per row group, measured on this machine), while the learner wants numbers
 * written straight into a row-major Float64Array. So this file walks each chosen column's pages
 * itself — one page per column in memory, read from the file as needed — and writes value j of
 * row r of a column at out[r·width + offset + j].
 *
 * Columns: a top-level leaf of type DOUBLE, FLOAT, INT32 or INT64 (plain integers only: not
 * DECIMAL, DATE, TIME or TIMESTAMP), or a LIST of such leaves whose rows all have the length of
 * the first row (what DuckDB's DOUBLE[d], pyarrow's fixed_size_list and Spark's arrays become).
 * A null anywhere in a chosen column is an error naming the column and the row.
 */
import type { FileHandle } from 'node:fs/promises';
import type { ColumnChunk, Compressors, DecodedArray, FileMetaData, PageHeader, SchemaTree } from 'hyparquet';
import { PureneuronError } from '../../errors.js';
import { fileError, openRegularFile } from '../blocks.js';
import type { RowReader } from '../spec.js';
import type { TableColumn } from './columns.js';

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

function badFile(message: string, cause?: unknown): PureneuronError {
  const e = new PureneuronError('BAD_FILE', message);
  if (cause !== undefined) e.cause = cause;
  return e;
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
  private constructor(
    readonly path: string,
    readonly size: number,
    readonly metadata: FileMetaData,
    readonly columns: TableColumn[],
    private readonly leaves: (LeafColumn | undefined)[],
    private readonly hp: Hyparquet,
    private readonly compressors: Compressors,
  ) {}

  get n(): number {
    return Number(this.metadata.num_rows);
  }

  static async open(path: string): Promise<ParquetTable> {
    const { hp, compressors } = await load();
    const { fh, size } = await openRegularFile(path);
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
    return new ParquetTable(path, size, metadata, columns, leaves, hp, compressors);
  }

  /** Learns the width of chosen list columns from the first row. */
  async probeWidths(chosen: readonly number[]): Promise<void> {
    for (const i of chosen) {
      const leaf = this.leaves[i];
      if (!leaf || leaf.column.width !== undefined) continue;
      const fh = (await openRegularFile(this.path)).fh;
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
    const { fh } = await openRegularFile(this.path);
    return new ParquetRows(this, fh, chosen.map((i) => this.leaves[i]!));
  }

  /** @internal A cursor over one column's chunk in row group `group`, writing at `offset` of each row. */
  cursor(fh: FileHandle, leaf: LeafColumn, group: number, offset: number, firstRow: number): ColumnCursor {
    const chunk = this.metadata.row_groups[group]!.columns[leaf.chunkIndex]!;
    return new ColumnCursor(this, fh, chunk, leaf, offset, this.hp, this.compressors, firstRow);
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

async function readExactly(fh: FileHandle, path: string, out: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < out.length) {
    let got: number;
    try {
      ({ bytesRead: got } = await fh.read(out, done, out.length - done, position + done));
    } catch (e) {
      throw fileError(path, e);
    }
    if (got === 0) throw badFile(`${path} is truncated: it ended at byte ${position + done} inside a Parquet structure`);
    done += got;
  }
}

/** Bytes read from the file at a time (a page is read whole even when larger). */
const READ_BYTES = 1 << 20;

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
  private elem = 0;
  /** Rows begun in this chunk before the current page (for messages). */
  private rowsBefore = 0;
  private readonly decoder: ColumnDecoder;
  private readonly maxDef: number;
  private readonly maxRep: number;

  constructor(
    private readonly table: ParquetTable,
    private readonly fh: FileHandle,
    chunk: ColumnChunk,
    private readonly leaf: LeafColumn,
    private readonly offset: number,
    private readonly hp: Hyparquet,
    compressors: Compressors,
    /** Index in the file of this row group's first row (for messages). */
    private readonly firstRow: number,
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
    // A fresh buffer each time: the current page's values may be a view of the old one.
    const buf = new Uint8Array(Math.min(Math.max(length, READ_BYTES), this.end - start));
    await readExactly(this.fh, this.table.path, buf, start);
    this.buf = buf;
    this.bufStart = start;
  }

  private damaged(e: unknown): PureneuronError {
    if (e instanceof PureneuronError) return e;
    return badFile(`${this.table.path} is damaged: cannot decode column ${this.name} near row ${this.firstRow + this.rowsBefore} (${(e as Error)?.message ?? String(e)})`, e);
  }

  /** Reads pages up to the next data page and makes its values current. */
  private async nextPage(): Promise<void> {
    const { hp } = this;
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
      await this.ensure(start, size);
      const bytes = this.buf.subarray(start - this.bufStart, start - this.bufStart + size);
      this.pos = start + size;
      try {
        if (header.type === 'DICTIONARY_PAGE') {
          const page = hp.decompressPage(bytes, Number(header.uncompressed_page_size), this.decoder.codec, this.decoder.compressors);
          const view = { view: new DataView(page.buffer, page.byteOffset, page.byteLength), offset: 0 };
          this.dict = toFloat64(hp.readPlain(view, this.decoder.type, header.dictionary_page_header!.num_values, undefined));
          continue;
        }
        let decoded: DecodedPage;
        if (header.type === 'DATA_PAGE') {
          const page = hp.decompressPage(bytes, Number(header.uncompressed_page_size), this.decoder.codec, this.decoder.compressors);
          decoded = this.decodeV1(page, header.data_page_header!);
        } else if (header.type === 'DATA_PAGE_V2') {
          const d = hp.readDataPageV2(bytes, header, this.decoder);
          decoded = { reps: d.repetitionLevels, firstNull: firstBelow(d.definitionLevels ?? [], this.maxDef), values: d.dataPage, encoding: header.data_page_header_v2!.encoding };
        } else continue; // index pages carry no values
        const { reps, firstNull, values: dataPage, encoding } = decoded;
        this.rowsBefore += this.leaf.list ? countZeros(this.reps) : this.vals.length;
        if (firstNull >= 0) throw this.nullAt(firstNull, reps);
        const dictionary = encoding.endsWith('DICTIONARY');
        if (dictionary && !this.dict) throw new Error('a dictionary-encoded page without a dictionary page');
        this.vals = dictionary ? lookUp(dataPage, this.dict!) : toFloat64(dataPage);
        this.reps = reps;
        this.vi = 0;
        return;
      } catch (e) {
        throw this.damaged(e);
      }
    }
  }

  private nullAt(i: number, reps: ArrayLike<number>): PureneuronError {
    return badFile(
      `${this.table.path}: column ${this.name} has a ${this.leaf.list ? 'null or missing element' : 'null'} in row ${this.rowOf(i, reps)} (counted from 0); ` +
        `the learner needs a value everywhere: drop or impute the rows with missing values`,
    );
  }

  /**
   * A version-1 data page's levels (as bytes: hyparquet's decoder writes them into plain JS
   * arrays, 8 bytes a level — a 32-wide list row group of DuckDB's is one 4-million-value
   * page) and values. Encodings other than plain, dictionary and byte-stream-split go to
   * hyparquet's page reader.
   */
  private decodeV1(page: Uint8Array, daph: NonNullable<PageHeader['data_page_header']>): DecodedPage {
    const { hp } = this;
    const n = daph.num_values;
    if (!FAST_ENCODINGS.has(daph.encoding)) {
      const d = hp.readDataPage(page, daph, this.decoder);
      return { reps: d.repetitionLevels, firstNull: firstBelow(d.definitionLevels ?? [], this.maxDef), values: d.dataPage, encoding: daph.encoding };
    }
    const reader = { view: new DataView(page.buffer, page.byteOffset, page.byteLength), offset: 0 };
    const reps = new Uint8Array(this.leaf.list ? n : 0);
    if (this.leaf.list) hp.readRleBitPackedHybrid(reader, bitWidth(this.maxRep), reps);
    let firstNull = -1;
    if (this.maxDef > 0) {
      const defs = new Uint8Array(n);
      hp.readRleBitPackedHybrid(reader, bitWidth(this.maxDef), defs);
      firstNull = firstBelow(defs, this.maxDef);
      if (firstNull >= 0) return { reps, firstNull, values: new Float64Array(0), encoding: daph.encoding };
    }
    let values: DecodedArray;
    if (daph.encoding === 'PLAIN') values = hp.readPlain(reader, this.decoder.type, n, undefined);
    else if (daph.encoding === 'BYTE_STREAM_SPLIT') values = hp.byteStreamSplit(reader, n, this.decoder.type, undefined);
    else {
      const width = reader.view.getUint8(reader.offset++);
      values = new Uint32Array(n);
      if (width > 0) hp.readRleBitPackedHybrid(reader, width, values, page.byteLength - reader.offset);
    }
    return { reps, firstNull, values, encoding: daph.encoding };
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
      if (this.vi >= this.vals.length) await this.nextPage();
      const vals = this.vals;
      let vi = this.vi;
      if (!this.leaf.list) {
        const n = Math.min(rEnd - r, vals.length - vi);
        for (let i = 0; i < n; i++) out[(r + i) * stride + off] = vals[vi + i]!;
        r += n;
        vi += n;
      } else {
        // Row starts carry repetition level 0, every other value a level > 0.
        const reps = this.reps;
        let elem = this.elem;
        while (r < rEnd && vi < vals.length) {
          if ((reps[vi] === 0) !== (elem === 0)) throw this.badLength(elem, vi);
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

  /** A list row whose length differs from the first row's, found at value vi of the current page. */
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

function toFloat64(a: DecodedArray): Float64Array {
  if (a instanceof Float64Array) return a;
  if (a instanceof Float32Array || a instanceof Int32Array) return Float64Array.from(a);
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Number((a as ArrayLike<unknown>)[i]);
  return out;
}

function lookUp(indices: DecodedArray, dict: Float64Array): Float64Array {
  const out = new Float64Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const v = dict[(indices as ArrayLike<number>)[i]!];
    if (v === undefined) throw new Error(`dictionary index ${String((indices as ArrayLike<number>)[i])} out of range`);
    out[i] = v;
  }
  return out;
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
  /** File row of row 0 of the most recent read. */
  private lastFirst = 0;

  constructor(
    private readonly table: ParquetTable,
    private readonly fh: FileHandle,
    private readonly leaves: LeafColumn[],
  ) {
    let o = 0;
    this.offsets = leaves.map((l) => ((o += l.column.width!), o - l.column.width!));
    this.width = o;
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
      this.cursors = this.leaves.map((l, i) => this.table.cursor(this.fh, l, this.group, this.offsets[i]!, this.groupFirst));
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
