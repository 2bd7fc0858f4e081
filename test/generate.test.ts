import { describe, expect, it } from 'vitest';
import { PureneuronError } from '../src/errors.js';
import { Matrix, SVD, EVD } from 'ml-matrix';
import { DISTRIBUTIONS, generate, randomOrthonormal, type GenerateOptions } from '../src/api/generate.js';
import { Model } from '../src/api/model.js';
import { Rng } from '../src/math/random.js';

// Statistical checks use Z = 5 standard errors: with a few hundred checks in this file the chance
// that a correct implementation fails any of them is < 1e-4 (and the seeds are fixed anyway),
// while the broken variants named next to each check miss by far more than 5 SE.
const Z = 5;

/** Sample mean and standard error of f over the values of `xs`. */
function meanSe(xs: ArrayLike<number>, f: (v: number) => number): { mean: number; se: number } {
  let s = 0;
  let s2 = 0;
  const n = xs.length;
  for (let t = 0; t < n; t++) {
    const v = f(xs[t]);
    s += v;
    s2 += v * v;
  }
  const mean = s / n;
  const variance = Math.max(s2 / n - mean * mean, 0);
  return { mean, se: Math.sqrt(variance / n) };
}

/** Asserts |mean(f) − target| ≤ Z·SE (plus a rounding floor for exactly-determined cases). */
function expectMoment(xs: ArrayLike<number>, f: (v: number) => number, target: number, label: string): void {
  const { mean, se } = meanSe(xs, f);
  const tol = Z * se + 1e-12;
  expect(Math.abs(mean - target), `${label}: mean ${mean} vs ${target} (SE ${se})`).toBeLessThanOrEqual(tol);
}

/** Column j of an n×d row-major array. */
function column(x: Float64Array, n: number, d: number, j: number): Float64Array {
  const out = new Float64Array(n);
  for (let s = 0; s < n; s++) out[s] = x[s * d + j];
  return out;
}

/** r·x for every row, with a fixed random direction r. */
function projection(x: Float64Array, n: number, d: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const r = Array.from({ length: d }, () => rng.normal());
  const norm = Math.hypot(...r);
  const out = new Float64Array(n);
  for (let s = 0; s < n; s++) {
    let v = 0;
    for (let j = 0; j < d; j++) v += (r[j] / norm) * x[s * d + j];
    out[s] = v;
  }
  return out;
}

function covariance(x: Float64Array, n: number, d: number): Matrix {
  const c = new Matrix(d, d);
  for (let s = 0; s < n; s++) {
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) c.set(i, j, c.get(i, j) + x[s * d + i] * x[s * d + j]);
    }
  }
  return c.div(n);
}

const singularValues = (m: Float64Array, rows: number, cols: number): number[] =>
  new SVD(Matrix.from1DArray(rows, cols, Array.from(m)), { autoTranspose: true }).diagonal;

/** Student-t CDF with 3 degrees of freedom (closed form). */
function t3cdf(t: number): number {
  const u = t / Math.sqrt(3);
  return 0.5 + (u / (1 + u * u) + Math.atan(u)) / Math.PI;
}

