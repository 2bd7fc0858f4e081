/**
 * Diagnostics and warnings: the error estimate tracks the measured error, asymmetric inputs
 * are flagged, k: 'auto' finds the number of hidden units, too-large k is warned about.
 */
import { describe, expect, it } from 'vitest';
import { compare } from '../src/api/compare.js';
import { generate } from '../src/api/generate.js';
import { learn } from '../src/api/learn.js';
import { Model } from '../src/api/model.js';
import { rowHash, wordsOf } from '../src/passes/pass.js';

describe('error estimate (half-sample disagreement)', () => {
  it('is within a factor 3 of the measured W error across sizes', async () => {
    // Half the distance of two half-sample fits estimates the full-sample error when it is
    // variance-dominated; measured ratios est/actual were 0.75–1.7 over 12 configurations.
    // A factor 3 either way leaves room for seed-to-seed spread while catching an estimate that
    // ignores a whole error source (e.g. sharing pass 1 between halves gave ratios ≈ 0.03).
    for (const [n, seed] of [[5_000, 1], [50_000, 2]] as const) {
      const g = generate({ distribution: 'gaussian', n, d: 10, k: 5, l: 8, seed });
      const m = await learn({ x: g.x, y: g.y, d: 10, l: 8 }, { k: 5, refine: 0 });
      const actual = compare(m, g.truth).wError;
      const est = m.diagnostics!.errorEstimate!;
      expect(m.diagnostics!.spectralErrorEstimate).toBe(est);
      expect(est, `n=${n}`).toBeGreaterThan(actual / 3);
      expect(est, `n=${n}`).toBeLessThan(actual * 3);
    }
  });

  it('after the default refinement: the standard error of the refined W, within a factor 2 on noisy data', async () => {
    // √(σ̂²·tr(H⁻¹)/(n·k)) is the asymptotic standard error of least squares; measured est/actual
    // 0.9–1.15 over 20 noisy fits (Gaussian, Student-t, mixture; σ 0.05–0.1; (20,10,15) and
    // (32,16,32)). A factor 2 allows seed spread and still fails an estimate that kept the
    // spectral value (10× too large here) or dropped the noise term.
    for (const [distribution, noise, seed] of [['gaussian', 0.05, 1], ['mixture', 0.1, 2], ['student-t', 0.05, 3]] as const) {
      const g = generate({ distribution, n: 30_000, d: 12, k: 6, l: 9, seed, noise });
      const m = await learn({ x: g.x, y: g.y, d: 12, l: 9 }, { k: 6 });
      const dg = m.diagnostics!;
      const actual = compare(m, g.truth).wError;
      expect(dg.refinement!.iterations, distribution).toBeGreaterThan(1);
      expect(dg.spectralErrorEstimate!, distribution).toBeGreaterThan(2 * dg.errorEstimate!);
      expect(dg.errorEstimate!, distribution).toBeGreaterThan(actual / 2);
      expect(dg.errorEstimate!, distribution).toBeLessThan(actual * 2);
    }
    // Noiseless: refined to rounding level, and the estimate says so.
    const g = generate({ distribution: 'gaussian', n: 5_000, d: 10, k: 5, l: 8, seed: 1 });
    const m = await learn({ x: g.x, y: g.y, d: 10, l: 8 }, { k: 5 });
    expect(compare(m, g.truth).wError).toBeLessThan(1e-10);
    expect(m.diagnostics!.errorEstimate!).toBeLessThan(1e-6);
  });

  it('warns and suggests more samples when the estimate is large; an exact refined fit from the same few samples needs no warning', async () => {
    const g = generate({ distribution: 'gaussian', n: 400, d: 8, k: 4, l: 6, seed: 3 });
    const spectral = (await learn({ x: g.x, y: g.y, d: 8, l: 6 }, { k: 4, refine: 0 })).diagnostics!;
    expect(spectral.errorEstimate === undefined || spectral.errorEstimate > 0.1).toBe(true);
    expect(spectral.warnings.join('\n')).toMatch(/too few samples/);
    // The default refines (2400 equations for 40 weights) to the planted network: exact, and
    // its standard error says so (the spectral start's doubts concern the start only).
    const m = await learn({ x: g.x, y: g.y, d: 8, l: 6 }, { k: 4 });
    expect(compare(m, g.truth).wError).toBeLessThan(1e-10);
    expect(m.diagnostics!.errorEstimate!).toBeLessThan(1e-12);
    expect(m.diagnostics!.warnings).toEqual([]);
  });

  it('on ±1 and small-integer inputs too: the halves split such rows evenly, and the estimate exists', async () => {
    // Rows of ±1 (and of small integers) differ only in the top bits of their doubles; the row
    // hash that chose the halves once mixed those into bit 31 alone: every ±1 row fell into one
    // half and learn() reported 'the half-sample estimates failed' on all Rademacher data.
    const rowsOf = (x: Float64Array, d: number) => Array.from({ length: x.length / d }, (_, r) => x.subarray(r * d, (r + 1) * d));
    // d = 20: 2¹⁹ sign patterns up to sign, far more than n, so rows are distinct (equal rows,
    // as x and −x, share a half by design).
    const g = generate({ distribution: 'rademacher', n: 20_000, d: 20, k: 5, l: 8, seed: 4, noise: 0.05 });
    const ints = Float64Array.from(g.x, (v, i) => (v > 0 ? 1 : -1) * (1 + (i % 3)));
    for (const x of [g.x, ints]) {
      const words = wordsOf(x);
      const high = rowsOf(x, 20).filter((_, r) => rowHash(words, r, 20) >>> 31 === 1).length;
      // A fair coin per row: 10 000 ± 3·71 in 99.7% of draws (before: 0 or 20 000).
      expect(Math.abs(high - 10_000)).toBeLessThan(400);
    }
    const m = await learn({ x: g.x, y: g.y, d: 20, l: 8 }, { k: 5 });
    expect(m.diagnostics!.warnings).toEqual([]);
    expect(m.diagnostics!.spectralErrorEstimate).toBeGreaterThan(0);
    expect(m.diagnostics!.errorEstimate).toBeGreaterThan(0);
  });

  it('is ~0 on exactly symmetric noiseless samples and can be turned off', async () => {
    const g = generate({ distribution: 'uniform', n: 6_000, d: 6, k: 3, l: 4, seed: 2, symmetrize: true });
    const m = await learn({ x: g.x, y: g.y, d: 6, l: 4 }, { k: 3 });
    expect(m.diagnostics!.errorEstimate!).toBeLessThan(0.05);
    const off = await learn({ x: g.x, y: g.y, d: 6, l: 4 }, { k: 3, errorEstimate: false });
    expect(off.diagnostics!.errorEstimate).toBeUndefined();
  });
});

