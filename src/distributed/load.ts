/**
 * bullmq and ioredis, loaded on first use: they are optional peer dependencies (the core never
 * imports them), so a missing one is a clear error naming the install command.
 */
import { PureneuronError } from '../errors.js';

export type BullMQ = typeof import('bullmq');
export type IORedisModule = typeof import('ioredis');

let loaded: Promise<{ bullmq: BullMQ; Redis: IORedisModule['Redis'] }> | undefined;

export function loadQueue(): Promise<{ bullmq: BullMQ; Redis: IORedisModule['Redis'] }> {
  loaded ??= Promise.all([import('bullmq'), import('ioredis')]).then(
    ([bullmq, ioredis]) => ({ bullmq, Redis: ioredis.Redis }),
    (e: unknown) => {
      loaded = undefined;
      throw new PureneuronError(
        'BAD_OPTION',
        `distributed runs need bullmq and ioredis, which are optional: npm install bullmq@6.7 ioredis@6.1 (${(e as Error)?.message ?? String(e)})`,
      );
    },
  );
  return loaded;
}
