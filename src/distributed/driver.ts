/**
 * learnDistributed: the whole learner over shards on BullMQ workers — the plan on the first
 * shard, then per step one job per shard and their merge here, in shard order (never arrival
 * order), until nextStep says finish; the model is built here from the merged pass-3 state.
 * It equals `learn()` on the concatenated data as the shard steps do (api/shard.ts): bit for
 * bit when the first shard holds a multiple of chunkRows samples and every later one a chunk.
 *
 * The states are bytes in Redis under prefix:run:… (jobs.ts), deleted when the run ends,
 * however it ends. A job that fails for good (after retries, or at once for bad input) ends the
 * run with SHARD_FAILED naming the shard; Redis unreachable at the start, or away for longer than
 * redisTimeoutMs during the run, ends it with UNREACHABLE — never a hang.
 */
import { randomUUID } from 'node:crypto';
import type { ConnectionOptions, Job, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { Model } from '../api/model.js';
import { FIT_OPTION_KEYS, resolveLearnOptions, type LearnOptions } from '../api/options.js';
import { finishShards, mergeStates, nextStep, type PlanOptions } from '../api/shard.js';
import { decodeState, encodeState, type ShardState } from '../api/shardState.js';
import { PureneuronError } from '../errors.js';
import { ATTEMPTS, BACKOFF_MS, DEFAULT_QUEUE, jobId, KEY_TTL_SECONDS, runKeys, type ShardJob, type Step } from './jobs.js';
import { loadQueue } from './load.js';
import { readManifest, resolveShards, shardName, type ShardSpec } from './manifest.js';
import { connectClient, isConnectionError, redisOptions, unreachable, type Connection } from './redis.js';

export interface DistributedProgress {
  /** 'plan', then the pass: 1, 2, 'refine', 3. */
  step: 'plan' | 1 | 2 | 'refine' | 3;
  /** Shards done in this step, of total. */
  done: number;
  total: number;
}

export interface DistributedOptions extends Pick<LearnOptions, (typeof FIT_OPTION_KEYS)[number] | 'chunkRows'> {
  /** Redis: a redis:// or rediss:// URL, or ioredis options. */
  connection: Connection;
  /** The shards in data order (fileSource options each, or a manifest file's path). */
  shards: ShardSpec[] | string;
  /** Queue name (default 'pureneuron'): the workers' queue. */
  queue?: string;
  /** Worker threads per job on the worker machines (default 'auto': their cores). */
  workersPerJob?: number | 'auto';
  /** How long Redis may be unreachable during the run before it fails (default 15 000 ms). */
  redisTimeoutMs?: number;
  /** Prefix of the run's Redis keys (default 'pureneuron'). */
  prefix?: string;
  signal?: AbortSignal;
  onProgress?: (p: DistributedProgress) => void;
}

/** `p`, or undefined after ms (closing a client whose server is gone can wait for ever); the timer never holds the process. */
function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export async function learnDistributed(options: DistributedOptions): Promise<Model> {
  if (options === null || typeof options !== 'object') throw new TypeError('learnDistributed expects { connection, shards, k, … }');
  const { connection, shards: shardsIn, queue: queueName = DEFAULT_QUEUE, workersPerJob = 'auto', redisTimeoutMs = 15_000, prefix = 'pureneuron', signal, onProgress } = options;
  const fit = Object.fromEntries(Object.entries(options).filter(([key]) => (FIT_OPTION_KEYS as readonly string[]).includes(key) || key === 'chunkRows')) as PlanOptions;
  resolveLearnOptions(fit as LearnOptions); // names and values, as learn() checks them, before anything runs
  const shards = typeof shardsIn === 'string' ? await readManifest(shardsIn) : await resolveShards(shardsIn, process.cwd());
  const conn = redisOptions(connection);
  const { bullmq, Redis: RedisClient } = await loadQueue();

  // The states' client: fails fast when the server is away (the watchdog decides when that is fatal).
  const redis: Redis = await connectClient(RedisClient, conn, 1);
  const bullConn = { ...conn, maxRetriesPerRequest: null } as ConnectionOptions;
  const queue: Queue = new bullmq.Queue(queueName, { connection: bullConn });
  const events: QueueEvents = new bullmq.QueueEvents(queueName, { connection: bullConn });
  queue.on('error', () => undefined);
  events.on('error', () => undefined);

  const run = randomUUID().slice(0, 13);
  const keys = runKeys(prefix, run);
  let failed: ((e: Error) => void) | undefined;
  const fatal = new Promise<never>((_, reject) => (failed = reject));
  fatal.catch(() => undefined);
  // Watchdog: a ping every second; Redis away for longer than redisTimeoutMs ends the run.
  let lastOk = Date.now();
  const watchdog = setInterval(() => {
    within(redis.ping(), 1000).then(
      (pong) => {
        if (pong === 'PONG') lastOk = Date.now();
        else if (Date.now() - lastOk > redisTimeoutMs) failed!(unreachable(conn, new Error(`no answer for ${Math.round((Date.now() - lastOk) / 1000)} s`), 'keep reaching'));
      },
      (e: unknown) => {
        if (Date.now() - lastOk > redisTimeoutMs) failed!(unreachable(conn, e, 'keep reaching'));
      },
    );
  }, 1000);
  const onAbort = () => failed!(new PureneuronError('ABORTED', `aborted while learning on ${shards.length} shards: ${(signal!.reason as Error)?.message ?? 'aborted'}`));
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort();
  let added: Job<ShardJob>[] = [];

  /**
   * Runs one step on the given shards and returns their outputs merged, folded in shard order:
   * ((p₀ + p₁) + p₂) + … is the order mergeStates adds a list in, and only one part is held at a
   * time (from pass 2 on, each part carries the refinement's subsample: ~16 MiB).
   */
  const runStep = async (step: number, pass: Step, which: number[], stateKey: string | undefined): Promise<ShardState> => {
    const label = pass === 0 ? 'plan' : pass;
    let done = 0;
    onProgress?.({ step: label, done, total: which.length });
    const ids = new Set(which.map((i) => jobId(run, step, i)));
    const onCompleted = ({ jobId: id }: { jobId: string }) => {
      if (ids.has(id)) onProgress?.({ step: label, done: ++done, total: which.length });
    };
    events.on('completed', onCompleted);
    try {
      added = await queue.addBulk(
        which.map((i) => ({
          name: pass === 0 ? 'plan' : `pass-${pass}`,
          data: { run, step, pass, shard: i, source: shards[i]!, stateKey, outKey: keys.part(step, i), aliveKey: keys.alive, options: pass === 0 ? fit : undefined, workers: workersPerJob } satisfies ShardJob,
          opts: { jobId: jobId(run, step, i), attempts: ATTEMPTS, backoff: { type: 'exponential', delay: BACKOFF_MS }, removeOnComplete: true, removeOnFail: true },
        })),
      );
      await Promise.race([
        fatal,
        Promise.all(
          added.map((job, k) =>
            job.waitUntilFinished(events).catch((e: unknown) => {
              const reason = ((e as Error)?.message ?? String(e)).replace(/^(BAD_[A-Z]+|TOO_FEW_SAMPLES|RANK_DEFICIENT|NUMERICAL_FAILURE): /, '');
              throw new PureneuronError('SHARD_FAILED', `${shardName(shards, which[k]!)} failed ${pass === 0 ? 'the plan' : `pass ${pass}`}: ${reason}`);
            }),
          ),
        ),
      ]);
    } finally {
      events.off('completed', onCompleted);
    }
    let merged: ShardState | undefined;
    for (const i of which) {
      const bytes = await redis.getBuffer(keys.part(step, i));
      if (!bytes) throw new PureneuronError('SHARD_FAILED', `${shardName(shards, i)}: its output for step ${step} is missing from Redis`);
      const part = decodeState(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), shardName(shards, i));
      merged = merged === undefined ? (pass === 0 ? part : mergeStates([part], [shardName(shards, i)])) : mergeStates([merged, part], [merged.source ?? 'the merged parts', shardName(shards, i)]);
      await redis.unlink(keys.part(step, i));
    }
    return merged!;
  };

  const setState = async (key: string, state: ShardState): Promise<void> => {
    const bytes = encodeState(state);
    await redis.set(key, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), 'EX', KEY_TTL_SECONDS);
  };

  try {
    await redis.set(keys.alive, '1', 'EX', KEY_TTL_SECONDS);
    await events.waitUntilReady();
    let merged = await runStep(0, 0, [0], undefined);
    let stateKey = keys.merged(0);
    await setState(stateKey, merged);
    let pass: Step = 1;
    for (let step = 1; ; step++) {
      merged = await runStep(step, pass, shards.map((_, i) => i), stateKey);
      const next = await nextStep(merged);
      if (next === 'finish') break;
      pass = next;
      stateKey = keys.merged(step);
      await setState(stateKey, merged);
    }
    return await finishShards(merged);
  } catch (e) {
    // Jobs still waiting would run for nothing: take them out of the queue.
    await within(Promise.allSettled(added.map((j) => j.remove())), 2000);
    if (isConnectionError(e)) throw unreachable(conn, e, 'keep reaching');
    throw e;
  } finally {
    clearInterval(watchdog);
    signal?.removeEventListener('abort', onAbort);
    await within(redis.del(keys.alive).then(() => deleteKeys(redis, keys.pattern)).catch(() => undefined), 2000);
    await within(Promise.allSettled([events.close(), queue.close()]), 2000);
    redis.disconnect();
    events.disconnect().catch(() => undefined);
    queue.disconnect().catch(() => undefined);
  }
}

/** Deletes a run's keys (SCAN, not KEYS: the server keeps answering others meanwhile). */
async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    if (found.length > 0) await redis.unlink(...found);
    cursor = next;
  } while (cursor !== '0');
}

