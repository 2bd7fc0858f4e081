/**
 * The estimator, pinned: SHA-256 of the learned W and A (their float64 bytes) for a few fixed
 * problems and option sets, on both backends, through learn() and through the shard steps.
 * Any change to what the learner computes changes a hash; a refactoring must not. When an
 * issue changes the estimator on purpose, update the hashes in the same commit and say why
 * (history, issue 12: the halves of the error estimate by row hash moved every sum's last bits;
 * the refinement to the all-sample optimum changed every refined model; issue 13: the detector
 * GEMM in float32 when a refinement follows moved the refined models' last bits — their W
 * errors against the planted weights agree to 4 digits, the exact case stays exact).
 *
 * Only the public API is imported, so the test survives moves inside src/.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { accumulateShard, finishShards, generate, learn, mergeStates, nextStep, planShards, type LearnOptions, type Model } from '../src/index.js';

const sha = (a: Float64Array): string => createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex').slice(0, 16);
const hashes = (m: Model) => ({ k: m.k, W: sha(m.W), A: sha(m.A) });

interface Case {
  name: string;
  problem: Parameters<typeof generate>[0];
  options: LearnOptions;
  expected: { k: number; W: string; A: string };
}

const CASES: Case[] = [
  {
    name: 'gaussian (20,10,15) noisy, default options (refinement included)',
    problem: { distribution: 'gaussian', n: 20_000, d: 20, k: 10, l: 15, noise: 0.05, seed: 11 },
    options: { k: 10 },
    expected: { k: 10, W: 'b485f58998caa043', A: 'f88ca7d94dab49f0' },
  },
  {
    name: "mixture (8,4,6) exactly symmetric, noiseless, k 'auto'",
    problem: { distribution: 'mixture', n: 6_000, d: 8, k: 4, l: 6, seed: 3, symmetrize: true },
    options: { k: 'auto' },
    // All 4 planted units: on exact data the rank is the gap in the linear part's singular
    // values (0.07, then ~1e-16), not the noise floor (0.056, which chose 3 before issue 12).
    expected: { k: 4, W: 'a7dd4a153f0a1cf0', A: '845475f31e102b6f' },
  },
  {
    name: 'laplace (12,6,9): unweighted, paper-literal detector, full x, no refinement, chunks of 1000',
    problem: { distribution: 'laplace', n: 30_000, d: 12, k: 6, l: 9, noise: 0.1, seed: 5 },
    options: { k: 6, weighting: 'none', detector: 'literal', reduceX: false, refine: 0, chunkRows: 1000 },
    expected: { k: 6, W: '6a241e6c138a156d', A: '55c12a4b37e9bb89' },
  },
  {
    name: 'correlated (10,5,8): no polish, 3 Jennrich pairs, seed 5, no error estimate, refine 2 (passes at most)',
    problem: { distribution: 'correlated', n: 10_000, d: 10, k: 5, l: 8, noise: 0.02, seed: 9 },
    options: { k: 5, polish: false, jennrichPairs: 3, seed: 5, errorEstimate: false, refine: 2, robustScale: 2 },
    expected: { k: 5, W: 'f1dafe98b3e40535', A: '70be68b9e17b46e4' },
  },
];

describe.each(['js', 'wasm'] as const)('model hashes (%s)', (backend) => {
  for (const c of CASES) {
    it(c.name, async () => {
      const g = generate(c.problem);
      const input = { x: g.x, y: g.y, d: g.d, l: g.l };
      const m0 = await learn(input, { ...c.options, backend, workers: 0 });
      expect(hashes(m0)).toEqual(c.expected);
      const m2 = await learn(input, { ...c.options, backend, workers: 2 });
      expect(hashes(m2)).toEqual(c.expected);
    });
  }

  it('the shard steps: plan, accumulate, merge (refinement passes included), finish on three chunk-aligned shards', async () => {
    const c = CASES[0];
    const g = generate(c.problem);
    const chunkRows = 5000;
    const rows = (a: number, b: number) => ({ x: g.x.subarray(a * g.d, b * g.d), y: g.y.subarray(a * g.l, b * g.l), d: g.d, l: g.l });
    const shards = [rows(0, 10_000), rows(10_000, 15_000), rows(15_000, 20_000)];
    // A subsample of 5000 rows (of 20 000): the refinement makes passes over all the samples.
    let state = await planShards(shards[0], { k: 10, chunkRows, refineSamples: 5000 });
    for (let next = await nextStep(state); next !== 'finish'; next = await nextStep(state)) {
      const pass = next;
      state = mergeStates(await Promise.all(shards.map((s) => accumulateShard(s, { pass, state, backend, workers: 0 }))));
    }
    expect(state.refinePasses).toBeGreaterThan(0);
    const model = await finishShards(state, { backend });
    const single = await learn(rows(0, 20_000), { k: 10, chunkRows, refineSamples: 5000, backend, workers: 0 });
    expect(hashes(model)).toEqual(hashes(single));
    expect(hashes(model)).toEqual({ k: 10, W: 'e03aa1db8ff5d34f', A: '895c19cf6c0f39eb' });
  });
});
