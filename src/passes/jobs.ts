/**
 * The passes by name, and the per-chunk job that workers (parallel/worker.ts) and the calling
 * thread run: the same function everywhere, so the merged sums are the same bits whatever the
 * number of workers.
 */
import type { Kernels } from '../kernels/types.js';
import type { Chunk } from '../types.js';
import { pass2, type Pass2Params } from './detector.js';
import { gradientPass, type GradientParams } from './gradient.js';
import { pass1, type Pass1Params } from './moments1.js';
import { pass3, type Pass3Params } from './readout.js';
import { refinePass, type RefineParams } from './refine.js';
import type { PassState } from './state.js';

export const PASSES = { pass1, pass2, refine: refinePass, gradient: gradientPass, pass3 } as const;

export type JobKind = keyof typeof PASSES;

/** The parameters of each pass (weighting is set by the runner). */
export interface PassParams {
  pass1: Omit<Pass1Params, 'weighting'>;
  pass2: Omit<Pass2Params, 'weighting'>;
  refine: Omit<RefineParams, 'weighting'>;
  gradient: GradientParams;
  pass3: Omit<Pass3Params, 'weighting'>;
}

/** Runs pass `kind` over one chunk whose first sample is sample `start` of the data. */
export function runChunkJob(kernels: Kernels, kind: JobKind, params: unknown, chunk: Chunk, start: number): PassState {
  return PASSES[kind].run(kernels, params as never, chunk, start);
}

export type { PassState } from './state.js';