describe('symmetry test', () => {
  it('stays quiet on symmetric inputs of every kind', async () => {
    for (const distribution of ['gaussian', 'laplace', 'student-t', 'mixture'] as const) {
      const g = generate({ distribution, n: 40_000, d: 10, k: 4, l: 6, seed: 5 });
      const m = await learn({ x: g.x, y: g.y, d: 10, l: 6 }, { k: 4 });
      expect(m.diagnostics!.symmetry.asymmetric, distribution).toBe(false);
      expect(m.diagnostics!.warnings.join('\n')).not.toMatch(/asymmetric/);
    }
  });

  it('flags a shifted mean and a skewed column', async () => {
    const g = generate({ distribution: 'gaussian', n: 20_000, d: 10, k: 5, l: 8, seed: 3 });
    const shifted = Float64Array.from(g.x);
    for (let i = 3; i < shifted.length; i += 10) shifted[i] += 0.1;
    const a = await learn({ x: shifted, y: g.y, d: 10, l: 8 }, { k: 5 });
    expect(a.diagnostics!.symmetry).toMatchObject({ asymmetric: true, column: 3 });
    expect(a.diagnostics!.warnings.join('\n')).toMatch(/x looks asymmetric: the (mean|third moment) of column 3/);

    const skewed = Float64Array.from(g.x);
    // Zero-mean but skewed: x → x² − 1 on column 6 (E = 0, E[x³] = 8 ≠ 0).
    for (let i = 6; i < skewed.length; i += 10) skewed[i] = skewed[i] * skewed[i] - 1;
    const b = await learn({ x: skewed, y: g.y, d: 10, l: 8 }, { k: 5 });
    expect(b.diagnostics!.symmetry.asymmetric).toBe(true);
    expect(b.diagnostics!.symmetry.column).toBe(6);
  });
});

