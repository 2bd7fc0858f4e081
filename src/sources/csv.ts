/**
 * CSV sample files, streamed.
 *
 * Accepted layout: one sample per line, values separated by commas, optional spaces/tabs
 * around each value, '\n' or '\r\n' line ends, UTF-8 (a BOM is skipped). The first non-blank
 * line is a header, and skipped, when any of its fields is not a number (so an all-numeric
 * header cannot be recognized). Numbers are decimal (e.g. -1.5e-3); "nan"/"inf"/"infinity"
 * (any case, optional sign) are parsed so the value check can report them as BAD_VALUE.
 * Blank lines are allowed only at the end of the file: a blank line in the middle might be a
 * missing sample, and skipping it would silently pair row i of x with the wrong row of y.
 * No quoting: quoted values are reported as not numbers.
 */
import { PureneuronError } from '../errors.js';
import { badFile, BlockReader, openRegularFile, refName, type FileRef } from './blocks.js';
import type { FileSpec, Role, RowReader } from './spec.js';
import { widthName } from './spec.js';

/** A decimal number, a nan/inf literal (NaN/±Infinity), or undefined when `s` is not a number. */
export function parseCsvNumber(s: string): number | undefined {
  if (s.length === 0) return undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // digits . + - e E — anything else (hex prefixes, '_', letters) goes to the literal check,
    // because Number() alone would accept '0x10' and ' ' and reject nothing useful.
    if (!((c >= 48 && c <= 57) || c === 46 || c === 43 || c === 45 || c === 101 || c === 69)) return parseSpecial(s);
  }
  const v = Number(s);
  return Number.isNaN(v) ? undefined : v;
}

function parseSpecial(s: string): number | undefined {
  const t = s.toLowerCase();
  const neg = t.startsWith('-');
  const body = t.startsWith('-') || t.startsWith('+') ? t.slice(1) : t;
  if (body === 'nan') return NaN;
  if (body === 'inf' || body === 'infinity') return neg ? -Infinity : Infinity;
  return undefined;
}


/** Line-by-line parser over one pass of a CSV file. */
class CsvReader implements RowReader {
  private readonly dec = new TextDecoder('utf-8', { fatal: false });
  private lines: string[] = [];
  private li = 0;
  private carry = '';
  private eof = false;
  /** 1-based number of the last line taken from `lines`. */
  private lineNo = 0;
  private sawFirst = false;
  /** First blank line since the last data row (0 = none): an error if data follows. */
  private blankLine = 0;
  /** Line number of each row of the most recent read (for BAD_VALUE messages). */
  private rowLines = new Float64Array(0);

  // Filled in as the file is read; the probe reports them.
  headerLine = 0;
  headerCols = 0;
  /** The header's column names (trimmed), when the file has a header. */
  names: string[] | undefined;
  firstDataLine = 0;
  firstDataCols = 0;

  constructor(
    private readonly path: string,
    private readonly r: BlockReader,
    private readonly close_: () => Promise<void>,
    /** Values per row; undefined only while probing for it. */
    private readonly width: number | undefined,
    /** The fields read, by 0-based index (a header's chosen columns); all when undefined. */
    private readonly keep?: readonly number[],
    /** Fields per line when `keep` is given (the header's count). */
    private readonly fieldCount?: number,
  ) {}

  /** Decodes the next block into lines; false when the file is exhausted. */
  private async refill(): Promise<boolean> {
    if (this.eof) return false;
    const got = await this.r.fill();
    let text: string;
    if (got) {
      text = this.carry + this.dec.decode(this.r.buf.subarray(this.r.pos, this.r.end), { stream: true });
      this.r.pos = this.r.end;
    } else {
      this.eof = true;
      text = this.carry + this.dec.decode();
    }
    const parts = text.split('\n');
    // The text after the last '\n' may be an incomplete line: keep it for the next block.
    this.carry = got ? parts.pop()! : '';
    if (!got && parts[parts.length - 1] === '') parts.pop();
    this.lines = parts;
    this.li = 0;
    return true;
  }

  /** The fields of the next data line, skipping the header and trailing blank lines; undefined at EOF. */
  private async nextFields(): Promise<string[] | undefined> {
    for (;;) {
      if (this.li >= this.lines.length) {
        if (!(await this.refill())) return undefined;
        continue;
      }
      const f = this.fieldsOf(this.lines[this.li++]!);
      if (f) return f;
    }
  }

  /** Classifies one raw line: data fields, or undefined for blank/header lines. */
  private fieldsOf(raw: string): string[] | undefined {
    this.lineNo++;
    const line = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    if (line.trim() === '') {
      if (this.blankLine === 0) this.blankLine = this.lineNo;
      return undefined;
    }
    if (this.blankLine !== 0) {
      throw badFile(
        `${this.path} line ${this.blankLine} is blank but data follows on line ${this.lineNo}; ` +
          `blank lines are only allowed at the end (a blank line may be a missing sample): remove it`,
      );
    }
    const fields = line.split(',');
    if (!this.sawFirst) {
      this.sawFirst = true;
      if (fields.some((s) => parseCsvNumber(s.trim()) === undefined)) {
        this.headerLine = this.lineNo;
        this.headerCols = fields.length;
        this.names = fields.map((f) => f.trim());
        return undefined;
      }
    }
    if (this.firstDataLine === 0) {
      this.firstDataLine = this.lineNo;
      this.firstDataCols = fields.length;
    }
    return fields;
  }

  /** Reads up to the first data row (validating the header against it) and returns its width. */
  async probe(): Promise<number | undefined> {
    const f = await this.nextFields();
    if (!f) return undefined;
    if (this.headerLine !== 0 && this.headerCols !== f.length) {
      throw badFile(
        `${this.path} line ${this.headerLine} (the header) has ${this.headerCols} columns but line ${this.firstDataLine} ` +
          `(the first data row) has ${f.length}`,
      );
    }
    return f.length;
  }

