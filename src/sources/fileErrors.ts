/** The errors every file reader raises, worded alike. */
import { PureneuronError } from '../errors.js';

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
