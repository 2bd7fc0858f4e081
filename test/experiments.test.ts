/**
 * The experiment harness end to end at 'tiny' scale (2 seeds, n ≤ 5e3, a couple of configurations
 * per sweep): every sweep runs, writes well-formed JSON with per-seed rows and aggregates, a
 * non-empty SVG plot and markdown tables, and splices the tables into a document. Plus the Adam
 * baseline trainer on its own, the aggregation helpers and the CLI's argument checks.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { experimentCommand } from '../tools/experiments/command.js';
import { compare } from '../src/api/compare.js';
import { generate } from '../src/api/generate.js';
import { getKernels } from '../src/kernels/select.js';
import { gaussNewtonSystem, leastSquares } from '../tools/experiments/leastsq.js';
import {
  plant,
  rewriteFromJson,
  runExperiment,
  splice,
  stat,
  SWEEP_NAMES,
  sweepByName,
  thin,
  toJson,
  trainAdam,
  type BaselineResult,
  type OptimumResult,
  type SpectralResult,
  type SweepName,
  type SweepResult,
} from '../tools/experiments/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pureneuron-experiments-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const finiteOrNull = (v: unknown) => v === null || (typeof v === 'number' && Number.isFinite(v));

function checkSpectral(r: SpectralResult): void {
  const sweep = sweepByName(r.sweep as SweepName, 'tiny');
  expect(sweep.kind).toBe('spectral');
  expect(r.configs.length).toBeGreaterThanOrEqual(2);
  expect(r.rows).toHaveLength(r.configs.length * 2);
  expect(r.aggregates).toHaveLength(r.configs.length);
  for (const row of r.rows) {
    expect(r.configs.map((c) => c.id)).toContain(row.config);
    expect([1, 2]).toContain(row.seed);
    for (const key of ['wError', 'aError', 'predictionError', 'nullSpaceRatio', 'jointDiagResidual'] as const) expect(finiteOrNull(row[key])).toBe(true);
    expect(row.learnMs).toBeGreaterThan(0);
    expect(Number.isInteger(row.warnings)).toBe(true);
  }
  for (const a of r.aggregates) {
    expect(a.runs).toBe(2);
    if (a.failures === 0) expect(a.wError.median!).toBeLessThanOrEqual(a.wError.worst!);
  }
  // Tiny problems are still learned: the default learner at n = 5e3 on (8,4,6) Gaussian data.
  const easy = r.aggregates.find((a) => a.series.startsWith('default') || a.series === 'gaussian');
  expect(easy?.wError.median ?? 1).toBeLessThan(0.5);
}

function checkBaseline(r: BaselineResult): void {
  expect(r.problems).toHaveLength(2);
  const methods = r.refineLearner ? 4 : 3;
  expect(r.rows).toHaveLength(2 * 2 * methods);
  expect(r.aggregates).toHaveLength(2 * methods);
  for (const row of r.rows) {
    expect(['spectral', 'spectral+refine', 'adam', 'spectral+adam']).toContain(row.method);
    expect(finiteOrNull(row.wError)).toBe(true);
    expect(row.ms).toBeGreaterThan(0);
    if (row.method.endsWith('adam') && !row.error) {
      expect(row.trace!.length).toBeGreaterThan(0);
      expect(row.trace!.length).toBeLessThanOrEqual(62);
    }
  }
}

function checkOptimum(r: OptimumResult): void {
  expect(r.rows).toHaveLength(r.cells.length * 2);
  expect(r.augmentedRows).toHaveLength(r.augmented.length * 2);
  expect(r.aggregates).toHaveLength(r.cells.length);
  for (const row of r.rows) {
    const c = r.cells.find((x) => x.id === row.cell)!;
    expect(row.errors).toBeUndefined();
    for (const key of ['spectral', 'default', 'head', 'optimum'] as const) expect(finiteOrNull(row[key])).toBe(true);
    if (c.noise === 0) {
      expect(row.optimum).toBe(0);
      expect(row.default!).toBeLessThan(1e-10);
    } else {
      // The all-sample optimum (Gauss–Newton from the truth) converged, and the default is near it.
      expect(['step', 'floor']).toContain(row.optimumFit!.stop);
      expect(row.default! / row.optimum!).toBeLessThan(1.5);
    }
    expect(row.learnMs).toBeGreaterThan(0);
  }
  for (const a of r.aggregates) expect(a.runs).toBe(2);
  for (const row of r.augmentedRows) {
    expect(row.errors).toBeUndefined();
    // Exactly symmetric noiseless samples: exact fit, estimate ≈ 0, no warning, k found.
    if (r.augmented.find((x) => x.id === row.cell)!.noise === 0) expect(row).toMatchObject({ kAuto: 4, warnings: [] });
  }
  for (const a of r.augmentedAggregates) if (a.passed !== undefined) expect(a.passed).toBe(a.runs);
}

describe('every sweep at tiny scale', () => {
  it.each(SWEEP_NAMES.map((s) => [s]))('%s: JSON, SVG and markdown', async (name) => {
    const out = join(dir, 'out');
    const doc = join(dir, 'experiments.md');
    const { result, files } = await runExperiment(name, { scale: 'tiny', seeds: 2, command: `test ${name}` }, { out, doc });
    expect(files).toContain(join(out, `${name}.json`));

    const json = JSON.parse(await readFile(join(out, `${name}.json`), 'utf8')) as SweepResult;
    expect(json).toEqual(JSON.parse(JSON.stringify(result)));
    expect(json.sweep).toBe(name);
    expect(json.scale).toBe('tiny');
    expect(json.seeds).toEqual([1, 2]);
    expect(json.machine.cores).toBeGreaterThan(0);
    expect(json.durationMs).toBeGreaterThan(0);
    if (json.kind === 'spectral') checkSpectral(json);
    else if (json.kind === 'optimum') checkOptimum(json);
    else checkBaseline(json);

    const svg = await readFile(join(out, `${name}.svg`), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('</svg>');
    expect(svg.length).toBeGreaterThan(2000);

    const md = await readFile(join(out, `${name}.md`), 'utf8');
    expect(md).toContain(`](${name}.svg)`);
    expect(md).toMatch(/\| --- \|/);
    const docText = await readFile(doc, 'utf8');
    expect(docText).toContain(`<!-- experiment:${name}:begin`);
    expect(docText).toContain(`<!-- experiment:${name}:end -->`);
    expect(docText).toContain(`](out/${name}.svg)`);

    // Re-rendering from the JSON alone gives the same markdown.
    await rewriteFromJson(name, { out });
    expect(await readFile(join(out, `${name}.md`), 'utf8')).toBe(md);
  });
});

describe('harness pieces', () => {
  it('stat: median and worst, failures as +∞', () => {
    expect(stat([3, 1, 2])).toEqual({ median: 2, worst: 3 });
    expect(stat([4, 1, 2, 3])).toEqual({ median: 2.5, worst: 4 });
    expect(stat([1, null, 2])).toEqual({ median: 2, worst: null });
    expect(stat([null, null, 2])).toEqual({ median: null, worst: null });
    expect(stat([])).toEqual({ median: null, worst: null });
  });

  it('thin keeps the first and last points and at most max', () => {
    const trace = Array.from({ length: 1000 }, (_, i): [number, number] => [i, 1 / (i + 1)]);
    const t = thin(trace, 60);
    expect(t.length).toBeLessThanOrEqual(62);
    expect(t[0]).toEqual(trace[0]);
    expect(t[t.length - 1]).toEqual(trace[999]);
    expect(thin(trace.slice(0, 10))).toHaveLength(10);
  });

  it('splice replaces a block between markers and keeps the prose around it', () => {
    const first = splice('# Doc\n\nintro\n', 'n', 'Error vs n', 'TABLE 1');
    expect(first).toContain('## Error vs n');
    const edited = first.replace('intro', 'intro, edited') + '\nafter\n';
    const second = splice(edited, 'n', 'Error vs n', 'TABLE 2');
    expect(second).toContain('intro, edited');
    expect(second).toContain('TABLE 2');
    expect(second).not.toContain('TABLE 1');
    expect(second).toContain('\nafter\n');
    expect(second.match(/## Error vs n/g)).toHaveLength(1);
  });

  it('toJson spreads rows one per line and round-trips', () => {
    const v = { a: 1, rows: [{ x: 1, y: [1, 2] }, { x: 2, y: null }], m: { c: 'z' } };
    const s = toJson(v);
    expect(JSON.parse(s)).toEqual(v);
    expect(s.split('\n').filter((l) => l.includes('"x"'))).toHaveLength(2);
  });

  it('the Safran–Shamir teacher has orthonormal rows of W and A near all ones', () => {
    const p = plant({ distribution: 'gaussian', n: 100, d: 8, k: 4, l: 6, teacher: 'safran-shamir', aJitter: 0.1 }, 3);
    const { W, A } = p.truth;
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        let dot = 0;
        for (let t = 0; t < 8; t++) dot += W[i * 8 + t] * W[j * 8 + t];
        expect(dot).toBeCloseTo(i === j ? 1 : 0, 10);
      }
    }
    for (const a of A) expect(Math.abs(a - 1)).toBeLessThan(0.6);
    expect(compare({ ...p.truth }, p.truth).wError).toBe(0);
  });
});

describe('least squares of the optimum sweep (tools/experiments/leastsq.ts)', () => {
  const g = generate({ distribution: 'gaussian', n: 6000, d: 5, k: 3, l: 4, noise: 0.1, seed: 3 });
  const { d, k, l } = g.truth;
  const loss = (A: Float64Array, W: Float64Array): number => {
    let s = 0;
    const r = new Float64Array(k);
    for (let t = 0; t < g.n; t++) {
      for (let i = 0; i < k; i++) {
        let v = 0;
        for (let j = 0; j < d; j++) v += W[i * d + j] * g.x[t * d + j];
        r[i] = v > 0 ? v : 0;
      }
      for (let o = 0; o < l; o++) {
        let p = 0;
        for (let i = 0; i < k; i++) p += A[o * k + i] * r[i];
        s += (g.y[t * l + o] - p) ** 2;
      }
    }
    return s;
  };
  const W = Float64Array.from(g.truth.W, (v, p) => v + 0.05 * Math.sin(p));
  const A = Float64Array.from(g.truth.A, (v, p) => v + 0.05 * Math.cos(p));

  it('the Gauss–Newton gradient is −½ the gradient of the loss (central differences)', async () => {
    const kernels = await getKernels('js');
    const vp = { rr: new Float64Array(k * k), ry: new Float64Array(k * l), S1: new Float64Array(k * d * l), S2: new Float64Array(k * d * k), yy: new Float64Array(1) };
    const M = new Float64Array(((k * (k + 1)) / 2) * ((d * (d + 1)) / 2));
    kernels.refineVarPro(vp, W, k, g.x, g.y, g.n, d, l, null);
    kernels.refineHessian(M, W, k, g.x, g.n, d, null);
    const { g: grad } = gaussNewtonSystem({ ...vp, M, ee: 0 }, A, W, d, k, l);
    const h = 1e-6;
    for (let p = 0; p < l * k + k * d; p++) {
      const [A1, W1, A2, W2] = [A, W, A, W].map((v) => Float64Array.from(v));
      if (p < l * k) (A1[p] += h), (A2[p] -= h);
      else (W1[p - l * k] += h), (W2[p - l * k] -= h);
      const fd = -(loss(A1, W1) - loss(A2, W2)) / (4 * h);
      expect(Math.abs(grad[p] - fd)).toBeLessThan(1e-5 * (1 + Math.abs(fd)));
    }
  });

  it('reaches the same optimum from the truth and from a perturbed start, below the loss at the truth', async () => {
    const kernels = await getKernels('auto');
    const a = leastSquares(kernels, g.x, g.y, g.n, g.truth);
    const b = leastSquares(kernels, g.x, g.y, g.n, { ...g.truth, W, A });
    expect(a.converged && b.converged).toBe(true);
    // The same point, to within the loss's rough bottom (leastSquares: far below the optimum's own error).
    const wa = compare({ ...g.truth, W: a.W, A: a.A }, g.truth).wError;
    expect(compare({ ...g.truth, W: a.W, A: a.A }, { ...g.truth, W: b.W, A: b.A }).wError).toBeLessThan(1e-4 * wa);
    expect(loss(a.A, a.W)).toBeLessThan(loss(g.truth.A, g.truth.W));
    expect(a.loss).toBeCloseTo(loss(a.A, a.W) / (g.n * l), 12);
    // Noiseless: from a perturbed start to the truth, to rounding.
    const q = generate({ distribution: 'gaussian', n: 6000, d, k, l, seed: 3 });
    const c = leastSquares(kernels, q.x, q.y, q.n, { ...q.truth, W, A });
    expect(compare({ ...q.truth, W: c.W, A: c.A }, q.truth).wError).toBeLessThan(1e-12);
  });
});

describe('Adam baseline trainer', () => {
  it('recovers an easy planted network from a random start, deterministically', () => {
    const g = generate({ distribution: 'gaussian', n: 3000, d: 6, k: 3, l: 4, seed: 2 });
    // No time budget: the run must stop on its own criteria (converged or plateau), on any machine.
    const run = () => trainAdam(g.x, g.y, g.n, g.d, g.l, { k: 3, seed: 5, maxMs: Infinity });
    const r = run();
    expect(['converged', 'plateau']).toContain(r.stop);
    const c = compare({ d: 6, k: 3, l: 4, W: r.W, A: r.A }, g.truth);
    expect(c.wError).toBeLessThan(1e-3);
    expect(c.predictionError).toBeLessThan(1e-3);
    const again = run();
    expect(again.W).toEqual(r.W);
    expect(again.epochs).toBe(r.epochs);
  });

  it('stops when the callback says so and reports the monitoring-free time', () => {
    const g = generate({ distribution: 'gaussian', n: 500, d: 4, k: 2, l: 3, seed: 1 });
    let calls = 0;
    const r = trainAdam(g.x, g.y, g.n, g.d, g.l, { k: 2, onEpoch: (s) => (calls++, s.epoch === 3) });
    expect(r.stop).toBe('callback');
    expect(r.epochs).toBe(3);
    expect(calls).toBe(3);
    expect(r.ms).toBeGreaterThan(0);
  });
});

describe('pureneuron experiment (command)', () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) } };
  };

  it('--help lists the sweeps and flags', async () => {
    const c = io();
    await experimentCommand(['--help'], c.io);
    for (const word of [...SWEEP_NAMES, '--quick', '--seeds', '--out', '--max-n', '--report-only', '--cells', '--resume']) expect(c.out.join('')).toContain(word);
  });

  it('rejects unknown sweeps, missing names and bad flags', async () => {
    await expect(experimentCommand([], io().io)).rejects.toThrow(/one sweep name/);
    await expect(experimentCommand(['nope'], io().io)).rejects.toThrow(/unknown sweep "nope"/);
    await expect(experimentCommand(['n', '--seeds', '0'], io().io)).rejects.toThrow(/--seeds/);
    await expect(experimentCommand(['n', '--bogus'], io().io)).rejects.toThrow(/bogus/);
    await expect(experimentCommand(['n', '--doc', 'x.md', '--no-doc'], io().io)).rejects.toThrow(/exclude/);
    await expect(experimentCommand(['n', '--cells', 'gaussian/*'], io().io)).rejects.toThrow(/optimum sweep only/);
  });

  it('--report-only re-renders from an existing JSON without running', async () => {
    const out = join(dir, 'report-only');
    await runExperiment('noise', { scale: 'tiny', seeds: 2 }, { out });
    await writeFile(join(out, 'noise.svg'), '');
    const c = io();
    await experimentCommand(['noise', '--report-only', '--out', out], c.io);
    expect(await readFile(join(out, 'noise.svg'), 'utf8')).toMatch(/^<svg/);
    expect(c.out.join('')).toContain('re-rendered');
  });
});