  async read(out: Float64Array, maxRows: number): Promise<number> {
    const width = this.width!;
    const keep = this.keep;
    const fieldCount = this.fieldCount ?? width;
    if (this.rowLines.length < maxRows) this.rowLines = new Float64Array(maxRows);
    let r = 0;
    while (r < maxRows) {
      let fields: string[] | undefined;
      // Synchronous fast path over already-decoded lines; await only to read the next block.
      if (this.li < this.lines.length) {
        fields = this.fieldsOf(this.lines[this.li++]!);
        if (!fields) continue;
      } else {
        fields = await this.nextFields();
        if (!fields) break;
      }
      if (fields.length !== fieldCount) {
        throw badFile(
          keep
            ? `${this.path} line ${this.lineNo} has ${fields.length} columns but its header (line ${this.headerLine}) has ${fieldCount}`
            : this.lineNo === this.firstDataLine
              ? `${this.path} line ${this.lineNo} (the first data row) has ${fields.length} columns, expected ${width} (was the file changed?)`
              : `${this.path} line ${this.lineNo} has ${fields.length} columns but the first data row (line ${this.firstDataLine}) has ${width}; every row needs the same number of values`,
        );
      }
      const o = r * width;
      for (let j = 0; j < width; j++) {
        const c = keep ? keep[j]! : j;
        const s = fields[c]!.trim();
        const v = parseCsvNumber(s);
        if (v === undefined) {
          throw badFile(
            `${this.path} line ${this.lineNo}, column ${c + 1}${this.names ? ` (${JSON.stringify(this.names[c])})` : ''}: ` +
              (s === '' ? 'empty field' : `${JSON.stringify(s.length > 40 ? s.slice(0, 40) + '…' : s)} is not a number`) +
              ' (columns counted from 1)',
          );
        }
        out[o + j] = v;
      }
      this.rowLines[r] = this.lineNo;
      r++;
    }
    return r;
  }

  async countRest(): Promise<number> {
    const width = this.width!;
    const rows = Math.max(1, Math.floor(65536 / width));
    const scratch = new Float64Array(rows * width);
    let total = 0;
    for (;;) {
      const got = await this.read(scratch, rows);
      total += got;
      if (got < rows) return total;
    }
  }

  where(row: number): string {
    return ` in ${this.path} line ${this.rowLines[row]}`;
  }

  close(): Promise<void> {
    return this.close_();
  }
}

class CsvSpec implements FileSpec {
  readonly format = 'csv' as const;
  readonly n = undefined;
  readonly path: string;
  constructor(
    readonly ref: FileRef,
    readonly width: number,
    /** Chosen fields of a file with a header, and its field count. */
    private readonly table?: { keep: readonly number[]; fieldCount: number },
  ) {
    this.path = refName(ref);
  }

  async open(blockBytes: number, signal?: AbortSignal): Promise<RowReader> {
    const { fh } = await openRegularFile(this.ref);
    const close = async (): Promise<void> => {
      await fh.close().catch(() => undefined);
    };
    return new CsvReader(this.path, new BlockReader(fh, this.path, 0, blockBytes, signal), close, this.width, this.table?.keep, this.table?.fieldCount);
  }
}

/** Reads a CSV file up to its first data row (an empty file is an error) and closes it: the probe holds what it saw. */
async function probeCsv(ref: FileRef, blockBytes: number): Promise<{ path: string; width: number | undefined; probe: CsvReader }> {
  const path = refName(ref);
  const { fh, size } = await openRegularFile(ref);
  const close = async (): Promise<void> => {
    await fh.close().catch(() => undefined);
  };
  try {
    if (size === 0) throw badFile(`${path} is empty`);
    const probe = new CsvReader(path, new BlockReader(fh, path, 0, blockBytes, undefined), close, undefined);
    return { path, width: await probe.probe(), probe };
  } finally {
    await close();
  }
}

/** The column names of a CSV file's header (BAD_FILE when it has none: columns are chosen by name). */
export async function csvHeader(ref: FileRef, blockBytes: number): Promise<string[]> {
  const { path, width, probe } = await probeCsv(ref, blockBytes);
  if (!probe.names) {
    throw badFile(`${path} has no header row (its first line is all numbers), so its columns have no names to choose by; add a header or pass x and y as separate files`);
  }
  if (width === undefined) throw badFile(`${path} has a header but no data rows`);
  return probe.names;
}

/** A spec reading the fields `keep` (0-based, in that order) of each line of a CSV file with a header of `fieldCount` names. */
export function csvColumnsSpec(ref: FileRef, keep: readonly number[], fieldCount: number): FileSpec {
  return new CsvSpec(ref, keep.length, { keep, fieldCount });
}

/** Opens a CSV file far enough to find its width (from the first data row) and checks it against `width`. */
export async function csvSpec(ref: FileRef, role: Role, width: number | undefined, blockBytes: number): Promise<FileSpec> {
  const { path, width: w, probe } = await probeCsv(ref, blockBytes);
  if (w === undefined) {
    throw badFile(
      `${path} has no data rows` +
        (probe.headerLine !== 0 ? ` (line ${probe.headerLine} was taken as a header because it has a non-numeric field)` : ''),
    );
  }
  const wn = widthName(role);
  if (width !== undefined && width !== w) {
    throw new PureneuronError(
      'BAD_SHAPE',
      `${path} has ${w} columns (line ${probe.firstDataLine}, the first data row), so ${wn} = ${w}, but ${wn} = ${width} was given`,
    );
  }
  return new CsvSpec(ref, w);
}
