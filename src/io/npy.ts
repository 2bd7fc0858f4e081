/**
 * NumPy .npy format (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
 *
 * Layout:
 *   bytes 0–5   magic "\x93NUMPY"
 *   byte  6     major version (1, 2 or 3), byte 7 minor version (0)
 *   v1.0:       bytes 8–9  header length H, uint16 little-endian; header starts at 10
 *   v2.0/v3.0:  bytes 8–11 header length H, uint32 little-endian; header starts at 12
 *   header      a Python dict literal {'descr': '<f8', 'fortran_order': False, 'shape': (n, d), }
 *               (latin-1 in v1/v2, UTF-8 in v3), padded with spaces and ended by '\n' so that
 *               the data starts at a multiple of 64 bytes
 *   data        the array values, C (row-major) order unless fortran_order is True
 *
 * Only little-endian float64 ('<f8') and float32 ('<f4') are read: that is what np.save
 * writes for float arrays on every common platform, and anything else would have to be
 * converted (silently changing values) or guessed.
 */
import { PureneuronError } from '../errors.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

/** Largest header accepted; numpy itself refuses headers above 10 000 bytes by default. */
const MAX_HEADER_BYTES = 1 << 20;

export type NpyDtype = 'f8' | 'f4';

export interface NpyHeader {
  major: number;
  minor: number;
  /** '<f8' or '<f4'. */
  descr: string;
  dtype: NpyDtype;
  /** Bytes per value: 8 or 4. */
  itemBytes: number;
  fortranOrder: boolean;
  shape: number[];
  /** Offset of the first data byte (= total header size including magic and length). */
  dataOffset: number;
  /** Bytes of data the header promises: product(shape) · itemBytes. */
  dataBytes: number;
}

/** A header's text for an error message: trimmed, at most 200 characters (a hostile header may be 1 MiB). */
function excerpt(text: string): string {
  const t = text.trim();
  return JSON.stringify(t.length > 200 ? `${t.slice(0, 200)}…` : t);
}

/** A string from a file, safe for a one-line message: control characters escaped, at most 40 characters. */
function printable(s: string): string {
  const t = s.length > 40 ? `${s.slice(0, 40)}…` : s;
  return t.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function bad(name: string, what: string): PureneuronError {
  return new PureneuronError('BAD_FILE', `${name} is not a valid .npy file: ${what}`);
}

/**
 * Reads the fixed preamble (first 10 or 12 bytes) and returns where the data starts.
 * `bytes` may be longer than the preamble. Throws BAD_FILE naming `name` on a wrong magic,
 * unsupported version or implausible header length.
 */
export function readNpyPreamble(bytes: Uint8Array, name = 'data'): { major: number; minor: number; headerStart: number; dataOffset: number } {
  if (bytes.length < 10) throw bad(name, `only ${bytes.length} bytes, too short for the .npy preamble`);
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) throw bad(name, 'missing the magic string \\x93NUMPY at the start');
  }
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (!(major === 1 || major === 2 || major === 3) || minor !== 0) {
    throw bad(name, `unsupported format version ${major}.${minor} (supported: 1.0, 2.0, 3.0)`);
  }
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = bytes[8]! | (bytes[9]! << 8);
    headerStart = 10;
  } else {
    if (bytes.length < 12) throw bad(name, `only ${bytes.length} bytes, too short for the version ${major}.0 preamble`);
    headerLen = (bytes[8]! | (bytes[9]! << 8) | (bytes[10]! << 16)) + bytes[11]! * 2 ** 24;
    headerStart = 12;
  }
  if (headerLen > MAX_HEADER_BYTES) throw bad(name, `header length ${headerLen} bytes is implausibly large`);
  return { major, minor, headerStart, dataOffset: headerStart + headerLen };
}

// ---- A parser for the Python literal subset numpy writes: dicts, tuples, lists, strings,
// ---- integers (with py2's optional L suffix), True/False/None.

type PyValue = string | number | boolean | null | PyValue[] | { tuple: PyValue[] } | Map<string, PyValue>;

/** Deepest nesting of dicts, tuples and lists accepted: numpy writes 2 levels ({'shape': (n, d)}). */
const MAX_DEPTH = 32;

class LiteralParser {
  private i = 0;
  private depth = 0;
  constructor(private readonly s: string, private readonly name: string) {}

  private fail(what: string): never {
    throw bad(this.name, `malformed header (${what} at character ${this.i}): ${excerpt(this.s)}`);
  }

