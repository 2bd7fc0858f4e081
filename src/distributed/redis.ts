/**
 * Redis connections for the distributed runs: a URL (`redis://[user:password@]host:port[/db]`,
 * `rediss://` for TLS) or ioredis options, as BullMQ takes them. The password never appears in a
 * message: connections are named by host, port and db only.
 */
import type { RedisOptions } from 'ioredis';
import { PureneuronError } from '../errors.js';

export type Connection = string | RedisOptions;

/** ioredis options from a URL or options (copied). */
export function redisOptions(connection: Connection): RedisOptions {
  if (typeof connection !== 'string') {
    if (connection === null || typeof connection !== 'object') throw new TypeError('connection must be a redis:// URL or ioredis options { host, port, password?, tls? }');
    return { ...connection };
  }
  let url: URL;
  try {
    url = new URL(connection);
  } catch {
    throw new PureneuronError('BAD_OPTION', `not a Redis URL: ${JSON.stringify(mask(connection))} (expected redis://host:port or rediss://… for TLS)`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new PureneuronError('BAD_OPTION', `a Redis URL starts with redis:// or rediss://, got ${url.protocol}//`);
  const db = url.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new PureneuronError('BAD_OPTION', `the Redis database in the URL must be a number, got "${db}"`);
  return {
    host: url.hostname || '127.0.0.1',
    port: url.port ? Number(url.port) : 6379,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** A URL with its password replaced by ***. */
function mask(url: string): string {
  return url.replace(/\/\/([^:@/]*):([^@/]*)@/, '//$1:***@');
}

/** How messages name a connection: scheme, host, port, db — never the password. */
export function describeConnection(o: RedisOptions): string {
  return `${o.tls ? 'rediss' : 'redis'}://${o.host ?? '127.0.0.1'}:${o.port ?? 6379}${o.db ? `/${o.db}` : ''}`;
}

/** An error that names the server and says what to check, without the password. */
export function unreachable(o: RedisOptions, e: unknown, doing = 'connect to'): PureneuronError {
  const reason = (e as Error)?.message ?? String(e);
  const err = new PureneuronError('UNREACHABLE', `cannot ${doing} Redis at ${describeConnection(o)}: ${reason.replace(/:\/\/[^@\s]*@/g, '://***@')}`);
  err.cause = e;
  return err;
}

/**
 * A connected ioredis client: no reconnection while connecting (so an unreachable or refusing
 * server fails at once, with the server's own reason: ECONNREFUSED, NOAUTH, WRONGPASS), then
 * reconnecting with a short backoff; commands fail after `retries` attempts instead of queueing
 * for ever.
 */
export async function connectClient(Redis: typeof import('ioredis').Redis, o: import('ioredis').RedisOptions, retries: number): Promise<import('ioredis').Redis> {
  let last: Error | undefined;
  const client = new Redis({ ...o, lazyConnect: true, maxRetriesPerRequest: retries, connectTimeout: 5000, retryStrategy: () => null });
  client.on('error', (e: Error) => (last = e));
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    client.disconnect();
    throw unreachable(o, last ?? e);
  }
  client.options.retryStrategy = (n: number) => Math.min(200 * n, 1000);
  return client;
}

/** Whether an error is the Redis connection failing (not the data, not a bug). */
export function isConnectionError(e: unknown): boolean {
  const err = e as NodeJS.ErrnoException | undefined;
  return err?.name === 'MaxRetriesPerRequestError' || /^(ECONN|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND)/.test(err?.code ?? '') || /Connection is closed|Stream isn't writeable/.test(err?.message ?? '');
}
