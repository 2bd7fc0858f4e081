/** Shared public types. Matrices are Float64Array, row-major, with their shape stated. */

/** Numeric arrays accepted at the API boundary. */
export type NumericArray = Float64Array | Float32Array;

/** Ground truth or a learned network: y = A·relu(W·x). */
export interface Network {
  d: number;
  k: number;
  l: number;
  /** k×d row-major: row i is the weight vector w_i of hidden unit i. */
  W: Float64Array;
  /** l×k row-major: column i is the output weight a_i of hidden unit i. */
  A: Float64Array;
}

/** A block of consecutive samples. x is rows×d, y is rows×l, row-major. */
export interface Chunk {
  x: Float64Array;
  y: Float64Array;
  rows: number;
}

/**
 * Samples that can be read more than once (one read per pass). `chunks(maxRows)` yields
 * consecutive blocks of at most maxRows samples, in the same order on every call.
 * `n` is known up front for arrays and binary files; text sources may leave it undefined
 * until the first pass has counted it. A source need not check its values: learn() checks
 * that every pass's sums are finite and, when they are not, reads the source once more to
 * name the first NaN or ±Infinity (sample and column).
 * A source may overwrite a chunk's arrays once the next chunk is asked for (learn() copies what
 * its worker threads need before that), except arrays on a SharedArrayBuffer: workers read
 * those in place, so they must stay unchanged until the pass ends.
 */
export interface SampleSource {
  readonly d: number;
  readonly l: number;
  readonly n?: number;
  chunks(maxRows: number, signal?: AbortSignal): AsyncIterable<Chunk>;
}

/** In-memory samples: x is n×d and y is n×l, row-major. */
export interface ArrayInput {
  x: NumericArray;
  y: NumericArray;
  /** Number of samples; defaults to x.length / d. */
  n?: number;
  d: number;
  l: number;
}

/** The phases of learn() that read the data, in the order they run. */
export type Phase = 'pass1' | 'pass2' | 'refine' | 'pass3';

/** What learn() reports after every chunk (LearnOptions.onProgress). */
export interface Progress {
  phase: Phase;
  /** Samples processed so far in this phase. */
  done: number;
  /** Total samples in this phase, when known. */
  total?: number;
}