  private ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
  }

  parseTop(): PyValue {
    const v = this.value();
    this.ws();
    if (this.i !== this.s.length) this.fail('unexpected text after the dict');
    return v;
  }

  private value(): PyValue {
    this.ws();
    const c = this.s[this.i];
    if (c === undefined) this.fail('unexpected end');
    if (c === '{' || c === '(' || c === '[') {
      // Bounded recursion: a hostile header of 60 000 '(' must be BAD_FILE, not a stack overflow.
      if (++this.depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH} levels`);
      const v = c === '{' ? this.dict() : c === '(' ? { tuple: this.seq(')') } : this.seq(']');
      this.depth--;
      return v;
    }
    if (c === "'" || c === '"') return this.str();
    const m = /^(True|False|None|[+-]?\d+L?)/.exec(this.s.slice(this.i));
    if (!m) this.fail('unexpected token');
    this.i += m[0].length;
    if (m[0] === 'True') return true;
    if (m[0] === 'False') return false;
    if (m[0] === 'None') return null;
    return Number.parseInt(m[0], 10);
  }

  private str(): string {
    const q = this.s[this.i++]!;
    const end = this.s.indexOf(q, this.i);
    if (end < 0) this.fail('unterminated string');
    const v = this.s.slice(this.i, end);
    this.i = end + 1;
    return v;
  }

  /** Comma-separated values up to `close`; a trailing comma is allowed (as in "(5,)"). */
  private seq(close: string): PyValue[] {
    this.i++;
    const out: PyValue[] = [];
    for (;;) {
      this.ws();
      if (this.s[this.i] === close) {
        this.i++;
        return out;
      }
      out.push(this.value());
      this.ws();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== close) this.fail(`expected ',' or '${close}'`);
    }
  }

  private dict(): Map<string, PyValue> {
    this.i++;
    const out = new Map<string, PyValue>();
    for (;;) {
      this.ws();
      if (this.s[this.i] === '}') {
        this.i++;
        return out;
      }
      const k = this.value();
      if (typeof k !== 'string') this.fail('dict key is not a string');
      this.ws();
      if (this.s[this.i] !== ':') this.fail("expected ':'");
      this.i++;
      out.set(k, this.value());
      this.ws();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== '}') this.fail("expected ',' or '}'");
    }
  }
}

/**
 * Parses and validates a complete .npy header. `bytes` must hold at least the first
 * `dataOffset` bytes of the file (see readNpyPreamble). Throws BAD_FILE naming `name` and the
 * problem: malformed dict, missing keys, unsupported dtype (with the numpy fix), bad shape.
 * Fortran order is accepted only when it is the same layout as C order (a single row or a
 * single column), since the reader streams rows.
 */
export function parseNpyHeader(bytes: Uint8Array, name = 'data'): NpyHeader {
  const pre = readNpyPreamble(bytes, name);
  if (bytes.length < pre.dataOffset) {
    throw bad(name, `truncated header: needs ${pre.dataOffset} bytes but the file has ${bytes.length}`);
  }
  const text = new TextDecoder(pre.major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(pre.headerStart, pre.dataOffset));
  const dict = new LiteralParser(text, name).parseTop();
  if (!(dict instanceof Map)) throw bad(name, `header is not a dict: ${excerpt(text)}`);
  for (const key of ['descr', 'fortran_order', 'shape']) {
    if (!dict.has(key)) throw bad(name, `header has no '${key}' entry: ${excerpt(text)}`);
  }

  const descr = dict.get('descr');
  if (Array.isArray(descr)) {
    throw new PureneuronError('BAD_FILE', `${name} holds a structured dtype; only plain float64 or float32 arrays are supported`);
  }
  if (typeof descr !== 'string') throw bad(name, `'descr' is not a dtype string: ${excerpt(text)}`);
  let dtype: NpyDtype;
  if (descr === '<f8') dtype = 'f8';
  else if (descr === '<f4') dtype = 'f4';
  else if (descr === '>f8' || descr === '>f4') {
    throw new PureneuronError(
      'BAD_FILE',
      `${name} is big-endian (dtype '${descr}'); convert it with np.save(path, a.astype('<${descr.slice(1)}'))`,
    );
  } else {
    throw new PureneuronError(
      'BAD_FILE',
      `${name} has dtype '${printable(descr)}'; only little-endian float64 ('<f8') or float32 ('<f4') are supported: ` +
        `convert it with np.save(path, a.astype('<f8'))`,
    );
  }

  const fo = dict.get('fortran_order');
  if (typeof fo !== 'boolean') throw bad(name, `'fortran_order' is ${JSON.stringify(fo)}, expected True or False`);

  const shapeV = dict.get('shape');
  const dims = shapeV !== null && typeof shapeV === 'object' && 'tuple' in shapeV ? shapeV.tuple : undefined;
  if (!dims || !dims.every((v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0)) {
    throw bad(name, `'shape' is not a tuple of non-negative integers: ${excerpt(text)}`);
  }
  const shape = dims as number[];
  if (fo && shape.filter((s) => s > 1).length > 1) {
    throw new PureneuronError(
      'BAD_FILE',
      `${name} is stored in Fortran (column-major) order with shape (${shape.join(', ')}); ` +
        `save it in C order with np.save(path, np.ascontiguousarray(a))`,
    );
  }
  const itemBytes = dtype === 'f8' ? 8 : 4;
  const count = shape.reduce((a, b) => a * b, 1);
  return {
    major: pre.major,
    minor: pre.minor,
    descr,
    dtype,
    itemBytes,
    fortranOrder: fo,
    shape,
    dataOffset: pre.dataOffset,
    dataBytes: count * itemBytes,
  };
}

function shapeLiteral(shape: number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/**
 * The .npy header (preamble + padded dict) for a C-order float array: version 1.0 unless the
 * dict needs more than 65535 bytes, then 2.0.
 */
export function npyHeaderBytes(shape: number[], dtype: NpyDtype = 'f8', minBytes = 0): Uint8Array {
  const dict = `{'descr': '<${dtype}', 'fortran_order': False, 'shape': ${shapeLiteral(shape)}, }`;
  let pre = 10;
  // minBytes: a header written before the row count is known reserves room for any count.
  let total = Math.ceil(Math.max(pre + dict.length + 1, minBytes) / 64) * 64;
  if (total - pre > 0xffff) {
    pre = 12;
    total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  }
  const headerLen = total - pre;
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  out[6] = pre === 10 ? 1 : 2;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  if (pre === 10) dv.setUint16(8, headerLen, true);
  else dv.setUint32(8, headerLen, true);
  // Pad with spaces, newline last (the spec's layout).
  const text = dict.padEnd(headerLen - 1, ' ') + '\n';
  for (let i = 0; i < text.length; i++) out[pre + i] = text.charCodeAt(i);
  return out;
}

function checkShape(length: number, shape: number[]): void {
  if (!Array.isArray(shape) || shape.length === 0 || !shape.every((s) => Number.isSafeInteger(s) && s >= 0)) {
    throw new RangeError(`shape must be a non-empty array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== length) {
    throw new RangeError(`data has ${length} values, expected ${shape.join('·')} = ${count} for shape (${shape.join(', ')})`);
  }
}

