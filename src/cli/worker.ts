/** `pureneuron worker`: runs shard jobs from a BullMQ queue on Redis until SIGTERM / SIGINT. */
import { intFlag, parse, required } from './args.js';
import type { Io } from './io.js';

export const workerHelp = `Usage: pureneuron worker --redis URL [--concurrency N] [--queue NAME] [--quiet]

Runs pureneuron's shard jobs (the plan, and passes over single shards) for
'pureneuron learn --shards … --redis …' on any machine that reads the shard files at the
paths the manifest names (a shared disk). Each job's passes use this machine's cores.
SIGTERM or SIGINT: it stops taking jobs, finishes the ones running, and exits 0; a second
signal kills it (its job is then taken over by another worker within ~15 s).

Workers read whatever paths a manifest names: only trusted clients may reach the queue.

Options:
  --redis URL            redis://[user:password@]host:port[/db], or rediss://… for TLS
  --concurrency N        jobs at once (default 1)
  --queue NAME           queue name (default pureneuron; the same as the driver's)
  --quiet                print nothing but errors
`;

export async function workerCommand(argv: string[], io: Io): Promise<void> {
  const { values: v } = parse(argv, { redis: { type: 'string' }, concurrency: { type: 'string' }, queue: { type: 'string' }, quiet: { type: 'boolean' } });
  if (v.help) return io.out(workerHelp);
  const url = required('redis', v.redis);
  const concurrency = intFlag('concurrency', v.concurrency) ?? 1;
  // Loaded here: bullmq and ioredis are optional, and no other command needs them.
  const { createShardWorker } = await import('../distributed/worker.js');
  const { describeConnection, redisOptions } = await import('../distributed/redis.js');
  const { DEFAULT_QUEUE } = await import('../distributed/jobs.js');
  const w = await createShardWorker({ connection: url, concurrency, queue: v.queue });
  const where = `${describeConnection(redisOptions(url))} queue ${v.queue ?? DEFAULT_QUEUE}`;
  if (!v.quiet) {
    w.worker.on('active', (job) => io.err(`start ${job.name} on shard ${job.data.shard} (run ${job.data.run}, step ${job.data.step}, attempt ${job.attemptsMade + 1})`));
    w.worker.on('completed', (job) => io.err(`done ${job.name} on shard ${job.data.shard} (run ${job.data.run}) in ${((Date.now() - job.processedOn!) / 1000).toFixed(1)} s`));
    w.worker.on('failed', (job, e) => io.err(`failed ${job?.name ?? 'a job'} on shard ${job?.data.shard ?? '?'}${job && job.attemptsMade < (job.opts.attempts ?? 1) ? ' (will be retried)' : ''}: ${e.message}`));
  }
  await w.ready();
  if (!v.quiet) io.err(`pureneuron worker: waiting for jobs on ${where} (concurrency ${concurrency})`);
  await new Promise<void>((resolve) => {
    if (io.signal?.aborted) return resolve();
    io.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  if (!v.quiet) io.err('pureneuron worker: stopping (finishing the running jobs)');
  await w.close();
}
