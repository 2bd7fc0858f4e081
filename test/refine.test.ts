/**
 * The optional local refinement from the spectral start. On noiseless plain samples (not
 * symmetrized) the least-squares optimum is the planted network itself, and Gauss–Newton with
 * A eliminated converges quadratically from inside the basin: measured W errors 3e-2 → 5e-4
 * → 1e-12 after 0, 2, 4 passes at n = 1e4. The 1e-8 threshold is 4 orders above what it
 * reaches, 6 orders below the spectral start, so a broken Hessian (linear convergence,
 * ~1e-3 after 6 passes) fails it.
 */
import { describe, expect, it } from 'vitest';
import { compare } from '../src/api/compare.js';
import { generate } from '../src/api/generate.js';
import { learn } from '../src/api/learn.js';

describe('refinement', () => {
  it('reaches the planted network to ~machine precision on noiseless samples', async () => {
    for (const [distribution, seed] of [['gaussian', 1], ['mixture', 2]] as const) {
      const g = generate({ distribution, n: 10_000, d: 12, k: 6, l: 9, seed });
      const spectral = compare(await learn({ x: g.x, y: g.y, d: 12, l: 9 }, { k: 6, refine: 0 }), g.truth);
      const m = await learn({ x: g.x, y: g.y, d: 12, l: 9 }, { k: 6, refine: 6 });
      const refined = compare(m, g.truth);
      expect(spectral.wError, distribution).toBeGreaterThan(1e-3);
      expect(refined.wError, distribution).toBeLessThan(1e-8);
      expect(refined.aError, distribution).toBeLessThan(1e-8);
      const rep = m.diagnostics!.refinement!;
      expect(rep.iterations).toBeGreaterThan(0);
      expect(rep.iterations).toBeLessThanOrEqual(6);
      expect(rep.losses[rep.losses.length - 1]).toBeLessThan(rep.losses[0] * 1e-10);
    }
  });

  it('improves a noisy fit and never makes it worse than the spectral start', async () => {
    const g = generate({ distribution: 'laplace', n: 40_000, d: 10, k: 5, l: 8, noise: 0.1, seed: 3 });
    const spectral = compare(await learn({ x: g.x, y: g.y, d: 10, l: 8 }, { k: 5, refine: 0 }), g.truth).wError;
    const refined = compare(await learn({ x: g.x, y: g.y, d: 10, l: 8 }, { k: 5, refine: 5 }), g.truth).wError;
    expect(refined).toBeLessThan(spectral);
  });

  it('gives one model on both backends and any worker count, with the Gauss–Newton rows (the first 20000) ending inside a chunk', async () => {
    // Chunks of 7000: the Gauss–Newton sums end 6000 rows into the third chunk, the fourth
    // chunk has none, and refineSamples cuts it short.
    const g = generate({ distribution: 'gaussian', n: 26_000, d: 7, k: 3, l: 5, noise: 0.05, seed: 5 });
    const models = [];
    for (const backend of ['js', 'wasm'] as const) {
      for (const workers of [0, 2]) {
        models.push(await learn({ x: g.x, y: g.y, d: 7, l: 5 }, { k: 3, refine: 3, refineSamples: 24_000, chunkRows: 7000, backend, workers }));
      }
    }
    expect(models[0].diagnostics!.refinement!.samples).toBe(24_000);
    for (const m of models.slice(1)) {
      expect(Array.from(m.W)).toEqual(Array.from(models[0].W));
      expect(Array.from(m.A)).toEqual(Array.from(models[0].A));
      expect(m.diagnostics!.refinement!.losses).toEqual(models[0].diagnostics!.refinement!.losses);
    }
  });

  it('is bitwise identical on both backends and rejects bad values', async () => {
    const g = generate({ distribution: 'uniform', n: 8_000, d: 8, k: 4, l: 6, seed: 4 });
    const [a, b] = await Promise.all((['js', 'wasm'] as const).map((backend) => learn({ x: g.x, y: g.y, d: 8, l: 6 }, { k: 4, refine: 3, backend })));
    expect(Array.from(a.W)).toEqual(Array.from(b.W));
    expect(Array.from(a.A)).toEqual(Array.from(b.A));
    await expect(learn({ x: g.x, y: g.y, d: 8, l: 6 }, { k: 4, refine: -1 })).rejects.toThrow(/refine must be 'auto' or an integer in \[0, 1000\]/);
    await expect(learn({ x: g.x, y: g.y, d: 8, l: 6 }, { k: 4, refineSamples: 0 })).rejects.toThrow(/refineSamples must be a positive integer/);
  });

  it("'auto' keeps the spectral W when it is the better estimate (refineSamples ≪ n)", async () => {
    // The refinement fits the first refineSamples samples, the spectral estimate all n: with
    // 600 of 2e5 samples the refined W's standard error is several times the spectral one's,
    // and 'auto' returns the spectral W (bit for bit) while an explicit count refines anyway.
    const g = generate({ distribution: 'gaussian', n: 200_000, d: 8, k: 4, l: 6, seed: 3, noise: 0.05 });
    const input = { x: g.x, y: g.y, d: 8, l: 6 };
    const spectral = await learn(input, { k: 4, refine: 0 });
    const auto = await learn(input, { k: 4, refineSamples: 600 });
    const forced = await learn(input, { k: 4, refine: 5, refineSamples: 600 });
    const ref = auto.diagnostics!.refinement!;
    expect(ref.used).toBe(false);
    expect(ref.standardError!).toBeGreaterThan(auto.diagnostics!.spectralErrorEstimate!);
    expect(Array.from(auto.W)).toEqual(Array.from(spectral.W));
    expect(auto.diagnostics!.errorEstimate).toBe(auto.diagnostics!.spectralErrorEstimate);
    expect(forced.diagnostics!.refinement!.used).toBe(true);
    expect(compare(auto, g.truth).wError).toBeLessThan(compare(forced, g.truth).wError);
  });
});
