import { describe, expect, it } from 'vitest';
import { compare } from '../src/api/compare.js';
import { generate } from '../src/api/generate.js';
import { hungarian } from '../src/math/hungarian.js';
import { Model } from '../src/api/model.js';
import { Rng } from '../src/math/random.js';
import type { Network } from '../src/types.js';

/** All permutations of 0..m−1 (m ≤ 6: at most 720). */
function permutations(m: number): number[][] {
  if (m === 0) return [[]];
  const out: number[][] = [];
  for (const p of permutations(m - 1)) {
    for (let pos = 0; pos <= p.length; pos++) out.push([...p.slice(0, pos), m - 1, ...p.slice(pos)]);
  }
  return out;
}

/** All injective maps rows → cols (as arrays of columns), by brute force. */
function injections(rows: number, cols: number): number[][] {
  const out: number[][] = [];
  const cur: number[] = [];
  const used = new Array(cols).fill(false);
  const rec = () => {
    if (cur.length === rows) {
      out.push([...cur]);
      return;
    }
    for (let j = 0; j < cols; j++) {
      if (used[j]) continue;
      used[j] = true;
      cur.push(j);
      rec();
      cur.pop();
      used[j] = false;
    }
  };
  rec();
  return out;
}

const total = (cost: ArrayLike<number>, cols: number, a: number[]) => a.reduce((s, j, i) => s + cost[i * cols + j], 0);

/** model unit i = truth unit perm[i], with W row scaled by s_i > 0 and A column divided by s_i. */
function permutedCopy(truth: Network, perm: number[], scale: number[]): Network {
  const { d, k, l } = truth;
  const W = new Float64Array(k * d);
  const A = new Float64Array(l * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < d; j++) W[i * d + j] = scale[i] * truth.W[perm[i] * d + j];
    for (let p = 0; p < l; p++) A[p * k + i] = truth.A[p * k + perm[i]] / scale[i];
  }
  return { d, k, l, W, A };
}

describe('hungarian', () => {
  it('finds the minimum-cost assignment (= brute force) on random square matrices, k ≤ 6', () => {
    const rng = new Rng(17);
    for (let k = 1; k <= 6; k++) {
      const perms = permutations(k);
      for (let trial = 0; trial < 40; trial++) {
        const cost = Float64Array.from({ length: k * k }, () => rng.normal());
        const got = hungarian(cost, k);
        expect([...got].sort((a, b) => a - b)).toEqual([...Array(k).keys()]);
        let best = Infinity;
        let bestPerm: number[] = [];
        for (const p of perms) {
          const c = total(cost, k, p);
          if (c < best) {
            best = c;
            bestPerm = p;
          }
        }
        // Continuous costs: the optimum is unique almost surely, so the assignment itself must agree.
        expect(got).toEqual(bestPerm);
        expect(Math.abs(total(cost, k, got) - best)).toBeLessThan(1e-12);
      }
    }
  });

  it('reaches the optimal cost with ties (small integer costs) and on rectangular matrices', () => {
    const rng = new Rng(23);
    for (let rows = 1; rows <= 5; rows++) {
      for (let cols = rows; cols <= 6; cols++) {
        const all = injections(rows, cols);
        for (let trial = 0; trial < 15; trial++) {
          const cost = Array.from({ length: rows * cols }, () => rng.int(4) - 1);
          const got = hungarian(cost, rows, cols);
          expect(new Set(got).size).toBe(rows);
          expect(got.every((j) => j >= 0 && j < cols)).toBe(true);
          const best = Math.min(...all.map((a) => total(cost, cols, a)));
          expect(total(cost, cols, got)).toBe(best);
        }
      }
    }
  });

  it('validates its input', () => {
    expect(hungarian([], 0)).toEqual([]);
    expect(() => hungarian([1, 2, 3], 2)).toThrow(RangeError);
    expect(() => hungarian([1, 2, 3, 4, 5, 6], 3, 2)).toThrow(/exceeds cols/);
    expect(() => hungarian([1, NaN, 3, 4], 2)).toThrow(/not finite/);
  });
});

