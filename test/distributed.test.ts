/**
 * Learning across worker processes on BullMQ, against a real Redis server (Debian's
 * redis-server on a free loopback port; the tests skip with a notice where it is missing):
 *
 *   - `pureneuron learn --shards … --redis …` with 4 shards on 2 `pureneuron worker` processes
 *     gives the model of one `pureneuron learn` on all the data, bit for bit (whole-chunk shards),
 *     and leaves no key of the run behind; workers stop cleanly on SIGTERM (exit 0);
 *   - a worker stopped dead mid-job (SIGSTOP, then SIGKILL) has its job taken over by another;
 *   - a transient failure is retried; a missing shard fails once, names the shard, no retries;
 *   - Redis unreachable, behind a password (right, missing, wrong: never printed), or gone
 *     mid-run: a clear UNREACHABLE error, never a hang.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../src/api/generate.js';
import type { ModelJSON } from '../src/api/model.js';
import { createShardWorker, learnDistributed, type ShardWorker } from '../src/bullmq.js';
import { closeWorkers } from '../src/index.js';
import { CLI, cliBuilt, listDir, makeTempDir, readJson, removeTempDir, runCli, runCliOk } from './helpers/cli.js';
import { freePort, makeTlsFiles, redisAvailable, startRedis, type RedisServer } from './helpers/redis.js';

const D = 8;
const K = 4;
const L = 6;
const SHARD_ROWS = 10_000;
/** Whole-chunk shards (the first a multiple of chunkRows, the others one chunk): bit-for-bit equality with one run. */
const RUN = ['--k', String(K), '--chunk-rows', String(SHARD_ROWS), '--refine-samples', '20000'];
const RUN_OPTIONS = { k: K, chunkRows: SHARD_ROWS, refineSamples: 20_000 } as const;

let dir: string;
let redis: RedisServer;

const weights = (m: ModelJSON) => JSON.stringify([m.W, m.A]);

/** Writes `shards` shards of `rows` rows each (x{i}.f64, y{i}.f64), their concatenation and a manifest. */
async function writeShards(name: string, shards: number, rows: number, seed: number): Promise<string> {
  const g = generate({ n: shards * rows, d: D, k: K, l: L, seed, noise: 0.05 });
  const entries = [];
  for (let i = 0; i < shards; i++) {
    await writeFile(join(dir, `${name}-x${i}.f64`), g.x.slice(i * rows * D, (i + 1) * rows * D));
    await writeFile(join(dir, `${name}-y${i}.f64`), g.y.slice(i * rows * L, (i + 1) * rows * L));
    entries.push({ x: `${name}-x${i}.f64`, y: `${name}-y${i}.f64`, d: D, l: L });
  }
  await writeFile(join(dir, `${name}-x.f64`), g.x);
  await writeFile(join(dir, `${name}-y.f64`), g.y);
  await writeFile(join(dir, `${name}.json`), JSON.stringify(entries));
  return join(dir, `${name}.json`);
}

