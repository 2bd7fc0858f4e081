/**
 * examples/service.ts driven over real HTTP on 127.0.0.1 (ephemeral port): a planted job is
 * learned and recovers W; a big job is cancelled while it runs; the bounds (429, 413) and the
 * error answers (400, 404, 422) hold; /health answers quickly while a job runs.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createService, type Service } from '../examples/service.js';
import { compare } from '../src/api/compare.js';
import { generate } from '../src/api/generate.js';
import { Model } from '../src/api/model.js';

const MAX_BODY = 1024 * 1024;
let service: Service;
let base: string;

beforeAll(async () => {
  service = createService({ maxConcurrentJobs: 2, maxBodyBytes: MAX_BODY });
  await new Promise<void>((resolve) => service.server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(service.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await service?.close();
});

interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  ms: number;
}

async function api(method: string, path: string, body?: unknown, raw?: string): Promise<Reply> {
  const t0 = performance.now();
  const res = await fetch(base + path, {
    method,
    headers: body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : undefined,
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, ms: performance.now() - t0 };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls GET /jobs/:id until `done(job)` or the deadline; returns the last view. */
async function pollJob(id: string, done: (job: any) => boolean, timeoutMs: number): Promise<any> {
  const deadline = performance.now() + timeoutMs;
  let job: any;
  while (performance.now() < deadline) {
    const r = await api('GET', `/jobs/${id}`);
    expect(r.status).toBe(200);
    job = r.body;
    if (done(job)) return job;
    await sleep(25);
  }
  throw new Error(`job ${id} did not reach the expected state within ${timeoutMs} ms; last: ${JSON.stringify({ status: job?.status, progress: job?.progress })}`);
}

/** Waits until no learner runs (cancelled ones included). */
async function waitIdle(timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    const r = await api('GET', '/health');
    if (r.body.running === 0) return performance.now() - t0;
    await sleep(20);
  }
  throw new Error(`learners still running after ${timeoutMs} ms`);
}

/**
 * A planted job that runs for many seconds unless cancelled: 400k samples, then up to 50
 * Gauss–Newton refinement passes over 100k of them (each ≈ 0.3–0.8 s on 2 cores).
 */
const big = (options: Record<string, unknown>) => ({
  generate: { distribution: 'gaussian', n: 400_000, d: 16, k: 4, l: 8, seed: 5, noise: 0.05 },
  options: { refine: 50, ...options },
});

