/** learn(): the spectral learner end to end (orchestration of the passes). */
import type { ArrayInput, SampleSource } from './types.js';
import type { BackendOption } from './kernels/select.js';
import type { Model } from './model.js';

export interface Progress {
  phase: 'pass1' | 'pass2' | 'pass3' | 'refine';
  /** Samples processed so far in this phase. */
  done: number;
  /** Total samples in this phase, when known. */
  total?: number;
}

export interface LearnOptions {
  /** Number of hidden units (1 ≤ k ≤ min(d, l)). */
  k: number;
  /** Kernel backend; default 'auto' (or the PURENEURON_BACKEND environment variable). */
  backend?: BackendOption;
  /** 'even' (default): detector on the even part of y. 'literal': the paper's form on y. */
  detector?: 'even' | 'literal';
  /** Whiten the reduced outputs (default true). */
  whitenY?: boolean;
  /** Reduce x to the k-dim row space of W before the detector (default true); false keeps x full-dimensional. */
  reduceX?: boolean;
  /** Gauss–Newton polish of each pure direction on the non-linearized detector (default true). */
  polish?: boolean;
  /** Random Jennrich pairs tried; the best joint diagonalizer is kept (default 8). */
  jennrichPairs?: number;
  /** Seed of the (deterministic) random choices of the learner (default 1). */
  seed?: number;
  /** Samples per chunk read from the source (default 65536). */
  chunkRows?: number;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

export async function learn(_input: ArrayInput | SampleSource, _options: LearnOptions): Promise<Model> {
  throw new Error('not implemented yet');
}
