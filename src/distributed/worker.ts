/**
 * A shard worker: a BullMQ worker that runs pureneuron's shard jobs (jobs.ts) — the plan on the
 * first shard, then one pass over one shard per job — reading the shard's files (shared disk,
 * the same paths) and the input state from Redis, and writing its output state there.
 *
 * Failures: a bad shard (missing, malformed, wrong shape, bad values, a state that does not fit)
 * fails the job at once, without retries (UnrecoverableError); anything else — a read error, Redis
 * briefly away — is retried with exponential backoff (jobs.ts). A worker killed mid-job loses its
 * lock, and another worker takes the job over (jobs.ts: LOCK_MS, STALLED_MS).
 */
import { availableParallelism } from 'node:os';
import type { ConnectionOptions, Job, Worker } from 'bullmq';
import { accumulateShard, planShards } from '../api/shard.js';
import { decodeState, encodeState } from '../api/shardState.js';
import { PureneuronError } from '../errors.js';
import { fileSource } from '../sources/files.js';
import { DEFAULT_QUEUE, KEY_TTL_SECONDS, LOCK_MS, STALLED_MS, type ShardJob } from './jobs.js';
import { loadQueue } from './load.js';
import { connectClient, redisOptions, type Connection } from './redis.js';

export interface ShardWorkerOptions {
  /** Redis: a redis:// or rediss:// URL, or ioredis options. */
  connection: Connection;
  /** Queue name (default 'pureneuron'); the driver must use the same. */
  queue?: string;
  /** Jobs run at once by this worker (default 1: each job's passes already use the machine's cores). */
  concurrency?: number;
  /** @internal Called before each job runs (tests inject transient failures here). */
  beforeJob?: (job: ShardJob, attempt: number) => void | Promise<void>;
}

export interface ShardWorker {
  /** Resolves once the worker has connected and waits for jobs. */
  ready(): Promise<void>;
  /** Stops taking jobs, lets the current ones finish, and disconnects. */
  close(): Promise<void>;
  /** The BullMQ worker, for events ('completed', 'failed', 'error'). */
  readonly worker: Worker;
}

const WRITE_IF_ALIVE = "if redis.call('exists', KEYS[1]) == 1 then return redis.call('set', KEYS[2], ARGV[1], 'EX', ARGV[2]) else return false end";

/** Errors that rerunning the job cannot fix: the data or the state is wrong. */
const FINAL_CODES = new Set(['BAD_FILE', 'BAD_VALUE', 'BAD_SHAPE', 'BAD_OPTION', 'TOO_FEW_SAMPLES', 'RANK_DEFICIENT', 'NUMERICAL_FAILURE']);

export async function createShardWorker(options: ShardWorkerOptions): Promise<ShardWorker> {
  const { bullmq, Redis } = await loadQueue();
  const conn = redisOptions(options.connection);
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  // Its own client for the states (BullMQ's blocking connection is busy waiting for jobs).
  const redis = await connectClient(Redis, conn, 3);

  const runJob = async (job: Job<ShardJob>): Promise<{ bytes: number; rows: number }> => {
    const data = job.data;
    await options.beforeJob?.(data, job.attemptsMade + 1);
    try {
      const source = await fileSource(data.source);
      let state;
      if (data.stateKey !== undefined) {
        const bytes = await redis.getBuffer(data.stateKey);
        if (!bytes) throw new PureneuronError('BAD_FILE', `the input state ${data.stateKey} is not in Redis (the run was cleaned up, or its keys expired)`);
        state = decodeState(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), data.stateKey);
      }
      // Worker threads even for a one-chunk shard ('auto' would keep a single chunk on this
      // thread): the event loop must stay free to renew the job's lock (jobs.ts: LOCK_MS).
      const workers = data.workers === undefined || data.workers === 'auto' ? availableParallelism() : data.workers;
      const out = data.pass === 0 ? await planShards(source, data.options ?? { k: 'auto' }) : await accumulateShard(source, { pass: data.pass, state, workers });
      const bytes = encodeState(out);
      // Atomically: the output only while the run lives (a failed or finished run's keys stay deleted).
      await redis.eval(WRITE_IF_ALIVE, 2, data.aliveKey, data.outKey, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), KEY_TTL_SECONDS);
      return { bytes: bytes.length, rows: out.passes.at(-1)?.rows ?? 0 };
    } catch (e) {
      if (e instanceof PureneuronError && FINAL_CODES.has(e.code)) throw new bullmq.UnrecoverableError(`${e.code}: ${e.message}`);
      if (e instanceof TypeError || e instanceof RangeError) throw new bullmq.UnrecoverableError(`BAD_OPTION: ${e.message}`);
      throw e;
    }
  };

  const worker = new bullmq.Worker<ShardJob>(options.queue ?? DEFAULT_QUEUE, runJob, {
    connection: { ...conn, maxRetriesPerRequest: null } as ConnectionOptions,
    concurrency,
    lockDuration: LOCK_MS,
    stalledInterval: STALLED_MS,
    // A job left by a dead worker is rerun once more at most; then it fails (not an endless loop).
    maxStalledCount: 2,
    autorun: true,
  });
  worker.on('error', () => undefined); // connection errors: BullMQ reconnects; the driver's watchdog reports a lost server
  return {
    worker,
    ready: () => worker.waitUntilReady().then(() => undefined),
    async close() {
      await worker.close();
      redis.disconnect();
    },
  };
}
