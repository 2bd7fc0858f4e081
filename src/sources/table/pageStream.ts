/**
 * A data page's bytes, decompressed as they are consumed, read from the file in small pieces:
 * memory per column is two small windows, not the page. DuckDB writes a row group's column as
 * one page (tens of MB for a list column), and holding the compressed and the decompressed page
 * of every chosen column would put a streamed run well above the memory of raw files
 * (measurements: README, design notes).
 *
 * Snappy is decoded here (the format is a sequence of literals and back-references; every
 * mainstream encoder — Google's C++ library used by DuckDB, Arrow and Spark, Rust's snap —
 * compresses in 64 KiB blocks, so a reference reaches at most 64 KiB back, which is the history
 * kept). Uncompressed pages are read through. Other codecs decompress whole pages (parquet.ts).
 */
import { PureneuronError } from '../../errors.js';
import { fileError, type ByteFile } from '../blocks.js';

/** Bytes of a page, in order. */
export interface PageBytes {
  /** Fills `out` with the next out.length bytes; throws when the page ends first. */
  readInto(out: Uint8Array): Promise<void>;
}

/** Bytes read from the file per read call (64 KiB reads spent ~15% of the time waiting on libuv). */
const PIECE = 256 << 10;
/** Output kept for back-references: snappy's block size. */
const HISTORY = 64 << 10;
/** Output window: the history plus room to decode ahead. */
const WINDOW = HISTORY + (192 << 10);

function damaged(what: string): Error {
  return new Error(`snappy data ${what}`);
}

/** A column's reusable buffers for streamed pages: a file piece (with room for a 5-byte carry) and the snappy window. */
export class StreamBuffers {
  readonly piece = new Uint8Array(PIECE + 8);
  readonly window = new Uint8Array(WINDOW);
}

/** [start, end) of the file, piece by piece. */
class FileBytes {
  pos = 0;
  end = 0;
  private next: number;

  constructor(
    private readonly fh: ByteFile,
    private readonly path: string,
    start: number,
    private readonly stop: number,
    readonly buf: Uint8Array,
  ) {
    this.next = start;
  }

  get more(): boolean {
    return this.next < this.stop;
  }

  /** Reads the next piece after the unconsumed bytes (moved to the front). */
  async refill(): Promise<void> {
    const keep = this.end - this.pos;
    this.buf.copyWithin(0, this.pos, this.end);
    this.pos = 0;
    this.end = keep;
    const want = Math.min(this.buf.length - keep, this.stop - this.next);
    let got: number;
    try {
      ({ bytesRead: got } = await this.fh.read(this.buf, keep, want, this.next));
    } catch (e) {
      throw fileError(this.path, e);
    }
    if (got === 0) throw new PureneuronError('BAD_FILE', `${this.path} is truncated: it ended at byte ${this.next} inside a page`);
    this.next += got;
    this.end += got;
  }
}

/** An uncompressed page: the file's bytes as they are. */
export class RawPage implements PageBytes {
  private readonly src: FileBytes;
  constructor(fh: ByteFile, path: string, start: number, end: number, buffers: StreamBuffers) {
    this.src = new FileBytes(fh, path, start, end, buffers.piece);
  }

  async readInto(out: Uint8Array): Promise<void> {
    const s = this.src;
    let o = 0;
    while (o < out.length) {
      if (s.pos === s.end) {
        if (!s.more) throw damaged('end early');
        await s.refill();
      }
      const n = Math.min(out.length - o, s.end - s.pos);
      out.set(s.buf.subarray(s.pos, s.pos + n), o);
      s.pos += n;
      o += n;
    }
  }
}

/** A snappy-compressed page, decoded into a window as its bytes are asked for. */
export class SnappyPage implements PageBytes {
  private readonly src: FileBytes;
  private readonly win: Uint8Array;
  /** Decoded bytes are win[0, wEnd); the caller has taken win[0, rPos). */
  private wEnd = 0;
  private rPos = 0;
  /** Bytes of the page decoded so far, and its decompressed size (from the stream's header). */
  private produced = 0;
  private total = -1;
  /** Bytes of a literal still to copy (a literal may span input pieces and windows). */
  private literal = 0;

  constructor(fh: ByteFile, path: string, start: number, end: number, buffers: StreamBuffers) {
    this.src = new FileBytes(fh, path, start, end, buffers.piece);
    this.win = buffers.window;
  }

  async readInto(out: Uint8Array): Promise<void> {
    let o = 0;
    while (o < out.length) {
      if (this.rPos === this.wEnd) await this.decode();
      const n = Math.min(out.length - o, this.wEnd - this.rPos);
      out.set(this.win.subarray(this.rPos, this.rPos + n), o);
      this.rPos += n;
      o += n;
    }
  }

  /** Ensures ≥ n input bytes are buffered, or all that remain. */
  private async input(n: number): Promise<void> {
    const s = this.src;
    while (s.end - s.pos < n && s.more) await s.refill();
  }