describe('Rng', () => {
  it('matches the xoshiro128** reference sequence', () => {
    // Reference values from the C implementation (Blackman & Vigna) started at state {1, 2, 3, 4}.
    const r = Rng.fromState([1, 2, 3, 4]);
    const out: number[] = [];
    for (let i = 0; i < 1000; i++) out.push(r.nextUint32());
    expect(out.slice(0, 5)).toEqual([11520, 0, 5927040, 70819200, 2031721883]);
    expect(out[999]).toBe(3170714187);
  });

  it('is deterministic for a seed and differs across seeds and streams', () => {
    const draw = (r: Rng) => Array.from({ length: 8 }, () => r.nextUint32());
    expect(draw(new Rng(7))).toEqual(draw(new Rng(7)));
    expect(draw(new Rng(7))).not.toEqual(draw(new Rng(8)));
    expect(draw(new Rng(7, 0))).not.toEqual(draw(new Rng(7, 1)));
    // Seeds that differ only in the high word must differ too.
    expect(draw(new Rng(1))).not.toEqual(draw(new Rng(1 + 2 ** 32)));
  });

  it('draws uniform(), int(), sign() with the right ranges and frequencies', () => {
    const r = new Rng(3);
    const n = 200_000;
    const u = new Float64Array(n);
    for (let t = 0; t < n; t++) u[t] = r.uniform();
    expect(u.every((v) => v >= 0 && v < 1)).toBe(true);
    expectMoment(u, (v) => v, 0.5, 'uniform mean');
    expectMoment(u, (v) => v * v, 1 / 3, 'uniform E[u²]');

    // int(7): chi-square with 6 degrees of freedom; 40 is far beyond its 1e-6 quantile (≈ 38).
    const counts = new Array(7).fill(0);
    for (let t = 0; t < 70_000; t++) counts[r.int(7)]++;
    const chi2 = counts.reduce((a, c) => a + (c - 10_000) ** 2 / 10_000, 0);
    expect(chi2).toBeLessThan(40);
    expect(() => r.int(0)).toThrow(RangeError);

    const signs = new Float64Array(n);
    for (let t = 0; t < n; t++) signs[t] = r.sign();
    expect(signs.every((v) => v === 1 || v === -1)).toBe(true);
    expectMoment(signs, (v) => v, 0, 'sign mean');
  });

  it('draws normal(), laplace(), studentT() with the designed moments', () => {
    const r = new Rng(11);
    const n = 200_000;
    const g = new Float64Array(n);
    const lap = new Float64Array(n);
    const t5 = new Float64Array(n);
    for (let t = 0; t < n; t++) {
      g[t] = r.normal();
      lap[t] = r.laplace();
      t5[t] = r.studentT(10);
    }
    expectMoment(g, (v) => v, 0, 'normal mean');
    expectMoment(g, (v) => v * v, 1, 'normal variance');
    expectMoment(g, (v) => v ** 4, 3, 'normal E[z⁴]'); // uniform would give 1.8, Laplace 6
    expectMoment(g, (v) => (v > 1 ? 1 : 0), 0.15865525393145707, 'normal P(z > 1)');
    expectMoment(lap, (v) => v * v, 1, 'laplace variance');
    expectMoment(lap, (v) => v ** 4, 6, 'laplace E[x⁴]');
    // Unscaled t₁₀ has variance 10/8.
    expectMoment(t5, (v) => v * v, 10 / 8, 'studentT(10) variance');
  });
});

