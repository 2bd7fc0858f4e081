/**
 * Errors thrown by pureneuron. Shape and type problems are TypeError/RangeError (as the
 * platform does); problems with the data or the fit carry a stable `code` so callers can
 * branch on them without parsing messages.
 */
export type ErrorCode =
  | 'BAD_SHAPE'
  | 'BAD_VALUE'
  | 'BAD_OPTION'
  | 'TOO_FEW_SAMPLES'
  | 'RANK_DEFICIENT'
  | 'BAD_FILE'
  | 'BAD_MODEL'
  | 'BACKEND_UNAVAILABLE'
  | 'NUMERICAL_FAILURE'
  | 'ABORTED'
  /** A shard job of a distributed run failed for good (the message names the shard). */
  | 'SHARD_FAILED'
  /** A server the run needs (Redis) cannot be reached, or went away. */
  | 'UNREACHABLE';

export class PureneuronError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'PureneuronError';
    this.code = code;
  }
}

/** Throws ABORTED if the signal has fired. `what` says what was interrupted. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) {
    const reason = signal.reason instanceof Error ? `: ${signal.reason.message}` : '';
    throw new PureneuronError('ABORTED', `aborted while ${what}${reason}`);
  }
}
