/**
 * examples/service.ts driven over real HTTP on 127.0.0.1 (ephemeral port): a planted job is
 * learned and recovers W; a running job is cancelled and its learner stops; requests are served
 * while a learner works; the bounds (429, 413) and the error answers (400, 404, 422) hold.
 *
 * Nothing here depends on the machine's speed. The samples the service hands to learn() pass
 * through a tap (below: the library's arraySource, as the service imports it, wrapped) that
 * counts the chunks read and can hold the learner before a given chunk until the test releases
 * it. A job held mid-way cannot finish before the test has done what it wants with it (GET,
 * DELETE, another POST); a job released up to a later hold point is running, not finished, for
 * as long as the test looks at it. learn() itself is only observed: its outcome is recorded.
 * The time limits are hang guards (HANG_MS), never pass criteria.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createService, type Service } from '../examples/service.js';
import { compare } from '../src/api/compare.js';
import { generate } from '../src/api/generate.js';
import { Model } from '../src/api/model.js';
import { PureneuronError } from '../src/errors.js';

/** Generous: a wait that has not ended this long fails the test as hung. */
const HANG_MS = 30_000;

/**
 * The tap: one per source the service creates (in order), each counting the chunks handed to
 * the learner (`served`, over all of its passes) and able to hold the learner before a chunk.
 */
const taps = vi.hoisted(() => {
  class Tap {
    /** Chunks handed on so far (every pass, and the weighting's read before pass 1). */
    served = 0;
    /** The latest hold point's promise: resolved once the learner waits there. */
    reached: Promise<void> = Promise.resolve();
    /** Where the learner is to wait: before the chunk of this index (after `holdAt` chunks). */
    private holdAt: number | undefined;
    private onReach: (() => void) | undefined;
    private gate: (() => void) | undefined;
    constructor(holdAt: number | undefined) {
      if (holdAt !== undefined) void this.hold(holdAt);
    }
    /** True while the learner waits at a hold point. */
    get held(): boolean {
      return this.gate !== undefined;
    }
    /** Sets the next hold point; resolves once the learner waits there. */
    hold(at: number): Promise<void> {
      if (at < this.served) throw new Error(`hold(${at}): ${this.served} chunks are already served`);
      this.holdAt = at;
      this.reached = new Promise<void>((resolve) => (this.onReach = resolve));
      return this.reached;
    }
    /** Lets a held learner go on (to the next hold point, if one was set since). */
    release(): void {
      const go = this.gate;
      this.gate = undefined;
      go?.();
    }
    /** Drops the pending hold point and lets a held learner go. */
    clear(): void {
      this.holdAt = undefined;
      this.release();
    }
    /** Called before handing on a chunk: waits there if this is the hold point. */
    async before(): Promise<void> {
      if (this.served !== this.holdAt) return;
      this.holdAt = undefined;
      const waiting = new Promise<void>((resolve) => (this.gate = resolve));
      this.onReach?.();
      await waiting;
    }
  }
  type Source = { d: number; l: number; n?: number; chunks(maxRows: number, signal?: AbortSignal): AsyncIterable<unknown> };
  const list: Tap[] = [];
  const outcomes: Promise<unknown>[] = [];
  let nextHold: number[] = [];
  return {
    list,
    /** The outcome of every learn() call, in order: the model, or the error it rejected with. */
    outcomes,
    /** The next sources created are held before these chunks (one entry per source). */
    holdNext(...at: number[]): void {
      nextHold = at;
    },
    wrap<S extends Source>(source: S): S {
      const tap = new Tap(nextHold.shift());
      list.push(tap);
      return {
        d: source.d,
        l: source.l,
        n: source.n,
        async *chunks(maxRows: number, signal?: AbortSignal) {
          for await (const chunk of source.chunks(maxRows, signal)) {
            await tap.before();
            tap.served++;
            yield chunk;
          }
        },
      } as unknown as S;
    },
    watch<T>(run: Promise<T>): Promise<T> {
      outcomes.push(run.then((m) => m, (e: unknown) => e));
      return run;
    },
    /** Lets every held learner go and drops every pending hold point (close() waits for the learners). */
    releaseAll(): void {
      nextHold = [];
      for (const t of list) t.clear();
    },
  };
});

vi.mock('../src/index.js', async (importOriginal) => {
  const lib = await importOriginal<typeof import('../src/index.js')>();
  return {
    ...lib,
    arraySource: (...args: Parameters<typeof lib.arraySource>) => taps.wrap(lib.arraySource(...args)),
    learn: (...args: Parameters<typeof lib.learn>) => taps.watch(lib.learn(...args)),
  };
});

const MAX_BODY = 1024 * 1024;
let service: Service;
let base: string;

