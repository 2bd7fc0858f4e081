/**
 * Whole-data computations a worker can run for the calling thread (WorkerPool.task), so that
 * learn() keeps its caller's event loop free: each takes the kernels and structured-cloneable
 * arguments and returns plain data — the same code on the same backend, so the same bits as a
 * call on the calling thread.
 */
import type { Kernels } from '../kernels/types.js';
import { extract, type ExtractJob, type Extraction } from '../method/stages.js';

export const TASKS = {
  /** One extraction after pass 2 (the full detector's or a half's). */
  extract: (kernels: Kernels, job: ExtractJob): Extraction => extract(kernels, job),
} as const;

export type TaskName = keyof typeof TASKS;
export type TaskArgs<N extends TaskName> = Parameters<(typeof TASKS)[N]>[1];
export type TaskResult<N extends TaskName> = ReturnType<(typeof TASKS)[N]>;

export function runTask(kernels: Kernels, name: TaskName, args: unknown): unknown {
  return TASKS[name](kernels, args as never);
}