describe('generate: distributions', () => {
  const n = 100_000;
  const d = 4;
  const base = { n, d, k: 2, l: 2, seed: 5 };

  for (const distribution of DISTRIBUTIONS) {
    it(`${distribution}: symmetric (mean, odd moments, sign balance ≈ 0)`, () => {
      const opts: GenerateOptions = { ...base, distribution };
      if (distribution === 'mixture') Object.assign(opts, { separation: 3, components: 2 });
      const { x } = generate(opts);
      const heavy = distribution === 'student-t'; // df = 3: E[x⁶] = ∞, so no third-moment test
      for (let j = 0; j < d; j++) {
        const c = column(x, n, d, j);
        expectMoment(c, (v) => v, 0, `${distribution} mean[${j}]`);
        if (!heavy) expectMoment(c, (v) => v ** 3, 0, `${distribution} E[x³][${j}]`);
        // P(x > 0) − P(x < 0) = 0 for any symmetric law (a sign test; finite variance always).
        expectMoment(c, Math.sign, 0, `${distribution} sign balance[${j}]`);
      }
      // An odd moment that mixes coordinates (catches asymmetric correlations / mixture means).
      const p = projection(x, n, d, 99);
      expectMoment(p, Math.sign, 0, `${distribution} projection sign balance`);
      if (!heavy) expectMoment(p, (v) => v ** 3, 0, `${distribution} projection E[(r·x)³]`);
    });
  }

  it('gaussian / uniform / rademacher / laplace: unit variance and the right shape (E[x⁴])', () => {
    const fourth: Record<string, number> = { gaussian: 3, uniform: 9 / 5, rademacher: 1, laplace: 6 };
    for (const [distribution, m4] of Object.entries(fourth)) {
      const { x } = generate({ ...base, distribution: distribution as GenerateOptions['distribution'] });
      expectMoment(x, (v) => v * v, 1, `${distribution} variance`);
      expectMoment(x, (v) => v ** 4, m4, `${distribution} E[x⁴]`);
    }
    const u = generate({ ...base, distribution: 'uniform' }).x;
    expect(u.every((v) => Math.abs(v) <= Math.sqrt(3))).toBe(true);
    const r = generate({ ...base, distribution: 'rademacher' }).x;
    expect(r.every((v) => v === 1 || v === -1)).toBe(true);
  });

  it('student-t: df = 3 follows the t₃ law scaled to unit variance; df = 10 has unit variance', () => {
    const { x } = generate({ ...base, distribution: 'student-t' });
    const scale = Math.sqrt(1 / 3); // sqrt((df − 2)/df)
    for (const c of [-3, -1, -0.3, 0.5, 2, 6]) {
      // Empirical CDF at c·scale against the closed form (a Gaussian would miss by > 30 SE at ±3).
      expectMoment(x, (v) => (v <= c * scale ? 1 : 0), t3cdf(c), `t3 CDF at ${c}`);
    }
    const t10 = generate({ ...base, distribution: 'student-t', df: 10 }).x;
    expectMoment(t10, (v) => v * v, 1, 'student-t(10) variance');
  });

  it('correlated: covariance eigenvalues log-spaced from 1 to 1/condX, not axis-aligned', () => {
    const condX = 10;
    const { x } = generate({ ...base, distribution: 'correlated', condX });
    const cov = covariance(x, n, d);
    const eig = new EVD(cov, { assumeSymmetric: true }).realEigenvalues.sort((a, b) => b - a);
    const want = Array.from({ length: d }, (_, i) => condX ** (-i / (d - 1)));
    // Each sample eigenvalue has relative SE ≈ sqrt(2/n) = 0.0045; allow 5 SE + a bit (3%).
    for (let i = 0; i < d; i++) expect(Math.abs(eig[i] / want[i] - 1), `eigenvalue ${i}`).toBeLessThan(0.03);
    // Random eigenvectors: the covariance has clearly nonzero off-diagonal entries.
    let off = 0;
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) if (i !== j) off = Math.max(off, Math.abs(cov.get(i, j)));
    expect(off).toBeGreaterThan(0.05);
  });

  it('mixture: E‖x‖² = d + separation², excess covariance of rank = components', () => {
    const separation = 3;
    const { x } = generate({ ...base, distribution: 'mixture', separation, components: 2 });
    const sq = new Float64Array(n);
    for (let s = 0; s < n; s++) for (let j = 0; j < d; j++) sq[s] += x[s * d + j] ** 2;
    expectMoment(sq, (v) => v, d + separation ** 2, 'mixture E‖x‖²');
    // Cov = I + ½(μ₁μ₁ᵀ + μ₂μ₂ᵀ): two eigenvalues above 1, the rest ≈ 1.
    const eig = new EVD(covariance(x, n, d), { assumeSymmetric: true }).realEigenvalues.sort((a, b) => b - a);
    expect(eig[1]).toBeGreaterThan(1.3);
    expect(Math.abs(eig[2] - 1)).toBeLessThan(0.05);
    expect(Math.abs(eig[3] - 1)).toBeLessThan(0.05);
  });
});

describe('generate: symmetrize', () => {
  it('emits exact antithetic pairs, so every odd empirical moment is exactly 0', () => {
    for (const distribution of DISTRIBUTIONS) {
      const n = 2000;
      const d = 3;
      const { x, y, truth } = generate({ n, d, k: 2, l: 3, distribution, symmetrize: true, seed: 2 });
      let antithetic = true;
      for (let s = 0; s < n; s += 2) {
        for (let j = 0; j < d; j++) antithetic &&= x[(s + 1) * d + j] === -x[s * d + j];
      }
      expect(antithetic).toBe(true);
      // Summed pair by pair, Σx and Σx³ cancel exactly.
      for (let j = 0; j < d; j++) {
        let m1 = 0;
        let m3 = 0;
        for (let s = 0; s < n; s += 2) {
          const a = x[s * d + j];
          const b = x[(s + 1) * d + j];
          m1 += a + b;
          m3 += a ** 3 + b ** 3;
        }
        expect(m1).toBe(0);
        expect(m3).toBe(0);
      }
      // The partner's outputs are A·relu(−Wx), computed exactly.
      const pred = new Model(truth).predict(x);
      expect(y.every((v, t) => v === pred[t])).toBe(true);
    }
  });

  it('draws noise independently for the two rows of a pair', () => {
    const n = 40_000;
    const opts = { n, d: 3, k: 1, l: 1, symmetrize: true, seed: 4 };
    const clean = generate(opts).y;
    const noisy = generate({ ...opts, noise: 0.5 }).y;
    const prod = new Float64Array(n / 2);
    for (let s = 0; s < n; s += 2) prod[s / 2] = (noisy[s] - clean[s]) * (noisy[s + 1] - clean[s + 1]);
    // E[ξ_a ξ_b] = 0 if independent; 0.25 if the partner reused (or negated: −0.25) the noise.
    expectMoment(prod, (v) => v, 0, 'pair noise covariance');
  });

  it('rejects an odd n', () => {
    expect(() => generate({ n: 7, d: 3, k: 2, l: 2, symmetrize: true })).toThrow(
      /n = 7 is odd.*symmetrize.*choose an even n/,
    );
  });
});

