/**
 * The learner end to end on planted networks.
 *
 * Exactness: a sample augmented with its negation (every x also as −x, noiseless) has an exactly
 * symmetric empirical distribution, so every moment identity the method uses holds exactly on
 * the sample and the weights must come back to rounding error. The threshold 1e-8 leaves six
 * orders of magnitude above the ~1e-14 we measure, yet any real bias (a wrong constant, a
 * missing whitening step, a sign error) gives errors ≥ 1e-3.
 *
 * Recovery from plain samples: thresholds from the reference table in docs/reference.md (Gaussian
 * (20,10,15), n = 1e5, with polish: median 0.0105, worst 0.013 over 5 seeds). 0.05 is ~4× the
 * reference median, so statistical spread passes and a broken step (no polish: ~0.02–0.09,
 * paper-literal: ~0.27) is caught on at least one seed.
 */
import { describe, expect, it } from 'vitest';
import { compare } from '../src/api/compare.js';
import { DISTRIBUTIONS, generate, type Distribution } from '../src/api/generate.js';
import { learn } from '../src/api/learn.js';

// The suite runs against every backend; the backends must also agree bit for bit.
const BACKENDS = ['js', 'wasm'] as const;

describe.each(BACKENDS)('exact recovery from exactly symmetric samples (%s)', (backend) => {
  const shapes: [number, number, number][] = [
    [20, 10, 15],
    [8, 4, 6],
    [5, 5, 5],
    [6, 2, 9],
  ];
  for (const distribution of DISTRIBUTIONS) {
    it(`${distribution}: W and A to rounding error`, async () => {
      for (const [d, k, l] of shapes) {
        const n = k >= 10 ? 20_000 : 6_000;
        const g = generate({ distribution, n, d, k, l, seed: 7, symmetrize: true });
        const model = await learn({ x: g.x, y: g.y, d, l }, { k, backend });
        expect(model.backend).toBe(backend);
        const c = compare(model, g.truth);
        expect(c.wError, `${distribution} (${d},${k},${l}) W`).toBeLessThan(1e-8);
        expect(c.aError, `${distribution} (${d},${k},${l}) A`).toBeLessThan(1e-8);
        expect(c.predictionError, `${distribution} (${d},${k},${l}) prediction`).toBeLessThan(1e-8);
        expect(model.diagnostics!.nullSpaceRatio).toBeLessThan(1e-4);
      }
    });
  }
});

describe('recovery from plain samples', () => {
  it('Gaussian (20,10,15), n = 1e5: W error < 0.05 on every seed', async () => {
    for (const seed of [1, 2, 3]) {
      const g = generate({ distribution: 'gaussian', n: 100_000, d: 20, k: 10, l: 15, seed });
      const model = await learn({ x: g.x, y: g.y, d: 20, l: 15 }, { k: 10 });
      const c = compare(model, g.truth);
      expect(c.wError, `seed ${seed}`).toBeLessThan(0.05);
      expect(c.aError, `seed ${seed}`).toBeLessThan(0.1);
    }
  });

  // Smaller shape so that every distribution runs in a few seconds. Thresholds: measured
  // medians at this size are ≤ 0.02 (student-t, heavy-tailed, ~0.03); 0.08 is a clear
  // multiple of them that a broken method (errors ≥ 0.3) cannot meet.
  const limits: Partial<Record<Distribution, number>> = { 'student-t': 0.15 };
  for (const distribution of DISTRIBUTIONS) {
    it(`${distribution} (10,5,8), n = 5e4`, async () => {
      const g = generate({ distribution, n: 50_000, d: 10, k: 5, l: 8, seed: 11 });
      const model = await learn({ x: g.x, y: g.y, d: 10, l: 8 }, { k: 5 });
      const c = compare(model, g.truth);
      expect(c.wError).toBeLessThan(limits[distribution] ?? 0.08);
    });
  }

  it('noise is projected out: σ = 0.1 per output still recovers W', async () => {
    const g = generate({ distribution: 'gaussian', n: 100_000, d: 10, k: 5, l: 8, noise: 0.1, seed: 5 });
    const model = await learn({ x: g.x, y: g.y, d: 10, l: 8 }, { k: 5 });
    expect(compare(model, g.truth).wError).toBeLessThan(0.08);
  });
});