/** True when the host stores typed arrays little-endian (every platform Node ships on today). */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The little-endian bytes of `data` (float64 or float32); a zero-copy view on little-endian hosts. */
export function littleEndianBytes(data: Float64Array | Float32Array): Uint8Array {
  if (HOST_LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const dv = new DataView(out.buffer);
  if (data instanceof Float64Array) for (let i = 0; i < data.length; i++) dv.setFloat64(8 * i, data[i]!, true);
  else for (let i = 0; i < data.length; i++) dv.setFloat32(4 * i, data[i]!, true);
  return out;
}

/**
 * A complete .npy file (version 1.0, C order) holding `data` with the given shape:
 * '<f8' for a Float64Array, '<f4' for a Float32Array. Builds the whole file in memory; use
 * writeNpy (src/io/raw.ts) to stream a large array to disk.
 */
export function encodeNpy(data: Float64Array | Float32Array, shape: number[]): Uint8Array {
  if (!(data instanceof Float64Array) && !(data instanceof Float32Array)) {
    throw new TypeError('data must be a Float64Array or Float32Array');
  }
  checkShape(data.length, shape);
  const header = npyHeaderBytes(shape, data instanceof Float64Array ? 'f8' : 'f4');
  const out = new Uint8Array(header.length + data.byteLength);
  out.set(header, 0);
  out.set(littleEndianBytes(data), header.length);
  return out;
}

/**
 * Decodes a whole in-memory .npy file into float64 values (C order) and its shape.
 * Meant for tests and small files; the file source streams instead.
 */
export function decodeNpy(bytes: Uint8Array, name = 'data'): { data: Float64Array; shape: number[]; dtype: NpyDtype } {
  const h = parseNpyHeader(bytes, name);
  const have = bytes.length - h.dataOffset;
  if (have < h.dataBytes) {
    throw new PureneuronError(
      'BAD_FILE',
      `${name} is truncated: the header promises ${h.dataBytes} bytes of data but only ${have} follow it`,
    );
  }
  const count = h.dataBytes / h.itemBytes;
  const dv = new DataView(bytes.buffer, bytes.byteOffset + h.dataOffset, h.dataBytes);
  const data = new Float64Array(count);
  if (h.dtype === 'f8') for (let i = 0; i < count; i++) data[i] = dv.getFloat64(8 * i, true);
  else for (let i = 0; i < count; i++) data[i] = dv.getFloat32(4 * i, true);
  return { data, shape: h.shape, dtype: h.dtype };
}

/** Checks `shape` against `length` and returns the header for writeNpy. */
export function npyHeaderFor(data: Float64Array | Float32Array, shape: number[]): Uint8Array {
  checkShape(data.length, shape);
  return npyHeaderBytes(shape, data instanceof Float64Array ? 'f8' : 'f4');
}
