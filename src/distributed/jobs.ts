/**
 * What travels between the driver (learnDistributed) and the shard workers through the queue:
 * one job per (run, step, shard), its input state and its output as bytes in Redis (the
 * encoded shard states of api/shardState.ts: versioned, checksummed, never JSON). A rerun of a
 * job overwrites its output key. The driver deletes the run's keys when it ends — the alive key
 * first, so that jobs still running then write nothing — and every key expires after
 * KEY_TTL_SECONDS in any case (a driver killed before it could clean up).
 */
import type { PlanOptions } from '../api/shard.js';
import type { ShardSpec } from './manifest.js';

export const DEFAULT_QUEUE = 'pureneuron';

/** A crashed driver's keys disappear after a day. */
export const KEY_TTL_SECONDS = 24 * 3600;

/**
 * Locks: a job's lock is renewed every LOCK_MS / 2 while its worker lives, and a job whose
 * lock lapsed is taken over at the next stalled check (every STALLED_MS): a SIGKILLed worker's
 * job restarts elsewhere within LOCK_MS + STALLED_MS. The passes run in worker threads and the
 * calling thread yields between steps (issue 13: ≤ 50 ms stalls), so renewals are not late.
 */
export const LOCK_MS = 10_000;
export const STALLED_MS = 5_000;

/** Transient failures (a read error, Redis briefly away) are retried: 4 attempts, 1, 2, 4 s apart. */
export const ATTEMPTS = 4;
export const BACKOFF_MS = 1_000;

export type Step = 0 | 1 | 2 | 'refine' | 3;

export interface ShardJob {
  run: string;
  /** Index of the step in the run (0: the plan, then one per pass). */
  step: number;
  /** 0: plan on the first shard; otherwise the pass to accumulate. */
  pass: Step;
  shard: number;
  source: ShardSpec;
  /** Key of the input state (the merged state of the previous step); none for the plan. */
  stateKey?: string;
  /** Key the output state is written to, only while aliveKey exists. */
  outKey: string;
  aliveKey: string;
  /** The plan's learn options. */
  options?: PlanOptions;
  /** Worker threads per job on the worker's machine ('auto': its cores). */
  workers?: number | 'auto';
}

/** Keys of a run: prefix:run:… (every key of a run shares the prefix, so cleanup finds them). */
export function runKeys(prefix: string, run: string) {
  const base = `${prefix}:${run}`;
  return {
    pattern: `${base}:*`,
    /** Set while the run lives: a worker writes its output only while it exists (jobs still running when a run fails leave nothing behind). */
    alive: `${base}:alive`,
    part: (step: number, shard: number) => `${base}:part:${step}:${shard}`,
    merged: (step: number) => `${base}:state:${step}`,
  };
}

export const jobId = (run: string, step: number, shard: number): string => `${run}-${step}-${shard}`;
