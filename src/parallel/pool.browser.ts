/**
 * The worker pool in the browser build (which substitutes this module for pool.ts): Web Workers
 * are not started yet, so every pass runs on the calling thread (platform.browser.ts resolves
 * workers 'auto' to 0); an explicit worker count is refused with what to do instead.
 */
import { PureneuronError } from '../errors.js';
import type { BackendName } from '../kernels/types.js';

export type WorkerPool = never;

export function sharedPool(size: number, backend: BackendName): WorkerPool {
  void backend;
  throw new PureneuronError('BAD_OPTION', `workers = ${size}: this browser build runs every pass on the page's thread; use workers: 0 (or 'auto')`);
}

export function releasePool(pool: WorkerPool): void {
  void pool;
}

export async function closeSharedPools(): Promise<void> {}
