/**
 * Whole-data computations learn() runs between its passes, off the calling thread when it has
 * workers (WorkerPool.task), so that its caller's event loop stays free: each takes the kernels
 * and structured-cloneable arguments and returns plain data — the same code on the same
 * backend, so the same bits wherever it runs.
 */
import type { Kernels } from '../kernels/types.js';
import { inverseTrace, sampleMatrix, type RefineSums, type SampleMatrix } from '../method/refine.js';
import { afterPass1, extract, halfFit, type ExtractJob, type Extraction, type FitOptions, type HalfJob, type Pass1Sums, type Stage1 } from '../method/stages.js';
import { nextTurn } from './platform.js';
import { sharedF64 } from './sharedMemory.js';

export const TASKS = {
  /** The stages after pass 1 (the linear part, k, the reduction: SVDs and eigenproblems of d×d and l×l size). */
  afterPass1: (kernels: Kernels, a: { p1: Pass1Sums; n: number; d: number; l: number; o: FitOptions }): Stage1 => afterPass1(kernels, a.p1, a.n, a.d, a.l, a.o),
  /** The full detector's extraction after pass 2. */
  extract: (kernels: Kernels, job: ExtractJob): Extraction => extract(kernels, job),
  /** Half-sample refits for the error estimate, one after the other: each half's first layer, or null where it failed. */
  halfFits: (kernels: Kernels, jobs: HalfJob[]): (Float64Array | null)[] =>
    jobs.map((j) => {
      try {
        return halfFit(kernels, j);
      } catch {
        return null; // a half that cannot be fitted only costs the estimate (estimateError says so)
      }
    }),
  /** The refinement's matrix, formed and factored. */
  sampleMatrix: (kernels: Kernels, a: { sums: RefineSums; W: Float64Array; k: number; d: number; l: number }): SampleMatrix =>
    sampleMatrix(kernels, a.sums, a.W, a.k, a.d, a.l),
  /** ‖L⁻¹‖²_F of a factor, for the standard error. */
  inverseTrace: (kernels: Kernels, a: { L: Float64Array; p: number }): number => inverseTrace(kernels, a.L, a.p),
} as const;

export type TaskName = keyof typeof TASKS;
export type TaskArgs<N extends TaskName> = Parameters<(typeof TASKS)[N]>[1];
export type TaskResult<N extends TaskName> = ReturnType<(typeof TASKS)[N]>;

/**
 * A worker's task, as it posts the result back: the factor L of sampleMatrix ((k·d)² doubles)
 * goes into shared memory, so the calling thread receives it without a copy (and inverseTrace
 * sends it back the same way).
 */
export function runPostedTask(kernels: Kernels, name: TaskName, args: unknown): unknown {
  const result = TASKS[name](kernels, args as never);
  if (name !== 'sampleMatrix') return result;
  const J = result as SampleMatrix;
  const L = sharedF64(J.L.length);
  L.set(J.L);
  return { ...J, L };
}

export { nextTurn };

/** What runs tasks on workers (the WorkerPool). */
interface TaskPool {
  task<N extends TaskName>(name: N, args: TaskArgs<N>): Promise<TaskResult<N>>;
}

/** Task `name` on the pool's next idle worker; without a pool, on this thread a turn of its event loop later. */
export function runTask<N extends TaskName>(pool: TaskPool | undefined, kernels: Kernels, name: N, args: TaskArgs<N>): Promise<TaskResult<N>> {
  return pool ? pool.task(name, args) : nextTurn().then(() => TASKS[name](kernels, args as never) as TaskResult<N>);
}