describe('generate: network', () => {
  it('default W has unit rows, default A has entries of variance 1/k', () => {
    const k = 20;
    const { truth } = generate({ n: 2, d: 30, k, l: 40, seed: 3 });
    for (let i = 0; i < k; i++) {
      let s = 0;
      for (let j = 0; j < 30; j++) s += truth.W[i * 30 + j] ** 2;
      expect(Math.abs(Math.sqrt(s) - 1)).toBeLessThan(1e-12);
    }
    expectMoment(truth.A, (v) => v * v * k, 1, 'A entry variance·k');
  });

  it('condW and condA give exactly that condition number with log-spaced singular values', () => {
    for (const [d, k, l] of [
      [12, 5, 7],
      [6, 6, 6],
      [3, 1, 4],
    ]) {
      const condW = 37;
      const condA = 250;
      const { truth } = generate({ n: 2, d, k, l, condW, condA, seed: 8 });
      const sw = singularValues(truth.W, k, d);
      const sa = singularValues(truth.A, l, k);
      for (const [s, cond] of [
        [sw, condW],
        [sa, condA],
      ] as const) {
        expect(s.length).toBe(k);
        const sorted = [...s].sort((a, b) => b - a);
        for (let i = 0; i < k; i++) {
          const want = k === 1 ? 1 : cond ** (-i / (k - 1));
          expect(Math.abs(sorted[i] / want - 1)).toBeLessThan(1e-9);
        }
        if (k > 1) expect(Math.abs(sorted[0] / sorted[k - 1] / cond - 1)).toBeLessThan(1e-9);
      }
    }
  });

  it('randomOrthonormal has orthonormal columns', () => {
    const q = randomOrthonormal(new Rng(1), 9, 4);
    for (let a = 0; a < 4; a++) {
      for (let b = 0; b < 4; b++) {
        let s = 0;
        for (let r = 0; r < 9; r++) s += q[r * 4 + a] * q[r * 4 + b];
        expect(Math.abs(s - (a === b ? 1 : 0))).toBeLessThan(1e-14);
      }
    }
  });

  it('the planted network depends only on the seed (not on distribution or n)', () => {
    const a = generate({ n: 10, d: 5, k: 3, l: 4, seed: 9 }).truth;
    const b = generate({ n: 1000, d: 5, k: 3, l: 4, seed: 9, distribution: 'laplace', noise: 1 }).truth;
    expect(b.W).toEqual(a.W);
    expect(b.A).toEqual(a.A);
  });
});