beforeAll(async () => {
  service = createService({ maxConcurrentJobs: 2, maxBodyBytes: MAX_BODY });
  await new Promise<void>((resolve) => service.server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(service.server.address() as AddressInfo).port}`;
});

afterEach(() => {
  // A failed test must not leave a learner held (close() would wait for it forever).
  taps.releaseAll();
});

afterAll(async () => {
  taps.releaseAll();
  await service?.close();
});

interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function api(method: string, path: string, body?: unknown, raw?: string): Promise<Reply> {
  const res = await fetch(base + path, {
    method,
    headers: body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : undefined,
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    signal: AbortSignal.timeout(HANG_MS),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `p`, or a failure naming `what` if it has not settled within the hang guard. */
async function guard<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`hung: ${what} (nothing after ${HANG_MS} ms)`)), HANG_MS)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls GET /jobs/:id until `done(job)`; fails as hung after HANG_MS. */
async function pollJob(id: string, done: (job: any) => boolean): Promise<any> {
  const deadline = performance.now() + HANG_MS;
  let job: any;
  while (performance.now() < deadline) {
    const r = await api('GET', `/jobs/${id}`);
    expect(r.status).toBe(200);
    job = r.body;
    if (done(job)) return job;
    await sleep(25);
  }
  throw new Error(`hung: job ${id} did not reach the expected state within ${HANG_MS} ms; last: ${JSON.stringify({ status: job?.status, progress: job?.progress })}`);
}

/** Waits until no learner runs (cancelled ones included); fails as hung after HANG_MS. */
async function waitIdle(): Promise<void> {
  const deadline = performance.now() + HANG_MS;
  while (performance.now() < deadline) {
    const r = await api('GET', '/health');
    if (r.body.running === 0) return;
    await sleep(20);
  }
  throw new Error(`hung: learners still running after ${HANG_MS} ms`);
}

/** Expects `outcome` (a learn() call's, from taps.outcomes) to be the abort a DELETE of job `id` causes. */
async function expectCancelled(outcome: Promise<unknown> | undefined, id: string): Promise<void> {
  const e = await guard(outcome!, `the learner of job ${id} to stop`);
  expect(e, 'the learner was not aborted').toBeInstanceOf(PureneuronError);
  expect((e as PureneuronError).code).toBe('ABORTED');
  expect((e as Error).message).toContain(`job ${id} was cancelled by DELETE /jobs/${id}`);
}

/**
 * A planted job of many chunks: 400k samples (200 chunks of 2000 per pass), then up to 50
 * Gauss–Newton refinement passes over 100k of them. Read order of the chunks: 1 for the robust
 * weighting, then pass 1's 200, pass 2's 200, ….
 */
const big = (options: Record<string, unknown>) => ({
  generate: { distribution: 'gaussian', n: 400_000, d: 16, k: 4, l: 8, seed: 5, noise: 0.05 },
  options: { refine: 50, chunkRows: 2000, ...options },
});
const BIG_N = 400_000;
/** Chunk indices inside pass 1 (chunk 0 is the weighting's). */
const EARLY_IN_PASS1 = 20;
const LATE_IN_PASS1 = 180;

/** POSTs a job expected to start; returns its id, its tap and its learn() outcome. */
async function start(body: unknown) {
  const before = { taps: taps.list.length, outcomes: taps.outcomes.length };
  const post = await api('POST', '/jobs', body);
  expect(post.status, JSON.stringify(post.body)).toBe(202);
  expect(post.body).toEqual({ id: expect.any(String), status: 'running' });
  // The tap is in place (the service still takes arraySource and learn from src/index.js).
  expect({ taps: taps.list.length, outcomes: taps.outcomes.length }, 'the job did not go through the tap').toEqual({ taps: before.taps + 1, outcomes: before.outcomes + 1 });
  return { id: post.body.id as string, tap: taps.list.at(-1)!, outcome: taps.outcomes.at(-1)! };
}

describe('examples/service.ts over HTTP', () => {
  it('GET /health answers 200', async () => {
    const r = await api('GET', '/health');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'ok', running: 0 });
  });

  it('learns a planted problem: 202, progress, then a model that recovers W', async () => {
    const planted = { distribution: 'gaussian', n: 20_000, d: 8, k: 4, l: 6, seed: 7, noise: 0.05 } as const;
    const { id, outcome } = await start({ generate: planted });

    const job = await pollJob(id, (j) => j.status !== 'running');
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
    expect(await outcome).toBeInstanceOf(Model);

    const { truth } = generate(planted);
    expect(compare(Model.fromJSON(json), truth).wError).toBeLessThan(0.1);
  });

  it('learns from samples in the body, nested rows or flat with d and l', async () => {
    const g = generate({ n: 3000, d: 4, k: 2, l: 3, seed: 11, noise: 0.01 });
    const rows = (a: Float64Array, w: number) => Array.from({ length: a.length / w }, (_, i) => Array.from(a.subarray(i * w, (i + 1) * w)));
    const nested = await start({ x: rows(g.x, 4), y: rows(g.y, 3), k: 2, options: { seed: 3, workers: 0 } });
    const flat = await start({ x: Array.from(g.x), y: Array.from(g.y), d: 4, l: 3, k: 2, options: { seed: 3, workers: 0 } });
    const a = await pollJob(nested.id, (j) => j.status !== 'running');
    const b = await pollJob(flat.id, (j) => j.status !== 'running');
    expect(a.status).toBe('done');
    expect(b.status).toBe('done');
    expect(a.model).toMatchObject({ d: 4, k: 2, l: 3 });
    expect(b.model.W).toEqual(a.model.W); // same samples, same seed: the same model
    expect(compare(Model.fromJSON(a.model), g.truth).wError).toBeLessThan(0.2);
  });

  it('cancels a job held mid-pass (workers: 2): cancelled at once, its learner stops at the next chunk, the service keeps answering', async () => {
    taps.holdNext(EARLY_IN_PASS1);
    const { id, tap, outcome } = await start(big({ workers: 2 }));
    await guard(tap.reached, `job ${id} to reach chunk ${EARLY_IN_PASS1}`);

    // Mid-way through pass 1, and it cannot move until released.
    const mid = await api('GET', `/jobs/${id}`);
    expect(mid.body.status).toBe('running');
    expect(mid.body.progress.phase).toBe('pass1');
    expect(mid.body.progress.done).toBeGreaterThan(0);
    expect(mid.body.progress.done).toBeLessThan(BIG_N);
    expect((await api('GET', '/health')).body).toMatchObject({ status: 'ok', running: 1 });

    const del = await api('DELETE', `/jobs/${id}`);
    expect(del.status).toBe(200);
    expect(del.body).toMatchObject({ id, status: 'cancelled' });
    expect(del.body.model).toBeUndefined();
    // Cancelled but not yet stopped (it is still held): its learner still holds a slot.
    expect((await api('GET', '/health')).body.running).toBe(1);

    tap.release();
    await expectCancelled(outcome, id);
    // It stopped at the chunk it was waiting for: at most that one more was handed to it.
    expect(tap.served - EARLY_IN_PASS1).toBeLessThanOrEqual(1);
    // Its slot is free as soon as it has stopped, and the service still answers.
    expect((await api('GET', '/health')).body).toMatchObject({ status: 'ok', running: 0 });
    const after = await api('GET', `/jobs/${id}`);
    expect(after.body).toMatchObject({ id, status: 'cancelled' });
    expect(after.body.model).toBeUndefined();
    expect(after.body.error).toBeUndefined();
  });

  for (const workers of [2, 0]) {
    it(`requests are answered between the chunks of a running learner (workers: ${workers})`, async () => {
      taps.holdNext(EARLY_IN_PASS1);
      const { id, tap, outcome } = await start(big({ workers }));
      await guard(tap.reached, `job ${id} to reach chunk ${EARLY_IN_PASS1}`);
      const first = (await api('GET', `/jobs/${id}`)).body.progress;
      expect(first.phase).toBe('pass1');

      // Let it run up to a later point of pass 1, and ask while it works its way there. If the
      // event loop were blocked while it runs, every answer would show it either not yet moved
      // (first.done) or already at the next hold point (last.done), never in between.
      const nextHold = tap.hold(LATE_IN_PASS1);
      tap.release();
      const seen: { phase: string; done: number; running: number }[] = [];
      const deadline = performance.now() + HANG_MS;
      for (;;) {
        if (performance.now() > deadline) throw new Error(`hung: job ${id} neither moved nor reached chunk ${LATE_IN_PASS1}: ${JSON.stringify(seen.slice(-3))}`);
        const [job, health] = await Promise.all([api('GET', `/jobs/${id}`), api('GET', '/health')]);
        expect(job.body.status).toBe('running');
        seen.push({ phase: job.body.progress.phase, done: job.body.progress.done, running: health.body.running });
        if (job.body.progress.done > first.done || tap.held) break;
      }
      await guard(nextHold, `job ${id} to reach chunk ${LATE_IN_PASS1}`);
      const last = (await api('GET', `/jobs/${id}`)).body.progress;
      expect(last.phase).toBe('pass1');
      const report = JSON.stringify({ first, last, seen });
      console.info(`workers ${workers}: ${report}`);
      const moving = seen.at(-1)!;
      expect(moving.phase, report).toBe('pass1');
      expect(moving.done, `no answer while the learner ran\n${report}`).toBeGreaterThan(first.done);
      expect(moving.done, `no answer while the learner ran\n${report}`).toBeLessThan(last.done);
      for (const s of seen) expect(s.running, report).toBe(1);

      expect((await api('DELETE', `/jobs/${id}`)).body.status).toBe('cancelled');
      tap.release();
      await expectCancelled(outcome, id);
      await waitIdle();
    });
  }

  it('429 beyond maxConcurrentJobs, a cancelled job counting until its learner has stopped', async () => {
    taps.holdNext(EARLY_IN_PASS1, EARLY_IN_PASS1);
    const a = await start(big({ workers: 1 }));
    const b = await start(big({ workers: 1 }));
    await guard(Promise.all([a.tap.reached, b.tap.reached]), 'both jobs to reach their hold point');
    // Both held mid-way: neither can finish, so the third is refused.
    const c = await api('POST', '/jobs', { generate: { n: 1000, d: 4, k: 2, l: 3 } });
    expect(c.status).toBe(429);
    expect(c.body.error.code).toBe('TOO_MANY_JOBS');

    // Cancelled, but its learner is still held: still no room.
    expect((await api('DELETE', `/jobs/${a.id}`)).body.status).toBe('cancelled');
    const c2 = await api('POST', '/jobs', { generate: { n: 1000, d: 4, k: 2, l: 3 } });
    expect(c2.status).toBe(429);

    // Once it has stopped, there is.
    a.tap.release();
    await expectCancelled(a.outcome, a.id);
    // (The service frees the slot as the learner settles, before any later request is read.)
    expect((await api('GET', '/health')).body.running).toBe(1);
    const d = await start({ generate: { n: 1000, d: 4, k: 2, l: 3 } });
    expect((await pollJob(d.id, (j) => j.status !== 'running')).status).toBe('done');

    expect((await api('DELETE', `/jobs/${b.id}`)).body.status).toBe('cancelled');
    b.tap.release();
    await expectCancelled(b.outcome, b.id);
    await waitIdle();
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

describe('samples in files on the server ({ files } bodies)', () => {
  it('refused without a data directory (403), learned from a CSV with a header inside one, refused outside it', async () => {
    expect((await api('POST', '/jobs', { files: { data: 'named.csv', xColumns: 'x*', yColumns: 'y*' }, k: 2 })).status).toBe(403);

    const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'pureneuron-service-files-'));
    const files = createService({ dataDir: dir });
    try {
      const g = generate({ n: 3000, d: 5, k: 2, l: 4, seed: 3 });
      const rows = ['x0,x1,x2,x3,x4,label,y0,y1,y2,y3'];
      for (let i = 0; i < 3000; i++) rows.push([...g.x.subarray(i * 5, i * 5 + 5), 'a', ...g.y.subarray(i * 4, i * 4 + 4)].join(','));
      await writeFile(join(dir, 'named.csv'), rows.join('\n') + '\n');
      await new Promise<void>((resolve) => files.server.listen(0, '127.0.0.1', resolve));
      const at = `http://127.0.0.1:${(files.server.address() as AddressInfo).port}`;
      const post = async (body: unknown) => {
        const res = await fetch(`${at}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(HANG_MS) });
        return { status: res.status, body: (await res.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
      };
      const r = await post({ files: { data: 'named.csv', xColumns: 'x*', yColumns: 'y?' }, k: 2, options: { workers: 0 } });
      expect(r.status).toBe(202);
      let job: any; // eslint-disable-line @typescript-eslint/no-explicit-any
      for (const deadline = performance.now() + HANG_MS; performance.now() < deadline; await sleep(25)) {
        job = await (await fetch(`${at}/jobs/${r.body.id}`)).json();
        if (job.status !== 'running') break;
      }
      expect(job.status, JSON.stringify(job.error)).toBe('done');
      // Noiseless data: the fit is exact (its W error against the planted W at rounding level).
      expect(compare(Model.fromJSON(job.model), g.truth).wError).toBeLessThan(1e-9);

      const outside = await post({ files: { data: '../named.csv', xColumns: 'x*', yColumns: 'y*' }, k: 2 });
      expect([outside.status, outside.body.error.code]).toEqual([403, 'OUTSIDE_DATA_DIR']);
      const badSpec = await post({ files: { data: 'named.csv', xColumns: 'z*', yColumns: 'y*' }, k: 2 });
      expect([badSpec.status, badSpec.body.error.code]).toEqual([422, 'BAD_OPTION']);
      expect(badSpec.body.error.message).toMatch(/"z\*" matches no column/);
    } finally {
      await files.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
