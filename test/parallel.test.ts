/**
 * Worker threads: the passes split across workers give the same model bit for bit as the
 * calling thread alone (partial sums are merged in chunk order), on both backends, and errors
 * raised inside a worker reach the caller as the same documented errors.
 */
import { describe, expect, it } from 'vitest';
import { compare } from '../src/compare.js';
import { generate } from '../src/generate.js';
import { learn } from '../src/learn.js';
import { PureneuronError } from '../src/errors.js';

describe('worker threads', () => {
  const g = generate({ distribution: 'mixture', n: 40_000, d: 9, k: 4, l: 7, noise: 0.05, seed: 31 });
  const input = { x: g.x, y: g.y, d: 9, l: 7 };

  it('1, 2 and 3 workers give the same bits as the calling thread (with refinement too)', async () => {
    for (const backend of ['wasm', 'js'] as const) {
      const base = await learn(input, { k: 4, backend, workers: 0, chunkRows: 5000, refine: 2 });
      expect(base.diagnostics!.workers).toBe(0);
      for (const workers of [1, 2, 3]) {
        const m = await learn(input, { k: 4, backend, workers, chunkRows: 5000, refine: 2 });
        expect(m.diagnostics!.workers).toBe(workers);
        expect(Array.from(m.W), `${backend} ${workers}`).toEqual(Array.from(base.W));
        expect(Array.from(m.A), `${backend} ${workers}`).toEqual(Array.from(base.A));
        expect(m.diagnostics!.errorEstimate).toBe(base.diagnostics!.errorEstimate);
      }
      expect(compare(base, g.truth).wError).toBeLessThan(0.05);
    }
  });

  it("'auto' uses workers only when the data span more than one chunk", async () => {
    const small = await learn(input, { k: 4 });
    expect(small.diagnostics!.workers).toBe(0);
    const big = await learn(input, { k: 4, chunkRows: 10_000 });
    expect(big.diagnostics!.workers).toBeGreaterThanOrEqual(1);
    expect(Array.from(big.W)).toEqual(Array.from((await learn(input, { k: 4, chunkRows: 10_000, workers: 0 })).W));
  });

  it('a bad value found inside a worker is reported as on the calling thread', async () => {
    const x = Float64Array.from(g.x);
    x[30_001 * 9 + 2] = NaN;
    const err = await learn({ ...input, x }, { k: 4, workers: 2, chunkRows: 5000 }).catch((e) => e);
    expect(err).toBeInstanceOf(PureneuronError);
    expect(err.code).toBe('BAD_VALUE');
    expect(err.message).toMatch(/sample 30001, column 2/);
  });

  it('an aborted signal stops a worker run promptly', async () => {
    const ac = new AbortController();
    const p = learn(input, { k: 4, workers: 2, chunkRows: 2000, signal: ac.signal, onProgress: (pr) => { if (pr.phase === 'pass2') ac.abort(); } });
    await expect(p).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