describe('compare', () => {
  const { truth } = generate({ n: 2, d: 8, k: 5, l: 6, seed: 31 });

  it('gives zero error for a permuted and positively rescaled copy, and finds the permutation', () => {
    const perm = [3, 0, 4, 1, 2];
    const scale = [0.2, 5, 1, 3.7, 0.9];
    const model = permutedCopy(truth, perm, scale);
    const c = compare(model, truth);
    expect(c.permutation).toEqual(perm);
    expect(c.wError).toBeLessThan(1e-14);
    expect(c.aError).toBeLessThan(1e-14);
    expect(c.predictionError).toBeLessThan(1e-14);
    expect(compare(truth, truth)).toEqual({ wError: 0, aError: 0, predictionError: 0, permutation: [0, 1, 2, 3, 4] });
  });

  it('accepts a Model instance and its own inputs (Float32Array)', () => {
    const model = new Model(permutedCopy(truth, [1, 0, 2, 3, 4], [2, 2, 2, 2, 2]));
    const x = Float32Array.from({ length: 8 * 100 }, (_, t) => Math.sin(t));
    expect(compare(model, truth, { x }).predictionError).toBeLessThan(1e-14);
  });

  it('counts a sign-flipped unit as an error', () => {
    const model = permutedCopy(truth, [0, 1, 2, 3, 4], [1, 1, 1, 1, 1]);
    for (let j = 0; j < 8; j++) model.W[2 * 8 + j] = -model.W[2 * 8 + j];
    const c = compare(model, truth);
    // Whatever the matching, one unit row is at distance ≥ ‖w − (−w)‖-ish from every truth row:
    // with the flipped unit matched to itself the error is ‖2w₂‖/‖W‖ = 2/√5 ≈ 0.89.
    expect(c.wError).toBeGreaterThan(0.5);
    expect(c.predictionError).toBeGreaterThan(0.1);
  });

  it('matches by signed cosine, not its absolute value', () => {
    // truth rows w0 = e1, w1 = (−0.8, 0.6); model rows m0 = −e1, m1 = e2.
    // Signed total cosine: identity −1 + 0.6 = −0.4, swap 0.8 + 0 = 0.8 → swap.
    // (|cos| would prefer the identity: 1 + 0.6 > 0.8 + 0.)
    const t: Network = { d: 2, k: 2, l: 2, W: Float64Array.of(1, 0, -0.8, 0.6), A: Float64Array.of(1, 0, 0, 1) };
    const m: Network = { d: 2, k: 2, l: 2, W: Float64Array.of(-1, 0, 0, 1), A: Float64Array.of(1, 0, 0, 1) };
    expect(compare(m, t).permutation).toEqual([1, 0]);
  });

  it('maximizes the total cosine (= brute force) for a noisy estimate', () => {
    const rng = new Rng(41);
    const perms = permutations(5);
    for (let trial = 0; trial < 10; trial++) {
      const W = Float64Array.from(truth.W, (v) => v + 0.6 * rng.normal());
      const model: Network = { ...truth, W };
      const { permutation } = compare(model, truth);
      const cos = (i: number, j: number) => {
        let dot = 0;
        let a = 0;
        let b = 0;
        for (let t = 0; t < 8; t++) {
          dot += W[i * 8 + t] * truth.W[j * 8 + t];
          a += W[i * 8 + t] ** 2;
          b += truth.W[j * 8 + t] ** 2;
        }
        return dot / Math.sqrt(a * b);
      };
      const score = (p: number[]) => p.reduce((s, j, i) => s + cos(i, j), 0);
      const best = Math.max(...perms.map(score));
      expect(score(permutation)).toBeCloseTo(best, 12);
    }
  });

  it('measures aError and predictionError as relative Frobenius / RMS errors', () => {
    // Scaling A by 1.1 leaves W exact and makes both A and the outputs 10% off.
    const model: Network = { ...truth, A: truth.A.map((v) => 1.1 * v) };
    const c = compare(model, truth);
    expect(c.wError).toBe(0);
    expect(Math.abs(c.aError - 0.1)).toBeLessThan(1e-12);
    expect(Math.abs(c.predictionError - 0.1)).toBeLessThan(1e-12);

    // Perturbing one W row: wError is the unit-row difference, computed by hand.
    const W = Float64Array.from(truth.W);
    W[0] += 0.3;
    const c2 = compare({ ...truth, W }, truth);
    const row = Array.from(W.subarray(0, 8));
    const norm = Math.hypot(...row);
    const diff = Math.hypot(...row.map((v, j) => v / norm - truth.W[j]));
    expect(Math.abs(c2.wError - diff / Math.sqrt(5))).toBeLessThan(1e-14);
    // The scale change of unit 0 moves into A: aError = |‖w₀'‖ − 1|·‖a₀‖/‖A‖.
    let a0 = 0;
    let all = 0;
    for (let p = 0; p < 6; p++) {
      a0 += truth.A[p * 5] ** 2;
      for (let i = 0; i < 5; i++) all += truth.A[p * 5 + i] ** 2;
    }
    expect(Math.abs(c2.aError - (Math.abs(norm - 1) * Math.sqrt(a0)) / Math.sqrt(all))).toBeLessThan(1e-14);
  });

  it('predictionError uses the given inputs, else 4096 Gaussian samples from options.seed', () => {
    const model: Network = { ...truth, W: truth.W.map((v, t) => v + 0.05 * Math.cos(t)) };
    const x = generate({ n: 300, d: 8, k: 5, l: 6, seed: 2 }).x;
    const yHat = new Model(model).predict(x);
    const y = new Model(truth).predict(x);
    let num = 0;
    let den = 0;
    for (let t = 0; t < y.length; t++) {
      num += (yHat[t] - y[t]) ** 2;
      den += y[t] ** 2;
    }
    expect(compare(model, truth, { x }).predictionError).toBeCloseTo(Math.sqrt(num / den), 12);
    // First 100 rows only.
    const first = compare(model, truth, { x, n: 100 }).predictionError;
    expect(first).toBeCloseTo(compare(model, truth, { x: x.subarray(0, 800) }).predictionError, 14);
    // Default: deterministic, and the seed matters.
    const a = compare(model, truth).predictionError;
    expect(compare(model, truth, { seed: 12345 }).predictionError).toBe(a);
    expect(compare(model, truth, { seed: 1 }).predictionError).not.toBe(a);
    expect(a).toBeGreaterThan(0);
  });

  it('rejects mismatched shapes, naming both', () => {
    const small = generate({ n: 2, d: 8, k: 4, l: 6 }).truth;
    expect(() => compare(small, truth)).toThrow(RangeError);
    expect(() => compare(small, truth)).toThrow(
      'model shape (d = 8, k = 4, l = 6) does not match truth shape (d = 8, k = 5, l = 6)',
    );
    const otherD = generate({ n: 2, d: 9, k: 5, l: 6 }).truth;
    expect(() => compare(truth, otherD)).toThrow(/\(d = 8, k = 5, l = 6\).*\(d = 9, k = 5, l = 6\)/);
    expect(() => compare({ ...truth, W: new Float64Array(3) }, truth)).toThrow(/model\.W has 3 values/);
    expect(() => compare(truth, truth, { x: new Float64Array(7) })).toThrow(/not a multiple of d = 8/);
    expect(() => compare(truth, truth, { x: new Float64Array(16), n: 3 })).toThrow(/options\.n = 3/);
    expect(() => compare(truth, truth, { xs: 1 } as never)).toThrow(/unknown option "xs"/);
  });
});
