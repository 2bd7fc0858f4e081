/**
 * pureneuron on BullMQ (Redis): `import { learnDistributed, createShardWorker } from 'pureneuron/bullmq'`.
 * bullmq and ioredis are optional peer dependencies, loaded only through this entry point.
 */
export { learnDistributed } from './distributed/driver.js';
export type { DistributedOptions, DistributedProgress } from './distributed/driver.js';
export { createShardWorker } from './distributed/worker.js';
export type { ShardWorker, ShardWorkerOptions } from './distributed/worker.js';
export { readManifest } from './distributed/manifest.js';
export type { ShardSpec } from './distributed/manifest.js';
export type { Connection } from './distributed/redis.js';
