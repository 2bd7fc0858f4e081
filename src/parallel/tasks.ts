/**
 * Whole-data computations a worker can run for the calling thread (WorkerPool.task), so that
 * learn() keeps its caller's event loop free: each takes the kernels and structured-cloneable
 * arguments and returns plain data — the same code on the same backend, so the same bits as a
 * call on the calling thread.
 */
import type { Kernels } from '../kernels/types.js';
import { inverseTrace, sampleMatrix, type RefineSums, type SampleMatrix } from '../method/refine.js';
import { extract, type ExtractJob, type Extraction } from '../method/stages.js';
import { sharedF64 } from './sharedMemory.js';

export const TASKS = {
  /** One extraction after pass 2 (the full detector's or a half's). */
  extract: (kernels: Kernels, job: ExtractJob): Extraction => extract(kernels, job),
  /**
   * The refinement's matrix formed and factored: its factor L ((k·d)² doubles) is handed back in
   * shared memory, so the calling thread receives it without a copy (and inverseTrace sends it
   * back the same way).
   */
  sampleMatrix: (kernels: Kernels, a: { sums: RefineSums; W: Float64Array; k: number; d: number; l: number }): SampleMatrix => {
    const J = sampleMatrix(kernels, a.sums, a.W, a.k, a.d, a.l);
    const L = sharedF64(J.L.length);
    L.set(J.L);
    return { ...J, L };
  },
  /** ‖L⁻¹‖²_F of a factor, for the standard error. */
  inverseTrace: (kernels: Kernels, a: { L: Float64Array; p: number }): number => inverseTrace(kernels, a.L, a.p),
} as const;

export type TaskName = keyof typeof TASKS;
export type TaskArgs<N extends TaskName> = Parameters<(typeof TASKS)[N]>[1];
export type TaskResult<N extends TaskName> = ReturnType<(typeof TASKS)[N]>;

export function runTask(kernels: Kernels, name: TaskName, args: unknown): unknown {
  return TASKS[name](kernels, args as never);
}
