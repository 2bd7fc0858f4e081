/**
 * What the learner asks of its host: cores, memory, a turn of the event loop, whether it can
 * start workers (threads.ts starts them). This is Node's; the browser bundles
 * (scripts/browser-build.mjs) put platform.browser.ts in its place. The worker bundles import
 * this module too, so it must not import the workers' own generated sources (threads.ts does).
 */
import { availableParallelism, totalmem } from 'node:os';

/** Cores the worker pool may use. */
export const cores = (): number => availableParallelism();

/** The machine's memory in bytes (cacheBytes 'auto' takes a quarter of it, at most 1 GiB). */
export const memoryBytes = (): number => totalmem();

/** Worker threads can be started here. */
export const canStartWorkers = true;

/** Resolves on a later turn of the event loop: work on the calling thread yields between steps. */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
