/**
 * Block-wise file reading shared by the binary and CSV readers: a file is never read whole,
 * only `blockBytes` at a time into one reusable buffer, at explicit positions (so each pass
 * is independent of any other open handle).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { PureneuronError, throwIfAborted } from '../errors.js';

/** Default read size per block: large enough for full disk throughput, small next to a chunk. */
export const DEFAULT_BLOCK_BYTES = 1 << 20;

/** Extra buffer room beyond one block: a binary value split across blocks (≤ 8 bytes) is carried over. */
const CARRY_BYTES = 8;

/** A BAD_FILE error with `message` as is (and the error behind it, if any, as its cause). */
export function badFile(message: string, cause?: unknown): PureneuronError {
  const e = new PureneuronError('BAD_FILE', message);
  if (cause !== undefined) e.cause = cause;
  return e;
}

/** A BAD_FILE error for a failed fs call on `path`, with a plain-words reason and the fs error as cause. */
export function fileError(path: string, e: unknown, doing = 'read'): PureneuronError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const reason =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EISDIR'
          ? 'it is a directory'
          : e instanceof Error
            ? e.message
            : String(e);
  const err = new PureneuronError('BAD_FILE', `cannot ${doing} ${path}: ${reason}`);
  err.cause = e;
  return err;
}

/**
 * Opens `path` for reading and returns the handle and size. Only regular files: a pass-based
 * learner re-reads its input, which pipes and devices cannot do.
 */
export async function openRegularFile(path: string): Promise<{ fh: FileHandle; size: number }> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw fileError(path, e, 'open');
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw new PureneuronError('BAD_FILE', `cannot read ${path}: it is a directory`);
    if (!st.isFile()) {
      throw new PureneuronError('BAD_FILE', `cannot read ${path}: not a regular file (the learner reads its input several times)`);
    }
    return { fh, size: st.size };
  } catch (e) {
    await fh.close().catch(() => undefined);
    throw e instanceof PureneuronError ? e : fileError(path, e, 'open');
  }
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
    private readonly fh: FileHandle,
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
    let got = 0;
    while (got < dst.length) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await this.fh.read(dst, got, dst.length - got, this.filePos));
      } catch (e) {
        throw fileError(this.path, e);
      }
      if (bytesRead === 0) break;
      this.filePos += bytesRead;
      got += bytesRead;
    }
    return got;
  }
}