describe("k: 'auto' and the rank of the linear part", () => {
  it('finds k for several shapes', async () => {
    for (const [d, k, l, distribution] of [[20, 10, 15, 'gaussian'], [10, 3, 8, 'mixture'], [12, 6, 6, 'laplace']] as const) {
      const g = generate({ distribution, n: 50_000, d, k, l, seed: 4, noise: 0.05 });
      const m = await learn({ x: g.x, y: g.y, d, l }, { k: 'auto' });
      expect(m.k, `${distribution} (${d},${k},${l})`).toBe(k);
      expect(m.diagnostics!.k).toBe(k);
      expect(compare(m, g.truth).wError).toBeLessThan(0.08);
    }
  });

  it('warns when k exceeds the rank the data support (noisy outputs)', async () => {
    const g = generate({ distribution: 'gaussian', n: 20_000, d: 10, k: 3, l: 8, seed: 6, noise: 0.05 });
    const m = await learn({ x: g.x, y: g.y, d: 10, l: 8 }, { k: 5 });
    expect(m.diagnostics!.linearRank).toBe(3);
    expect(m.diagnostics!.warnings.join('\n')).toMatch(/only 3 singular value\(s\).*try k = 3/);
  });

  it('rarely names the rank on good square fits whose W is ill-conditioned (σ_k of A·W below the noise floor)', async () => {
    // Found by the n sweep (docs/experiments.md): noiseless (10,10,10) problems whose smallest
    // singular value of A·W sits under 1.5× the noise floor although W is recovered well. The
    // warning used to fire on every such fit (8 of these 8 seeds); it now needs the fit itself to
    // look suspect, which leaves the seeds whose null space is barely separated (σ_k/σ_k+1 ≈ 0.9).
    let good = 0;
    let alarms = 0;
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const g = generate({ distribution: 'gaussian', n: 100_000, d: 10, k: 10, l: 10, seed });
      const m = await learn({ x: g.x, y: g.y, d: 10, l: 10 }, { k: 10 });
      if (m.diagnostics!.linearRank >= 10 || compare(m, g.truth).wError > 0.02) continue;
      good++;
      if (/singular value\(s\) clear of sampling noise/.test(m.diagnostics!.warnings.join('\n'))) alarms++;
    }
    // The case must occur among these seeds, or the test proves nothing.
    expect(good).toBeGreaterThanOrEqual(6);
    expect(alarms).toBeLessThanOrEqual(2);
  });

  it('refuses k above the rank of noiseless outputs, naming the rank', async () => {
    const g = generate({ distribution: 'gaussian', n: 20_000, d: 10, k: 3, l: 8, seed: 6 });
    await expect(learn({ x: g.x, y: g.y, d: 10, l: 8 }, { k: 5 })).rejects.toThrow(/rank ≈ 3\); lower k to 3/);
  });
});

describe('exactly symmetric samples built as users build them: a skewed base with its negations appended as one block', () => {
  // [X; −X] with X ≥ 0 (exponential columns): the whole sample is exactly symmetric, its first
  // and second halves (and any prefix) are not. Noiseless, so the fit is exact; the certificate
  // must say so: k: 'auto' finds every unit, the error estimate is ~0, and nothing is warned.
  // (Before issue 12 k: 'auto' counted from a noise floor that exact data do not have, the
  // half-sample estimate split the block, and learn() failed outright here on a Gauss–Newton
  // matrix formed from the X block alone.)
  const [d, k, l, nBase] = [10, 5, 8, 20_000];
  const base = (seed: number) => {
    let s = seed;
    const uniform = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) + 0.5) / 2 ** 32;
    const X = new Float64Array(2 * nBase * d);
    for (let i = 0; i < nBase * d; i++) {
      X[i] = -Math.log(uniform());
      X[nBase * d + i] = -X[i];
    }
    return X;
  };
  for (const seed of [7, 8]) {
    it(`seed ${seed}: the exact fit is certified exact, with no warning`, async () => {
      const { truth } = generate({ n: 2, d, k, l, seed });
      const x = base(seed);
      const y = new Model(truth).predict(x);
      const m = await learn({ x, y, d, l }, { k: 'auto' });
      const dg = m.diagnostics!;
      expect(m.k).toBe(k);
      // Exact data: rounding-level errors (measured ~1e-12); 1e-8 catches any bias, and the
      // estimate must agree that the fit is exact (a half of the block gave 0.7 before).
      expect(compare(m, truth).wError).toBeLessThan(1e-8);
      expect(dg.errorEstimate!).toBeLessThan(1e-6);
      expect(dg.warnings).toEqual([]);
    });
  }
});