describe('generate: outputs', () => {
  it('y equals A·relu(W·x) exactly when noise = 0 (all k remainders of the 4-unit blocking)', () => {
    for (const [n, d, k, l] of [
      [101, 7, 5, 6],
      [64, 9, 7, 9],
      [33, 4, 4, 5],
      [10, 3, 1, 1],
    ]) {
      for (const symmetrize of [false, true]) {
        if (symmetrize && n % 2 === 1) continue;
        const { x, y, truth } = generate({ n, d, k, l, symmetrize, seed: 6 });
        const pred = new Model(truth).predict(x);
        expect(y.length).toBe(n * l);
        expect(x.length).toBe(n * d);
        for (let t = 0; t < y.length; t++) expect(y[t] === pred[t], `y[${t}] ${y[t]} vs ${pred[t]}`).toBe(true);
      }
    }
  });

  it('noise adds iid N(0, noise²) per output on top of the same x', () => {
    const opts = { n: 20_000, d: 6, k: 3, l: 4, seed: 12 };
    const clean = generate(opts);
    const noisy = generate({ ...opts, noise: 0.3 });
    expect(noisy.x.every((v, t) => v === clean.x[t])).toBe(true);
    const e = noisy.y.map((v, t) => v - clean.y[t]);
    expectMoment(e, (v) => v, 0, 'noise mean');
    expectMoment(e, (v) => v * v, 0.09, 'noise variance');
    expectMoment(e, (v) => v ** 4, 3 * 0.3 ** 4, 'noise E[ξ⁴] (Gaussian)');
    // Independent across outputs of one sample.
    const pairs = new Float64Array(opts.n);
    for (let s = 0; s < opts.n; s++) pairs[s] = e[s * 4] * e[s * 4 + 1];
    expectMoment(pairs, (v) => v, 0, 'noise cross-output covariance');
  });

  it('is deterministic for a seed and differs across seeds', () => {
    for (const distribution of DISTRIBUTIONS) {
      const opts = { n: 50, d: 4, k: 2, l: 3, distribution, noise: 0.1 };
      const a = generate({ ...opts, seed: 21 });
      const b = generate({ ...opts, seed: 21 });
      const c = generate({ ...opts, seed: 22 });
      expect(b.x).toEqual(a.x);
      expect(b.y).toEqual(a.y);
      expect(b.truth).toEqual(a.truth);
      expect(c.x).not.toEqual(a.x);
      expect(c.truth.W).not.toEqual(a.truth.W);
    }
    // Default seed is 1.
    expect(generate({ n: 5, d: 3, k: 2, l: 2 }).x).toEqual(generate({ n: 5, d: 3, k: 2, l: 2, seed: 1 }).x);
  });
});

describe('generate: validation', () => {
  const ok = { n: 10, d: 10, k: 3, l: 10 };
  // Every options object of the library validates through one path (api/options.ts):
  // PureneuronError BAD_OPTION naming the option, what it allows and the value given.
  const badOption = (f: () => unknown, message: RegExp) => {
    expect(f).toThrow(PureneuronError);
    expect(f).toThrow(message);
    try {
      f();
    } catch (e) {
      expect((e as PureneuronError).code).toBe('BAD_OPTION');
    }
  };
  it('names the option, what it allows and the value given', () => {
    badOption(() => generate({ n: 10, d: 10, k: 12, l: 10 }), /^k = 12 exceeds min\(d, l\) = 10; choose k ≤ 10$/);
    badOption(() => generate({ ...ok, n: 0 }), /n must be a positive integer, got 0/);
    badOption(() => generate({ ...ok, d: 2.5 }), /d must be a positive integer, got 2.5/);
    badOption(() => generate({ ...ok, noise: -1 }), /noise must be a finite number ≥ 0, got -1/);
    badOption(() => generate({ ...ok, condW: 0.5 }), /condW must be a finite number ≥ 1 .*got 0.5/);
    badOption(() => generate({ ...ok, condA: Infinity }), /condA must be .*got Infinity/);
    badOption(() => generate({ ...ok, df: 0 }), /df must be a finite number > 0 .*got 0/);
    badOption(() => generate({ ...ok, seed: 1.5 }), /seed must be an integer .*got 1.5/);
    badOption(() => generate({ ...ok, components: 0 }), /components must be a positive integer, got 0/);
  });

  it('lists the valid distributions for an unknown one', () => {
    const bad = { ...ok, distribution: 'cauchy' } as unknown as GenerateOptions;
    badOption(() => generate(bad), new RegExp(`distribution must be one of ${DISTRIBUTIONS.join(', ')}, got "cauchy"`));
  });

  it('rejects unknown option keys', () => {
    const bad = { ...ok, nosie: 0.1 } as unknown as GenerateOptions;
    badOption(() => generate(bad), /unknown option "nosie" for generate\(\)/);
  });


  it('accepts explicitly undefined optional options', () => {
    expect(() => generate({ ...ok, noise: undefined, seed: undefined, condW: undefined })).not.toThrow();
  });
});