describe('examples/service.ts over HTTP', () => {
  it('GET /health answers 200', async () => {
    const r = await api('GET', '/health');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'ok', running: 0 });
  });

  it('learns a planted problem: 202, progress, then a model that recovers W', async () => {
    const planted = { distribution: 'gaussian', n: 20_000, d: 8, k: 4, l: 6, seed: 7, noise: 0.05 } as const;
    const post = await api('POST', '/jobs', { generate: planted });
    expect(post.status).toBe(202);
    expect(post.body).toEqual({ id: expect.any(String), status: 'running' });

    const job = await pollJob(post.body.id, (j) => j.status !== 'running', 15_000);
    expect(job.status).toBe('done');
    expect(job.error).toBeUndefined();
    expect(job.progress).toMatchObject({ phase: expect.stringMatching(/^pass3$|^refine$/), done: 20_000, total: 20_000 });
    const json = job.model;
    expect(json).toMatchObject({ format: 'pureneuron-model', d: 8, k: 4, l: 6 });
    expect(json.W).toHaveLength(4);
    for (const row of json.W) expect(row).toHaveLength(8);
    expect(json.A).toHaveLength(6);
    for (const row of json.A) expect(row).toHaveLength(4);
    expect(json.diagnostics.n).toBe(20_000);

    const { truth } = generate(planted);
    expect(compare(Model.fromJSON(json), truth).wError).toBeLessThan(0.1);
  });

  it('learns from samples in the body, nested rows or flat with d and l', async () => {
    const g = generate({ n: 3000, d: 4, k: 2, l: 3, seed: 11, noise: 0.01 });
    const rows = (a: Float64Array, w: number) => Array.from({ length: a.length / w }, (_, i) => Array.from(a.subarray(i * w, (i + 1) * w)));
    const nested = await api('POST', '/jobs', { x: rows(g.x, 4), y: rows(g.y, 3), k: 2, options: { seed: 3, workers: 0 } });
    const flat = await api('POST', '/jobs', { x: Array.from(g.x), y: Array.from(g.y), d: 4, l: 3, k: 2, options: { seed: 3, workers: 0 } });
    expect(nested.status).toBe(202);
    expect(flat.status).toBe(202);
    const a = await pollJob(nested.body.id, (j) => j.status !== 'running', 10_000);
    const b = await pollJob(flat.body.id, (j) => j.status !== 'running', 10_000);
    expect(a.status).toBe('done');
    expect(b.status).toBe('done');
    expect(a.model).toMatchObject({ d: 4, k: 2, l: 3 });
    expect(b.model.W).toEqual(a.model.W); // same samples, same seed: the same model
    expect(compare(Model.fromJSON(a.model), g.truth).wError).toBeLessThan(0.2);
  });

  it('cancels a running job (workers: 2, chunkRows: 2000) within 2 s; /health stays fast meanwhile', async () => {
    const post = await api('POST', '/jobs', big({ workers: 2, chunkRows: 2000 }));
    expect(post.status).toBe(202);
    const id = post.body.id;
    // Under way: some chunks done.
    const running = await pollJob(id, (j) => j.status !== 'running' || j.progress.done > 0, 5_000);
    expect(running.status).toBe('running');

    // The event loop is not blocked: health checks while the passes run in worker threads.
    const latencies: number[] = [];
    for (let i = 0; i < 10; i++) {
      const h = await api('GET', '/health');
      expect(h.status).toBe(200);
      expect(h.body.running).toBe(1);
      latencies.push(h.ms);
      await sleep(20);
    }
    expect(Math.max(...latencies)).toBeLessThan(200);

    const before = await api('GET', `/jobs/${id}`);
    expect(before.body.status).toBe('running'); // still running: the DELETE below really cancels
    const t0 = performance.now();
    const del = await api('DELETE', `/jobs/${id}`);
    expect(del.status).toBe(200);
    expect(del.body.status).toBe('cancelled');
    const after = await pollJob(id, (j) => j.status === 'cancelled', 2_000);
    expect(after.model).toBeUndefined();
    // The learner itself has stopped (its slot is free) within the same 2 s.
    await waitIdle(2_000 - (performance.now() - t0));
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect((await api('GET', `/jobs/${id}`)).body.status).toBe('cancelled');
  });

  it('a workers: 0 job leaves the event loop free too (the service yields between chunks)', async () => {
    const post = await api('POST', '/jobs', big({ workers: 0, chunkRows: 4000 }));
    expect(post.status).toBe(202);
    const id = post.body.id;
    await pollJob(id, (j) => j.status !== 'running' || j.progress.done > 0, 5_000);
    const latencies: number[] = [];
    for (let i = 0; i < 10; i++) latencies.push((await api('GET', '/health')).ms);
    expect(Math.max(...latencies)).toBeLessThan(200);
    const del = await api('DELETE', `/jobs/${id}`);
    expect(del.body.status).toBe('cancelled');
    expect(await waitIdle(2_000)).toBeLessThan(2_000);
  });

  it('429 beyond maxConcurrentJobs', async () => {
    const a = await api('POST', '/jobs', big({ workers: 1, chunkRows: 2000 }));
    const b = await api('POST', '/jobs', big({ workers: 1, chunkRows: 2000 }));
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    const c = await api('POST', '/jobs', { generate: { n: 1000, d: 4, k: 2, l: 3 } });
    expect(c.status).toBe(429);
    expect(c.body.error.code).toBe('TOO_MANY_JOBS');
    for (const id of [a.body.id, b.body.id]) expect((await api('DELETE', `/jobs/${id}`)).body.status).toBe('cancelled');
    await waitIdle(3_000);
    const d = await api('POST', '/jobs', { generate: { n: 1000, d: 4, k: 2, l: 3 } });
    expect(d.status).toBe(202);
    await pollJob(d.body.id, (j) => j.status !== 'running', 10_000);
  });

  it('bad JSON → 400 with a one-line message; unknown job → 404', async () => {
    const bad = await api('POST', '/jobs', undefined, '{"generate": {"n": 10,');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('BAD_JSON');
    expect(bad.body.error.message).not.toMatch(/\n/);

    const unknown = await api('GET', '/jobs/no-such-job');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('NOT_FOUND');
    expect((await api('DELETE', '/jobs/no-such-job')).status).toBe(404);
    expect((await api('GET', '/nowhere')).status).toBe(404);
  });

  it("library errors: TypeError → 400, RangeError and PureneuronError → 422 with {code?, message}", async () => {
    const g = { n: 2000, d: 4, k: 2, l: 3 };
    const kTooLarge = await api('POST', '/jobs', { generate: g, k: 5 });
    expect(kTooLarge.status).toBe(422);
    expect(kTooLarge.body.error.message).toMatch(/k = 5 exceeds min\(d, l\) = 3/);

    const badOption = await api('POST', '/jobs', { generate: g, options: { nonsense: 1 } });
    expect(badOption.status).toBe(422);
    expect(badOption.body.error).toMatchObject({ code: 'BAD_OPTION', message: expect.stringMatching(/unknown option "nonsense"/) });

    const badValue = await api('POST', '/jobs', { generate: g, options: { chunkRows: -1 } });
    expect(badValue.status).toBe(422);
    expect(badValue.body.error.code).toBe('BAD_OPTION');

    const badGenerate = await api('POST', '/jobs', { generate: { ...g, distribution: 'cauchy' } });
    expect(badGenerate.status).toBe(422);
    expect(badGenerate.body.error.message).toMatch(/distribution/);

    const notNumber = await api('POST', '/jobs', { x: [[1, 'a']], y: [[1]], k: 1 });
    expect(notNumber.status).toBe(400);
    expect(notNumber.body.error.message).toMatch(/x\[0\]\[1\]/);

    const shapes = await api('POST', '/jobs', { x: [1, 2, 3, 4, 5, 6], y: [1, 2], d: 2, l: 1, k: 1 });
    expect(shapes.status).toBe(422);
    expect(shapes.body.error.message).toMatch(/y has 2 values, expected n·l = 3/);

    const reserved = await api('POST', '/jobs', { generate: g, options: { signal: null } });
    expect(reserved.status).toBe(400);
    expect(reserved.body.error.code).toBe('BAD_REQUEST');

    // None of them left a job behind.
    expect((await api('GET', '/health')).body.running).toBe(0);
  });

  it('a body above maxBodyBytes → 413', async () => {
    const big = JSON.stringify({ x: Array(MAX_BODY / 2).fill(1), y: [1], d: 1, l: 1, k: 1 });
    expect(big.length).toBeGreaterThan(MAX_BODY);
    const r = await api('POST', '/jobs', undefined, big);
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('TOO_LARGE');
    expect((await api('GET', '/health')).status).toBe(200);
  });
});