describe('variants stay selectable', () => {
  const g = generate({ distribution: 'gaussian', n: 6_000, d: 7, k: 3, l: 5, seed: 3, symmetrize: true });
  it('full-dimensional x is exact on symmetric samples too', async () => {
    const model = await learn({ x: g.x, y: g.y, d: 7, l: 5 }, { k: 3, reduceX: false });
    expect(compare(model, g.truth).wError).toBeLessThan(1e-8);
  });
  it('paper-literal detector, no whitening, no polish: exact on symmetric samples', async () => {
    const model = await learn({ x: g.x, y: g.y, d: 7, l: 5 }, { k: 3, detector: 'literal', whitenY: false, polish: false });
    expect(compare(model, g.truth).wError).toBeLessThan(1e-8);
  });
  it('the default beats the paper-literal detector on plain samples', async () => {
    // The spectral estimates (refine 0): refined, both reach the noiseless optimum, the truth.
    const p = generate({ distribution: 'gaussian', n: 30_000, d: 10, k: 5, l: 8, seed: 4 });
    const def = compare(await learn({ x: p.x, y: p.y, d: 10, l: 8 }, { k: 5, refine: 0 }), p.truth).wError;
    const lit = compare(await learn({ x: p.x, y: p.y, d: 10, l: 8 }, { k: 5, refine: 0, detector: 'literal', whitenY: false, polish: false }), p.truth).wError;
    expect(def).toBeLessThan(lit);
  });
});

describe('one answer from every backend', () => {
  it('wasm and js give bitwise-identical models (plain, weighted and unweighted, literal, full x)', async () => {
    const g = generate({ distribution: 'mixture', n: 30_000, d: 9, k: 4, l: 7, noise: 0.05, seed: 21 });
    const variants = [{}, { weighting: 'none' as const }, { detector: 'literal' as const, whitenY: false }, { reduceX: false }];
    for (const v of variants) {
      const [a, b] = await Promise.all(BACKENDS.map((backend) => learn({ x: g.x, y: g.y, d: 9, l: 7 }, { k: 4, backend, chunkRows: 7000, ...v })));
      expect(Array.from(a.W), JSON.stringify(v)).toEqual(Array.from(b.W));
      expect(Array.from(a.A), JSON.stringify(v)).toEqual(Array.from(b.A));
      expect(a.diagnostics!.detectorSingularValues).toEqual(b.diagnostics!.detectorSingularValues);
    }
  });
});

describe('results are deterministic', () => {
  it('same input and seed give the same bits', async () => {
    const g = generate({ distribution: 'laplace', n: 20_000, d: 8, k: 4, l: 6, seed: 9 });
    const a = await learn({ x: g.x, y: g.y, d: 8, l: 6 }, { k: 4 });
    const b = await learn({ x: g.x, y: g.y, d: 8, l: 6 }, { k: 4 });
    expect(Array.from(a.W)).toEqual(Array.from(b.W));
    expect(Array.from(a.A)).toEqual(Array.from(b.A));
  });

  it('draws more Jennrich pairs when the first draw leaves a high joint-diagonalization residual', async () => {
    // Found by the n sweep: correlated inputs, (10,10,10), n = 1e5, seed 4. The first 8 pairs
    // gave W error 0.47 with residual 0.82; any other draw gives ~0.007 with residual 0.11.
    const g = generate({ distribution: 'correlated', n: 100_000, d: 10, k: 10, l: 10, seed: 4 });
    const m = await learn({ x: g.x, y: g.y, d: 10, l: 10 }, { k: 10, refine: 0 });
    expect(m.diagnostics!.jointDiagResidual).toBeLessThan(0.3);
    expect(compare(m, g.truth).wError).toBeLessThan(0.02);
  });
});

describe('a source is read once when it fits cacheBytes', () => {
  // Noisy (8,4,6), n = 20 000: the refinement's subsample holds every sample, so the default
  // makes 3 passes (1, 2 and 3, the refinement's last).
  const g = generate({ distribution: 'gaussian', n: 20_000, d: 8, k: 4, l: 6, noise: 0.05, seed: 3 });
  const counted = () => {
    const s = {
      d: 8, l: 6, n: g.n, rowsRead: 0,
      async *chunks(maxRows: number) {
        for (let r = 0; r < g.n; r += maxRows) {
          const rows = Math.min(maxRows, g.n - r);
          s.rowsRead += rows;
          yield { x: g.x.slice(r * 8, (r + rows) * 8), y: g.y.slice(r * 6, (r + rows) * 6), rows };
        }
      },
    };
    return s;
  };

  it('once by default, on every pass with cacheBytes 0 or a budget below the data; the same model either way', async () => {
    const once = counted();
    const every = counted();
    const over = counted();
    const a = await learn(once, { k: 4, chunkRows: 2048, workers: 2 });
    const b = await learn(every, { k: 4, chunkRows: 2048, workers: 2, cacheBytes: 0 });
    const c = await learn(over, { k: 4, chunkRows: 2048, workers: 2, cacheBytes: 8 * g.n * 14 - 1 });
    // Before pass 1 the robust weighting reads the first 8192 samples (its scales); then the
    // passes: one of n cached, three of n streamed.
    expect(once.rowsRead).toBe(8192 + g.n);
    expect(every.rowsRead).toBe(8192 + 3 * g.n);
    expect(over.rowsRead).toBe(every.rowsRead);
    for (const m of [b, c]) {
      expect(Array.from(m.W)).toEqual(Array.from(a.W));
      expect(Array.from(m.A)).toEqual(Array.from(a.A));
    }
  });
});
