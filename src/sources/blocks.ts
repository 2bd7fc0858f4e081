/**
 * Block-wise file reading shared by the binary and CSV readers: a file is never read whole,
 * only `blockBytes` at a time into one reusable buffer, at explicit positions (so each pass
 * is independent of any other open handle).
 */
import { throwIfAborted } from '../errors.js';
import { fileError } from './fileErrors.js';
import { openPath } from './openPath.js';

export { badFile, fileError } from './fileErrors.js';

/** Default read size per block: large enough for full disk throughput, small next to a chunk. */
export const DEFAULT_BLOCK_BYTES = 1 << 20;

/** Extra buffer room beyond one block: a binary value split across blocks (≤ 8 bytes) is carried over. */
const CARRY_BYTES = 8;



/** A file to read: a path (Node), or a Blob / File (a page's files, or Node's Blob). */
export type FileRef = string | Blob;

/**
 * What the readers need of an open file — positioned reads — as Node's FileHandle offers it;
 * a Blob gets the same face (blobHandle), with the `fd` and `stat` apache-arrow looks for.
 */
export interface ByteFile {
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number; buffer?: Uint8Array }>;
  close(): Promise<void>;
}

const isBlob = (ref: unknown): ref is Blob => typeof Blob === 'function' && ref instanceof Blob;

/** How messages name a file: its path, or a File's name. */
export function refName(ref: FileRef): string {
  return isBlob(ref) ? (ref as { name?: string }).name || `a Blob of ${ref.size} bytes` : ref;
}

/** A Blob read in slices (Blob.slice + arrayBuffer): never whole. */
function blobHandle(blob: Blob): ByteFile & { fd: number; stat(): Promise<{ size: number }> } {
  return {
    fd: -1,
    stat: async () => ({ size: blob.size }),
    async read(buffer, offset, length, position) {
      const bytes = new Uint8Array(await blob.slice(position, position + length).arrayBuffer());
      buffer.set(bytes, offset);
      // `buffer` too, as FileHandle.read returns it: apache-arrow's reader takes it from there.
      return { bytesRead: bytes.length, buffer };
    },
    close: async () => undefined,
  };
}

/**
 * Fills `out` from `position` of the file, over as many reads as it takes; returns the bytes
 * read, fewer than out.length only at the end of the file. Failed reads are BAD_FILE naming `path`.
 */
export async function readAt(fh: ByteFile, path: string, out: Uint8Array, position: number): Promise<number> {
  let got = 0;
  while (got < out.length) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await fh.read(out, got, out.length - got, position + got));
    } catch (e) {
      throw fileError(path, e);
    }
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

/**
 * Opens a file for reading and returns the handle and size. Paths must name regular files (a
 * pass-based learner re-reads its input, which pipes and devices cannot do).
 */
export async function openRegularFile(ref: FileRef): Promise<{ fh: ByteFile; size: number }> {
  if (isBlob(ref)) return { fh: blobHandle(ref), size: ref.size };
  if (typeof ref !== 'string') throw new TypeError(`a file must be a path or a Blob, got ${Object.prototype.toString.call(ref)}`);
  return openPath(ref);
}

/**
 * One reusable read buffer over a file handle. Unconsumed bytes are buf[pos, end); fill()
 * moves them to the front and appends up to one block. Consumers must leave fewer than
 * CARRY_BYTES unconsumed before calling fill() again (binary values are at most 8 bytes;
 * the CSV reader consumes everything).
 */
export class BlockReader {
  readonly buf: Uint8Array;
  pos = 0;
  end = 0;
  private filePos: number;

  constructor(
    private readonly fh: ByteFile,
    readonly path: string,
    start: number,
    private readonly blockBytes: number,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.buf = new Uint8Array(blockBytes + CARRY_BYTES);
    this.filePos = start;
  }

  get available(): number {
    return this.end - this.pos;
  }

  /** Reads the next block; false at end of file (nothing was added). Checks the abort signal first. */
  async fill(): Promise<boolean> {
    throwIfAborted(this.signal, `reading ${this.path}`);
    if (this.pos > 0) {
      this.buf.copyWithin(0, this.pos, this.end);
      this.end -= this.pos;
      this.pos = 0;
    }
    const len = Math.min(this.blockBytes, this.buf.length - this.end);
    let bytesRead: number;
    try {
      ({ bytesRead } = await this.fh.read(this.buf, this.end, len, this.filePos));
    } catch (e) {
      throw fileError(this.path, e);
    }
    this.filePos += bytesRead;
    this.end += bytesRead;
    return bytesRead > 0;
  }

  /**
   * Reads the next dst.length bytes of the file straight into dst, bypassing the buffer (which
   * must be empty); returns the bytes read, fewer only at the end of the file. One read call
   * per chunk instead of a copy per block: the kernel writes the caller's memory directly, on
   * a libuv thread.
   */
  async readDirect(dst: Uint8Array): Promise<number> {
    throwIfAborted(this.signal, `reading ${this.path}`);
    const got = await readAt(this.fh, this.path, dst, this.filePos);
    this.filePos += got;
    return got;
  }
}
