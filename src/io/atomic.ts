/**
 * Atomic file writes: data goes to a temporary file in the destination's directory (same
 * file system, so rename is atomic), is fsynced, then renamed over the destination. Readers
 * therefore see either the old file or the complete new one, never a partial write — which
 * matters for model files and multi-GB sample dumps that a crash or Ctrl-C could cut short.
 * On any failure the temporary file is removed.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { PureneuronError } from '../errors.js';

function writeError(path: string, e: unknown): PureneuronError {
  // Name the destination and the reason, never the internal temporary file.
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const reason =
    code === 'ENOENT' ? `directory ${dirname(path)} does not exist`
    : code === 'EACCES' || code === 'EPERM' ? `permission denied in ${dirname(path)}`
    : code === 'ENOSPC' ? 'no space left on the device'
    : code === 'EISDIR' ? `${path} is a directory`
    : e instanceof Error ? e.message.replace(/, open '.*'$/, '') : String(e);
  const err = new PureneuronError('BAD_FILE', `cannot write ${path}: ${reason}`);
  err.cause = e;
  return err;
}

/**
 * A signal that abandons every atomic write still in progress, for callers that do not pass
 * their own: the CLI sets it to the signal its SIGINT/SIGTERM handler fires, so an interrupted
 * command removes its temporary files and leaves every destination untouched.
 */
let processSignal: AbortSignal | undefined;

/** Sets (or clears, with undefined) the signal that abandons atomic writes without a signal of their own. */
export function abortWritesOn(signal: AbortSignal | undefined): void {
  processSignal = signal;
}

function abortedError(path: string, signal: AbortSignal): PureneuronError {
  const reason = signal.reason instanceof Error ? `: ${signal.reason.message}` : '';
  return new PureneuronError('ABORTED', `aborted while writing ${path}${reason}; ${path} was not changed`);
}

/** Bytes handed to one write call: small enough that an abort is noticed within a fraction of a second. */
const WRITE_PIECE = 8 << 20;

export interface AtomicWriteOptions {
  /** Aborting it abandons the write (ABORTED; the temporary file is removed, the destination untouched). */
  signal?: AbortSignal;
}

/** A pending atomic write: write() any number of times, then commit() or abort(). */
export interface AtomicWriter {
  /** The destination path. */
  readonly path: string;
  /** The temporary file being written (hidden, in the destination's directory). */
  readonly tempPath: string;
  /** Appends bytes (waits until they are handed to the OS). */
  write(data: Uint8Array): Promise<void>;
  /** Overwrites bytes already written, at `position` (e.g. a header whose counts are known only at the end). */
  writeAt(data: Uint8Array, position: number): Promise<void>;
  /** fsync, close, rename over the destination. The writer cannot be used afterwards. */
  commit(): Promise<void>;
  /** Close and remove the temporary file; the destination is left untouched. Idempotent. */
  abort(): Promise<void>;
}

/** Best-effort fsync of a directory so the rename itself survives a crash (not possible on Windows). */
async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // Directories cannot be opened/fsynced on some platforms; the rename is still atomic.
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** Opens a temporary file next to `path` for an atomic, streamed write. */
export async function openAtomicWriter(path: string, options: AtomicWriteOptions = {}): Promise<AtomicWriter> {
  const signal = options.signal ?? processSignal;
  if (signal?.aborted) throw abortedError(path, signal);
  const dir = dirname(path);
  const tempPath = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let fh: FileHandle;
  try {
    fh = await open(tempPath, 'wx');
  } catch (e) {
    throw writeError(path, e);
  }
  let state: 'open' | 'committed' | 'aborted' = 'open';

  const abort = async (): Promise<void> => {
    if (state !== 'open') return;
    state = 'aborted';
    await fh.close().catch(() => undefined);
    await unlink(tempPath).catch(() => undefined);
  };

  return {
    path,
    tempPath,
    async write(data: Uint8Array): Promise<void> {
      if (state !== 'open') throw new Error(`atomic writer for ${path} is already ${state}`);
      try {
        // A single write call may be partial; loop until everything is written, in pieces so
        // that an abort between them is noticed promptly even for a multi-GB array.
        let off = 0;
        while (off < data.length) {
          if (signal?.aborted) break;
          const { bytesWritten } = await fh.write(data, off, Math.min(WRITE_PIECE, data.length - off));
          off += bytesWritten;
        }
      } catch (e) {
        await abort();
        throw writeError(path, e);
      }
      if (signal?.aborted) {
        await abort();
        throw abortedError(path, signal);
      }
    },
    async writeAt(data: Uint8Array, position: number): Promise<void> {
      if (state !== 'open') throw new Error(`atomic writer for ${path} is already ${state}`);
      try {
        let off = 0;
        while (off < data.length) off += (await fh.write(data, off, data.length - off, position + off)).bytesWritten;
      } catch (e) {
        await abort();
        throw writeError(path, e);
      }
    },
    async commit(): Promise<void> {
      if (state !== 'open') throw new Error(`atomic writer for ${path} is already ${state}`);
      try {
        await fh.sync();
      } catch (e) {
        await abort();
        throw writeError(path, e);
      }
      // The last moment an abort can still leave the destination untouched (fsync may be slow).
      if (signal?.aborted) {
        await abort();
        throw abortedError(path, signal);
      }
      try {
        await fh.close();
        state = 'committed';
        await rename(tempPath, path);
      } catch (e) {
        state = 'open';
        await abort();
        throw writeError(path, e);
      }
      await syncDir(dir);
    },
    abort,
  };
}

/** Writes `data` (a string is written as UTF-8) to `path` atomically. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const w = await openAtomicWriter(path, options);
  await w.write(bytes);
  await w.commit();
}
