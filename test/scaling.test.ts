/**
 * Numerical robustness: units must not matter. Scaling x by s leaves the unit-norm W rows
 * unchanged and divides A by s; scaling y by t multiplies A by t. Every threshold inside the
 * learner is relative (rank tolerance, noise floor, null-space ratio), so errors must stay at
 * the unscaled run's level (compared with a factor 2 margin + 1e-10 for rounding), down to
 * scales of 1e±100, where squares are 1e±200 (the eigensolver works on power-of-two rescaled
 * covariances, and the detector on whitened h and z, so nothing overflows before ~1e150).
 */
import { describe, expect, it } from 'vitest';
import { compare } from '../src/api/compare.js';
import { generate } from '../src/api/generate.js';
import { learn } from '../src/api/learn.js';

const base = generate({ distribution: 'gaussian', n: 20_000, d: 10, k: 4, l: 7, seed: 8, noise: 0.02 });
const scaled = (a: Float64Array, s: number) => a.map((v) => v * s);

describe('scale invariance', () => {
  it.each([1e-6, 1e6, 1e-100, 1e100])('x scaled by %s gives the correspondingly scaled model', async (s) => {
    const ref = await learn({ x: base.x, y: base.y, d: 10, l: 7 }, { k: 4 });
    const m = await learn({ x: scaled(base.x, s), y: base.y, d: 10, l: 7 }, { k: 4 });
    const truth = { ...base.truth, W: scaled(base.truth.W, 1 / s) };
    const cRef = compare(ref, base.truth);
    const c = compare(m, truth);
    expect(c.wError).toBeLessThan(2 * cRef.wError + 1e-10);
    expect(c.aError).toBeLessThan(2 * cRef.aError + 1e-10);
    expect(m.W.every(Number.isFinite) && m.A.every(Number.isFinite)).toBe(true);
  });

  it.each([1e-6, 1e6, 1e-100, 1e100])('y scaled by %s gives A scaled the same way', async (t) => {
    const ref = await learn({ x: base.x, y: base.y, d: 10, l: 7 }, { k: 4 });
    const m = await learn({ x: base.x, y: scaled(base.y, t), d: 10, l: 7 }, { k: 4 });
    const truth = { ...base.truth, A: scaled(base.truth.A, t) };
    const c = compare(m, truth);
    const cRef = compare(ref, base.truth);
    expect(c.wError).toBeLessThan(2 * cRef.wError + 1e-10);
    expect(c.aError).toBeLessThan(2 * cRef.aError + 1e-10);
    expect(m.diagnostics!.warnings).toEqual(ref.diagnostics!.warnings);
  });

  it('heavy tails and huge noise give a model and a warning, never NaN', async () => {
    const g = generate({ distribution: 'student-t', df: 2.5, n: 20_000, d: 8, k: 4, l: 6, seed: 2, noise: 50 });
    const m = await learn({ x: g.x, y: g.y, d: 8, l: 6 }, { k: 4 });
    expect(m.W.every(Number.isFinite) && m.A.every(Number.isFinite)).toBe(true);
    expect(m.diagnostics!.warnings.length).toBeGreaterThan(0);
  });

  it('tiny noise is harmless', async () => {
    const g = generate({ distribution: 'gaussian', n: 20_000, d: 8, k: 4, l: 6, seed: 2, noise: 1e-12 });
    const m = await learn({ x: g.x, y: g.y, d: 8, l: 6 }, { k: 4 });
    expect(compare(m, g.truth).wError).toBeLessThan(0.05);
  });
});