  /** Decodes more of the page into the window (at least one byte unless the page is done). */
  private async decode(): Promise<void> {
    const s = this.src;
    if (this.total < 0) {
      await this.input(5);
      let v = 0;
      for (let shift = 0; ; shift += 7) {
        if (s.pos === s.end || shift > 28) throw damaged('has a bad length header');
        const b = s.buf[s.pos++]!;
        v += (b & 0x7f) * 2 ** shift;
        if (b < 0x80) break;
      }
      this.total = v;
    }
    if (this.produced >= this.total) throw damaged('ended before the page did');
    // Room: the caller has taken everything (rPos = wEnd); keep HISTORY bytes for back-references.
    const keepFrom = Math.max(0, this.wEnd - HISTORY);
    if (keepFrom > 0) {
      this.win.copyWithin(0, keepFrom, this.wEnd);
      this.wEnd -= keepFrom;
      this.rPos -= keepFrom;
    }
    const start = this.wEnd;
    const win = this.win;
    const limit = win.length - 64;
    while (this.wEnd < limit && this.produced < this.total) {
      if (this.literal > 0) {
        if (s.pos === s.end) await this.input(1);
        if (s.pos === s.end) throw damaged('ends inside a literal');
        const n = Math.min(this.literal, s.end - s.pos, win.length - this.wEnd);
        win.set(s.buf.subarray(s.pos, s.pos + n), this.wEnd);
        s.pos += n;
        this.wEnd += n;
        this.produced += n;
        this.literal -= n;
        continue;
      }
      if (s.end - s.pos < 5) await this.input(5);
      if (s.pos === s.end) throw damaged('ends early');
      const buf = s.buf;
      const tag = buf[s.pos++]!;
      const kind = tag & 3;
      if (kind === 0) {
        let len = tag >>> 2;
        if (len >= 60) {
          const bytes = len - 59;
          if (s.end - s.pos < bytes) throw damaged('ends inside a literal length');
          len = 0;
          for (let i = 0; i < bytes; i++) len += buf[s.pos++]! * 2 ** (8 * i);
        }
        this.literal = len + 1;
        continue;
      }
      let len: number;
      let offset: number;
      if (kind === 1) {
        len = ((tag >>> 2) & 7) + 4;
        offset = ((tag >>> 5) << 8) | buf[s.pos++]!;
      } else if (kind === 2) {
        len = (tag >>> 2) + 1;
        offset = buf[s.pos]! | (buf[s.pos + 1]! << 8);
        s.pos += 2;
      } else {
        len = (tag >>> 2) + 1;
        offset = (buf[s.pos]! | (buf[s.pos + 1]! << 8) | (buf[s.pos + 2]! << 16)) + buf[s.pos + 3]! * 2 ** 24;
        s.pos += 4;
      }
      if (s.pos > s.end) throw damaged('ends inside a copy');
      if (offset === 0 || offset > this.produced) throw damaged(`refers back ${offset} bytes, before its start`);
      if (offset > this.wEnd) throw damaged(`refers back ${offset} bytes, beyond the ${HISTORY}-byte blocks every snappy encoder writes`);
      if (this.produced + len > this.total) throw damaged('is longer than its header says');
      // Byte by byte: a copy may overlap its own output (offset < len repeats a pattern).
      let from = this.wEnd - offset;
      for (let i = 0; i < len; i++) win[this.wEnd++] = win[from++]!;
      this.produced += len;
    }
    if (this.wEnd === start) throw damaged('ended before the page did');
  }
}

/**
 * The index of the first definition level below `max` in n levels stored as the RLE /
 * bit-packed hybrid (bytes, `width` bits each), or −1: a null check that writes no level out
 * (a column without nulls is one RLE run, checked in one step).
 */
export function firstBelowEncoded(bytes: Uint8Array, width: number, n: number, max: number): number {
  let pos = 0;
  let seen = 0;
  const valueBytes = (width + 7) >> 3;
  while (seen < n) {
    let header = 0;
    for (let shift = 0; ; shift += 7) {
      if (pos >= bytes.length) throw damagedLevels();
      const b = bytes[pos++]!;
      header += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
    }
    if ((header & 1) === 0) {
      // RLE: one value repeated header / 2 times.
      const count = Math.floor(header / 2);
      let v = 0;
      for (let i = 0; i < valueBytes; i++) v |= bytes[pos++]! << (8 * i);
      if (v < max && count > 0) return seen;
      seen += count;
    } else {
      // Bit-packed: (header >> 1) groups of 8 values, LSB first.
      const count = Math.floor(header / 2) * 8;
      const mask = (1 << width) - 1;
      for (let i = 0; i < count && seen + i < n; i++) {
        const bit = i * width;
        const b0 = pos + (bit >> 3);
        const word = (bytes[b0] ?? 0) | ((bytes[b0 + 1] ?? 0) << 8) | ((bytes[b0 + 2] ?? 0) << 16);
        if (((word >> (bit & 7)) & mask) < max) return seen + i;
      }
      pos += (count * width) >> 3;
      seen += count;
    }
  }
  return -1;
}

function damagedLevels(): Error {
  return new Error('definition levels end early');
}