/** A `pureneuron worker` process; its stderr collected in `log`. */
function startWorker(url: string): { child: ChildProcess; log: () => string; started: Promise<void> } {
  const child = spawn(process.execPath, [CLI, 'worker', '--redis', url], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  let ready: () => void;
  const started = new Promise<void>((r) => (ready = r));
  child.stderr!.on('data', (b: Buffer) => {
    log += b;
    if (log.includes('waiting for jobs')) ready();
  });
  return { child, log: () => log, started };
}

const exited = (c: ChildProcess) => new Promise<number | null>((r) => (c.exitCode !== null || c.signalCode !== null ? r(c.exitCode) : c.once('exit', (code) => r(code))));

/** Keys of pureneuron runs left in Redis (BullMQ's own queue keys aside). */
async function runKeysLeft(url: string): Promise<string[]> {
  const { Redis } = await import('ioredis');
  const c = new Redis(url);
  try {
    return await c.keys('pureneuron:*');
  } finally {
    c.disconnect();
  }
}

describe.runIf(redisAvailable && cliBuilt())('BullMQ on a real Redis server', () => {
  beforeAll(async () => {
    dir = await makeTempDir('pureneuron-distributed-');
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
    await removeTempDir(dir);
    await closeWorkers();
  });

  it('4 shards on 2 worker processes: the model of one learn on all the data, bit for bit; no key left; workers exit 0 on SIGTERM', async () => {
    const manifest = await writeShards('a', 4, SHARD_ROWS, 2);
    const workers = [startWorker(redis.url), startWorker(redis.url)];
    await Promise.all(workers.map((w) => w.started));
    const r = await runCliOk(['learn', '--shards', manifest, '--redis', redis.url, ...RUN, '--out', 'dist.json'], dir);
    expect(r.stderr).toMatch(/pass 1: 4 of 4 shards \(.* shards\/s\)[\s\S]*pass 3: 4 of 4 shards[\s\S]*learned k = 4 units from 40000 samples .* through the workers/);
    await runCliOk(['learn', '--x', 'a-x.f64', '--y', 'a-y.f64', '--d', String(D), '--l', String(L), ...RUN, '--out', 'single.json', '--quiet'], dir);
    expect(weights(await readJson(join(dir, 'dist.json')))).toBe(weights(await readJson(join(dir, 'single.json'))));
    // Both workers took jobs (one job per shard and pass: 17 in all).
    for (const w of workers) expect(w.log()).toMatch(/done pass-/);
    expect(await runKeysLeft(redis.url)).toEqual([]);
    for (const w of workers) w.child.kill('SIGTERM');
    expect(await Promise.all(workers.map((w) => exited(w.child)))).toEqual([0, 0]);
  }, 60_000);

  it('a worker stopped dead mid-job: another takes the job over and the run ends with the same model', async () => {
    // Larger shards, so a job is still running when its worker is stopped.
    const manifest = await writeShards('b', 4, 250_000, 3);
    const a = startWorker(redis.url);
    await a.started;
    const run = runCli(['learn', '--shards', manifest, '--redis', redis.url, '--k', String(K), '--chunk-rows', '250000', '--quiet', '--out', 'killed.json'], dir, 120_000);
    // The first job A starts: freeze A at once (its job cannot finish), then kill it.
    const first = await new Promise<string>((resolve) => {
      const look = () => {
        const m = /start (\S+) on shard (\d+) \(run (\S+), step (\d+)/.exec(a.log());
        if (m) resolve(`start ${m[1]} on shard ${m[2]} (run ${m[3]}, step ${m[4]}`);
        else setTimeout(look, 2);
      };
      look();
    });
    a.child.kill('SIGSTOP');
    a.child.kill('SIGKILL');
    await exited(a.child);
    const b = startWorker(redis.url);
    const r = await run;
    expect(r.code, r.stderr).toBe(0);
    // B ran the job A held (taken over once A's lock lapsed).
    expect(b.log()).toContain(first);
    await runCliOk(['learn', '--x', 'b-x.f64', '--y', 'b-y.f64', '--d', String(D), '--l', String(L), '--k', String(K), '--chunk-rows', '250000', '--out', 'killed-single.json', '--quiet'], dir);
    expect(weights(await readJson(join(dir, 'killed.json')))).toBe(weights(await readJson(join(dir, 'killed-single.json'))));
    b.child.kill('SIGTERM');
    expect(await exited(b.child)).toBe(0);
  }, 120_000);

  describe('in-process workers (createShardWorker)', () => {
    let workers: ShardWorker[] = [];
    const attempts: string[] = [];
    let failOnce: string | undefined;
    beforeAll(async () => {
      const beforeJob = (job: { step: number; shard: number }, attempt: number) => {
        const key = `${job.step}/${job.shard}`;
        attempts.push(`${key}#${attempt}`);
        if (key === failOnce && attempt === 1) throw new Error('injected transient failure');
      };
      workers = [await createShardWorker({ connection: redis.url, beforeJob }), await createShardWorker({ connection: redis.url, beforeJob })];
      await Promise.all(workers.map((w) => w.ready()));
    });
    afterAll(async () => {
      await Promise.all(workers.map((w) => w.close()));
    });

    it('a transient failure is retried (with backoff) and the model is unchanged', async () => {
      const manifest = await writeShards('c', 4, SHARD_ROWS, 4);
      failOnce = '1/2'; // pass 1 on shard 2
      attempts.length = 0;
      const model = await learnDistributed({ connection: redis.url, shards: manifest, ...RUN_OPTIONS });
      expect(attempts).toContain('1/2#1');
      expect(attempts).toContain('1/2#2');
      failOnce = undefined;
      const again = await learnDistributed({ connection: redis.url, shards: manifest, ...RUN_OPTIONS });
      expect(weights(model.toJSON())).toBe(weights(again.toJSON()));
    }, 60_000);

    it('a missing shard file fails once (no retries) and the run ends with an error naming the shard', async () => {
      const manifest = await writeShards('e', 4, SHARD_ROWS, 5);
      const entries = (await readJson(manifest)) as { x: string }[];
      entries[3]!.x = 'gone.f64';
      await writeFile(manifest, JSON.stringify(entries));
      attempts.length = 0;
      await expect(learnDistributed({ connection: redis.url, shards: manifest, ...RUN_OPTIONS })).rejects.toMatchObject({
        code: 'SHARD_FAILED',
        message: expect.stringMatching(/^shard 3 \(.*gone\.f64, .*e-y3\.f64\) failed pass 1: cannot open .*gone\.f64: no such file/),
      });
      expect(attempts.filter((a) => a.endsWith('/3#1') || a.endsWith('/3#2'))).toEqual(['1/3#1']);
      expect(await runKeysLeft(redis.url)).toEqual([]);
    }, 60_000);

    it('from the CLI: exit 1, one line naming the shard, no model written', async () => {
      const manifest = await writeShards('f', 2, SHARD_ROWS, 6);
      await writeFile(join(dir, 'f-y1.f64'), new Float64Array(10)); // 10 values: not 10 000 rows of 6
      const before = await listDir(dir);
      const r = await runCli(['learn', '--shards', manifest, '--redis', redis.url, ...RUN, '--out', 'f-model.json'], dir);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^pureneuron: shard 1 \(.*f-x1\.f64, .*f-y1\.f64\) failed pass 1: .*f-y1\.f64/m);
      expect(r.stderr.trimEnd().split('\n').filter((s) => s.startsWith('pureneuron:'))).toHaveLength(1);
      expect(await listDir(dir)).toEqual(before);
    }, 60_000);

    it('Redis gone mid-run: UNREACHABLE after redisTimeoutMs, not a hang', async () => {
      const other = await startRedis();
      const w = await createShardWorker({ connection: other.url, beforeJob: async (job) => void (job.step === 2 && (await other.stop())) });
      try {
        const manifest = await writeShards('g', 4, SHARD_ROWS, 7);
        const t0 = performance.now();
        await expect(learnDistributed({ connection: other.url, shards: manifest, ...RUN_OPTIONS, redisTimeoutMs: 2000 })).rejects.toMatchObject({
          code: 'UNREACHABLE',
          message: expect.stringMatching(new RegExp(`^cannot keep reaching Redis at redis://127\\.0\\.0\\.1:${other.port}: `)),
        });
        // A hang guard, not a timing: the watchdog's 2 s plus a few pings.
        expect(performance.now() - t0).toBeLessThan(30_000);
      } finally {
        await Promise.race([w.worker.close(true), new Promise((r) => setTimeout(r, 2000))]);
        await other.stop();
      }
    }, 60_000);
  });

  it('Redis unreachable: a clear error at once (library and CLI), for the driver and for a worker', async () => {
    const port = await freePort();
    await expect(learnDistributed({ connection: `redis://127.0.0.1:${port}`, shards: [{ x: 'x.f64', y: 'y.f64', d: 1, l: 1 }], k: 1 })).rejects.toMatchObject({
      code: 'UNREACHABLE',
      message: expect.stringMatching(new RegExp(`^cannot connect to Redis at redis://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`)),
    });
    for (const args of [['worker', '--redis', `redis://127.0.0.1:${port}`], ['learn', '--shards', join(dir, 'a.json'), '--redis', `redis://127.0.0.1:${port}`, '--k', '2', '--out', 'u.json']]) {
      const r = await runCli(args, dir, 30_000);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^pureneuron: cannot connect to Redis at redis://127\\.0\\.0\\.1:${port}: `));
    }
  }, 60_000);

  it('TLS (rediss://): with the CA trusted (NODE_EXTRA_CA_CERTS) a run works; without, a clear error', async () => {
    const tls = makeTlsFiles(dir);
    if (!tls) return;
    const secure = await startRedis({ tls });
    try {
      const manifest = await writeShards('t', 2, SHARD_ROWS, 10);
      const trusted = { ...process.env, NODE_EXTRA_CA_CERTS: tls.ca };
      const w = spawn(process.execPath, [CLI, 'worker', '--redis', secure.url, '--quiet'], { cwd: dir, env: trusted, stdio: 'ignore' });
      const learn = (env: NodeJS.ProcessEnv) =>
        new Promise<{ code: number | null; stderr: string }>((resolve) => {
          const c = spawn(process.execPath, [CLI, 'learn', '--shards', manifest, '--redis', secure.url, ...RUN, '--out', 'tls.json', '--quiet'], { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
          let stderr = '';
          c.stderr!.on('data', (b: Buffer) => (stderr += b));
          c.on('close', (code) => resolve({ code, stderr }));
        });
      const ok = await learn(trusted);
      expect(ok.code, ok.stderr).toBe(0);
      w.kill('SIGTERM');
      expect(await exited(w)).toBe(0);
      const untrusted = await learn(process.env);
      expect(untrusted.code).toBe(1);
      expect(untrusted.stderr).toMatch(new RegExp(`^pureneuron: cannot connect to Redis at rediss://127\\.0\\.0\\.1:${secure.port}: .*certificate`));
    } finally {
      await secure.stop();
    }
  }, 60_000);

  it('a password-protected Redis: the right password works; a missing or wrong one is a clear error that never shows it', async () => {
    const secret = 's3cr3t-pässword';
    const locked = await startRedis({ password: secret });
    try {
      const manifest = await writeShards('h', 2, SHARD_ROWS, 8);
      const w = startWorker(locked.url);
      await w.started;
      const ok = await runCli(['learn', '--shards', manifest, '--redis', locked.url, ...RUN, '--out', 'locked.json'], dir);
      expect(ok.code, ok.stderr).toBe(0);
      w.child.kill('SIGTERM');
      await exited(w.child);
      for (const url of [`redis://127.0.0.1:${locked.port}`, `redis://:wrong-${encodeURIComponent(secret)}@127.0.0.1:${locked.port}`]) {
        const r = await runCli(['learn', '--shards', manifest, '--redis', url, ...RUN, '--out', 'nope.json'], dir, 30_000);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(new RegExp(`^pureneuron: cannot connect to Redis at redis://127\\.0\\.0\\.1:${locked.port}: .*(NOAUTH|WRONGPASS)`));
        expect(r.stderr).not.toContain('s3cr3t');
        expect(ok.stderr + w.log()).not.toContain('s3cr3t');
      }
    } finally {
      await locked.stop();
    }
  }, 60_000);
});
