/**
 * Worker threads: the passes split across workers give the same model bit for bit as the
 * calling thread alone (partial sums are merged in chunk order), on both backends, and errors
 * raised inside a worker reach the caller as the same documented errors.
 */
import { describe, expect, it } from 'vitest';
import { compare } from '../src/api/compare.js';
import { generate } from '../src/api/generate.js';
import { learn } from '../src/api/learn.js';
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

  it('shared, plain and Float32 inputs, and a source that reuses one buffer, give the same bits', async () => {
    // generate() returns shared memory (read in place by the workers); plain arrays are copied
    // into the pool's slots, and so are Float32 chunks once widened.
    expect(g.x.buffer).toBeInstanceOf(SharedArrayBuffer);
    const opts = { k: 4, workers: 2, chunkRows: 3000, refine: 1 } as const;
    const base = await learn(input, opts);
    const plain = await learn({ ...input, x: Float64Array.from(g.x), y: Float64Array.from(g.y) }, opts);
    expect(Array.from(plain.W)).toEqual(Array.from(base.W));
    const x32 = Float32Array.from(g.x), y32 = Float32Array.from(g.y);
    const wide = await learn({ ...input, x: Float64Array.from(x32), y: Float64Array.from(y32) }, { ...opts, workers: 0 });
    const f32 = await learn({ ...input, x: x32, y: y32 }, opts);
    expect(Array.from(f32.W)).toEqual(Array.from(wide.W));
    // A streaming source that overwrites one plain buffer with every chunk: the pool must have
    // copied each chunk before the next one is read.
    const reusing = {
      d: 9, l: 7, n: g.n,
      async *chunks(maxRows: number) {
        const bx = new Float64Array(maxRows * 9), by = new Float64Array(maxRows * 7);
        for (let s = 0; s < g.n; s += maxRows) {
          const rows = Math.min(maxRows, g.n - s);
          bx.set(g.x.subarray(s * 9, (s + rows) * 9));
          by.set(g.y.subarray(s * 7, (s + rows) * 7));
          yield { x: bx.subarray(0, rows * 9), y: by.subarray(0, rows * 7), rows };
        }
      },
    };
    const streamed = await learn(reusing, opts);
    expect(Array.from(streamed.W)).toEqual(Array.from(base.W));
    expect(Array.from(streamed.A)).toEqual(Array.from(base.A));
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
