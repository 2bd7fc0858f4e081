/**
 * The sweeps, as declarative lists of configurations. Each is a function of the scale:
 * 'full' is what docs/experiments/ holds, 'quick' a reduced grid that runs in minutes, 'tiny' a
 * few seconds' version that the tests run so that the harness cannot rot.
 */
import { DISTRIBUTIONS, type Distribution } from '../../src/api/generate.js';
import type {
  AugmentedBase,
  AugmentedCell,
  OptimumCell,
  OptimumSweep,
  ReferencePoint,
  AdamSettings,
  BaselineProblem,
  BaselineSweep,
  LearnerOptions,
  Problem,
  Scale,
  SpectralConfig,
  SpectralSweep,
  Sweep,
} from './types.js';

export const SWEEP_NAMES = ['n', 'noise', 'condition', 'variants', 'baseline', 'optimum'] as const;
export type SweepName = (typeof SWEEP_NAMES)[number];

interface Shape {
  d: number;
  k: number;
  l: number;
}

const shapeLabel = (s: Shape): string => `(d,k,l) = (${s.d},${s.k},${s.l})`;
const SQUARE: Shape = { d: 10, k: 10, l: 10 };
const WIDE: Shape = { d: 20, k: 10, l: 15 };
/** Small enough that a tiny sweep learns in milliseconds. */
const TINY: Shape = { d: 8, k: 4, l: 6 };

const fmtN = (n: number): string => {
  const e = Math.floor(Math.log10(n));
  const m = n / 10 ** e;
  return Math.abs(m - 1) < 1e-9 ? `1e${e}` : `${+m.toFixed(2)}e${e}`;
};

function config(series: string, facet: string, x: number, problem: Problem, learner: LearnerOptions, tag: string): SpectralConfig {
  const p = problem;
  const id = [tag, p.distribution, `${p.d}-${p.k}-${p.l}`, `n${fmtN(p.n)}`, p.noise ? `s${p.noise}` : '', p.condW ? `cw${p.condW}` : '', series]
    .filter(Boolean)
    .join('/');
  return { id, series, facet, x, problem, learner };
}

/** W error vs n, every distribution, at (10,10,10) and (20,10,15). */
export function nSweep(scale: Scale): SpectralSweep {
  const ns = scale === 'full' ? [1e3, 3e3, 1e4, 3e4, 1e5, 3e5, 1e6] : scale === 'quick' ? [1e3, 1e4, 1e5] : [2000, 5000];
  const shapes = scale === 'tiny' ? [TINY] : [SQUARE, WIDE];
  const dists: readonly Distribution[] = scale === 'tiny' ? ['gaussian', 'mixture'] : DISTRIBUTIONS;
  const configs: SpectralConfig[] = [];
  for (const s of shapes) {
    for (const distribution of dists) {
      for (const n of ns) configs.push(config(distribution, shapeLabel(s), n, { distribution, n, ...s }, {}, 'n'));
    }
  }
  return {
    kind: 'spectral',
    name: 'n',
    title: 'Error vs number of samples',
    description: 'Noiseless planted networks (random unit-norm rows of W, Gaussian A), default learner, every input distribution; W error vs n.',
    xLabel: 'samples n',
    xScale: 'log',
    seriesLabel: 'distribution',
    configs,
    reference: referenceFor((v) => (v === VARIANTS[2].label ? 'gaussian' : undefined)),
  };
}

/** W error vs output noise σ at (20,10,15). */
export function noiseSweep(scale: Scale): SpectralSweep {
  const sigmas = scale === 'tiny' ? [0, 0.1] : [0, 0.01, 0.03, 0.1, 0.3];
  const n = scale === 'full' ? 3e5 : scale === 'quick' ? 3e4 : 5000;
  const s = scale === 'tiny' ? TINY : WIDE;
  const dists: readonly Distribution[] = scale === 'tiny' ? ['gaussian'] : DISTRIBUTIONS;
  const configs: SpectralConfig[] = [];
  for (const distribution of dists) {
    for (const noise of sigmas) configs.push(config(distribution, shapeLabel(s), noise, { distribution, n, ...s, noise }, {}, 'noise'));
  }
  return {
    kind: 'spectral',
    name: 'noise',
    title: 'Error vs output noise',
    description: `iid Gaussian noise of std σ on every output, n = ${fmtN(n)}, default learner, every input distribution.`,
    xLabel: 'noise σ per output',
    xScale: 'ordinal',
    seriesLabel: 'distribution',
    configs,
    reference: scale === 'full' ? [{ series: 'gaussian', facet: shapeLabel(WIDE), x: 0.1, median: 0.041, worst: null, label: 'reference (NumPy): noise σ = 0.1, n = 3e5' }] : [],
  };
}

/** W error vs cond(W) at (20,10,15), plus the square (10,10,10) case where it bites first. */
export function conditionSweep(scale: Scale): SpectralSweep {
  const conds = scale === 'tiny' ? [1, 100] : [1, 3, 10, 30, 100, 1000];
  const n = scale === 'full' ? 1e5 : scale === 'quick' ? 3e4 : 5000;
  const configs: SpectralConfig[] = [];
  const panels: [Shape, readonly Distribution[]][] =
    scale === 'tiny'
      ? [[TINY, ['gaussian']]]
      : [
          [WIDE, DISTRIBUTIONS],
          [SQUARE, ['gaussian', 'mixture']],
        ];
  for (const [s, dists] of panels) {
    for (const distribution of dists) {
      for (const condW of conds) configs.push(config(distribution, shapeLabel(s), condW, { distribution, n, ...s, condW }, {}, 'cond'));
    }
  }
  return {
    kind: 'spectral',
    name: 'condition',
    title: 'Error vs condition number of W',
    description: `W = U·diag(s)·Vᵀ with s log-spaced from 1 to 1/cond(W), n = ${fmtN(n)}, noiseless, default learner.`,
    xLabel: 'cond(W)',
    xScale: 'log',
    seriesLabel: 'distribution',
    configs,
  };
}

/** The learner variants compared in the reference table of docs/reference.md, plus the ablations. */
export const VARIANTS: { label: string; options: LearnerOptions }[] = [
  { label: 'default (robust weights + polish + refine auto)', options: {} },
  { label: 'spectral only (refine 0)', options: { refine: 0 } },
  { label: 'no polish', options: { polish: false, refine: 0 } },
  { label: 'no robust weighting', options: { weighting: 'none', refine: 0 } },
  { label: 'no polish, no weighting', options: { polish: false, weighting: 'none', refine: 0 } },
  { label: 'paper-literal', options: { detector: 'literal', whitenY: false, polish: false, weighting: 'none', refine: 0 } },
];

/**
 * the reference figures of docs/reference.md (NumPy reference implementation, Gaussian x, noiseless,
 * 5 seeds, median [worst]) by the variant that computes the same thing: the reference's
 * "reduced + whitened + even part" is 'no polish, no weighting', "same + polish" is
 * 'no robust weighting', "paper-literal" is 'paper-literal'.
 */
const REF_ROWS: { facet: string; variant: string; label: string; points: [number, number, number][] }[] = [
  { facet: shapeLabel(WIDE), variant: VARIANTS[4].label, label: 'reduced + whitened + even part', points: [[1e4, 0.091, 0.096], [1e5, 0.019, 0.04], [1e6, 0.0068, 0.013]] },
  { facet: shapeLabel(WIDE), variant: VARIANTS[3].label, label: 'same + Gauss–Newton polish', points: [[1e4, 0.031, 0.038], [1e5, 0.0105, 0.013], [1e6, 0.0033, 0.0042]] },
  { facet: shapeLabel(WIDE), variant: VARIANTS[5].label, label: 'paper-literal', points: [[1e4, 0.6, 0.94], [1e5, 0.27, 0.49], [1e6, 0.1, 0.3]] },
  { facet: shapeLabel(SQUARE), variant: VARIANTS[4].label, label: 'reduced + whitened + even part', points: [[1e4, 0.37, 0.75], [1e5, 0.22, 0.38], [1e6, 0.031, 0.052]] },
  { facet: shapeLabel(SQUARE), variant: VARIANTS[3].label, label: 'same + polish', points: [[1e4, 0.062, 0.48], [1e5, 0.0084, 0.16], [1e6, 0.0016, 0.0036]] },
];

function referenceFor(series: (variant: string) => string | undefined): ReferencePoint[] {
  const out: ReferencePoint[] = [];
  for (const r of REF_ROWS) {
    const s = series(r.variant);
    if (s === undefined) continue;
    for (const [x, median, worst] of r.points) out.push({ series: s, facet: r.facet, x, median, worst, label: `reference (NumPy): ${r.label}` });
  }
  return out;
}

export function variantsSweep(scale: Scale): SpectralSweep {
  const ns = scale === 'full' ? [1e4, 3e4, 1e5, 3e5, 1e6] : scale === 'quick' ? [1e4, 1e5] : [2000, 5000];
  const shapes = scale === 'tiny' ? [TINY] : [WIDE, SQUARE];
  const variants = scale === 'tiny' ? [VARIANTS[0], VARIANTS[5]] : VARIANTS;
  const configs: SpectralConfig[] = [];
  for (const s of shapes) {
    for (const v of variants) {
      for (const n of ns) configs.push(config(v.label, shapeLabel(s), n, { distribution: 'gaussian', n, ...s }, v.options, 'var'));
    }
  }
  return {
    kind: 'spectral',
    name: 'variants',
    title: 'Learner variants vs n',
    description:
      "Gaussian inputs, noiseless. The default learner (spectral estimate + refine 'auto'), the spectral estimate alone, its ablations, and the paper-literal detector (detector 'literal', whitenY false, polish false, weighting 'none') on the same data.",
    xLabel: 'samples n',
    xScale: 'log',
    seriesLabel: 'variant',
    configs,
    reference: referenceFor((v) => v),
  };
}

const ADAM: AdamSettings = { lr: 0.003, batchSize: 64, maxMs: 30_000, window: 10, plateauTol: 0.01 };
const REFINE: AdamSettings = { lr: 0.0003, batchSize: 256, maxMs: 30_000, window: 10, plateauTol: 0.01 };

export function baselineSweep(scale: Scale): BaselineSweep {
  let problems: BaselineProblem[];
  if (scale === 'tiny') {
    problems = [
      { id: 'gaussian-tiny', label: `Gaussian ${shapeLabel(TINY)}, n = 5e3`, problem: { distribution: 'gaussian', n: 5000, ...TINY } },
      { id: 'safran-shamir-tiny', label: `Safran–Shamir teacher ${shapeLabel(TINY)}, n = 5e3`, problem: { distribution: 'gaussian', n: 5000, ...TINY, teacher: 'safran-shamir' } },
    ];
  } else {
    const big = scale === 'full' ? 1e5 : 3e4;
    problems = [
      { id: 'gaussian-20-1e4', label: 'Gaussian (20,10,15), n = 1e4', problem: { distribution: 'gaussian', n: 1e4, ...WIDE } },
      { id: `gaussian-20-${fmtN(big)}`, label: `Gaussian (20,10,15), n = ${fmtN(big)}`, problem: { distribution: 'gaussian', n: big, ...WIDE } },
      { id: 'mixture-20-1e4', label: 'symmetric mixture (20,10,15), n = 1e4', problem: { distribution: 'mixture', n: 1e4, ...WIDE } },
      { id: 'gaussian-10-1e4', label: 'Gaussian (10,10,10), n = 1e4', problem: { distribution: 'gaussian', n: 1e4, ...SQUARE } },
      {
        id: `safran-shamir-${fmtN(big)}`,
        label: `Safran–Shamir teacher (20,10,15), n = ${fmtN(big)}`,
        problem: { distribution: 'gaussian', n: big, ...WIDE, teacher: 'safran-shamir', aJitter: 0.1 },
      },
      { id: `cond-a-100-${fmtN(big)}`, label: `cond(A) = 100 (20,10,15), n = ${fmtN(big)}`, problem: { distribution: 'gaussian', n: big, ...WIDE, condA: 100 } },
    ];
  }
  const maxMs = scale === 'full' ? 30_000 : scale === 'quick' ? 8_000 : 400;
  return {
    kind: 'baseline',
    name: 'baseline',
    title: 'Spectral method vs Adam from random starts',
    description:
      "The same planted, noiseless networks learned four ways: learn()'s spectral estimate (refine 0), learn() with its default refinement (spectral+refine: refine 'auto'), minibatch Adam from a random Glorot start (what users do instead), and Adam started from the spectral estimate.",
    problems,
    adam: { ...ADAM, maxMs },
    refine: { ...REFINE, maxMs },
    refineLearner: {},
    target: 0.05,
    fineTarget: 1e-6,
  };
}

const BIG: Shape = { d: 32, k: 16, l: 32 };

/**
 * Issue 12, "every sample counts": the default learn() against the least-squares optimum of all
 * n samples, vs n up to 1e7; the calibration of its error estimate; exactly symmetric augmented
 * samples. Full: n = 1e4 … 3e6 on every cell, n = 1e7 on (20,10,15) for gaussian, laplace and
 * mixture at every σ and on (32,16,32) for mixture at σ = 0.05 (the Gauss–Newton passes of the
 * optimum cost ~35 s each at (32,16,32), n = 1e7, so the whole grid at 1e7 would take hours).
 */
export function optimumSweep(scale: Scale): OptimumSweep {
  const cells: OptimumCell[] = [];
  const augmented: AugmentedCell[] = [];
  const cell = (distribution: Distribution, s: Shape, noise: number, n: number) =>
    cells.push({ id: `${distribution}/${s.d}-${s.k}-${s.l}/s${noise}/n${fmtN(n)}`, distribution, n, ...s, noise });
  const aug = (base: AugmentedBase, s: Shape, noise: number, n: number) =>
    augmented.push({ id: `aug-${base}/${s.d}-${s.k}-${s.l}/s${noise}/n${fmtN(n)}`, base, n, ...s, noise });
  if (scale === 'tiny') {
    for (const noise of [0, 0.1]) for (const n of [2000, 5000]) cell('gaussian', TINY, noise, n);
    for (const noise of [0, 0.05]) aug('exponential', TINY, noise, 4000);
  } else if (scale === 'quick') {
    for (const distribution of ['gaussian', 'mixture'] as const) for (const noise of [0, 0.1]) for (const n of [1e4, 1e5]) cell(distribution, WIDE, noise, n);
    for (const noise of [0, 0.1]) for (const n of [1e4, 1e5]) cell('gaussian', BIG, noise, n);
    for (const base of ['exponential', 'abs-gaussian'] as const) for (const noise of [0, 0.05]) for (const n of [2e4, 1e5]) aug(base, WIDE, noise, n);
  } else {
    const ns = [1e4, 3e4, 1e5, 3e5, 1e6, 3e6];
    for (const s of [WIDE, BIG]) {
      for (const distribution of ['gaussian', 'laplace', 'mixture', 'student-t'] as const) {
        for (const noise of [0, 0.05, 0.1]) {
          for (const n of ns) cell(distribution, s, noise, n);
          const at1e7 = s === WIDE ? distribution !== 'student-t' : distribution === 'mixture' && noise === 0.05;
          if (at1e7) cell(distribution, s, noise, 1e7);
        }
      }
    }
    for (const s of [WIDE, BIG]) for (const base of ['exponential', 'abs-gaussian'] as const) for (const noise of [0, 0.05]) for (const n of [2e4, 2e5, 2e6]) aug(base, s, noise, n);
  }
  // By n (stable): a run that is stopped early has every cell at the smaller n.
  cells.sort((a, b) => a.n - b.n);
  const headRows = scale === 'tiny' ? 1000 : 1e5;
  return {
    kind: 'optimum',
    name: 'optimum',
    title: 'Every sample counts: the default vs the least-squares optimum',
    description:
      `On each planted problem and seed, the W error of: the spectral estimate (refine 0); the default learn(); least squares on the first min(n, ${fmtN(headRows)}) samples only, ` +
      `by Gauss–Newton from the spectral estimate (what the default did before); and the least-squares optimum of all n samples, ` +
      'by Gauss–Newton from the planted truth (computed here, not by the learner). Noise: iid N(0, σ²) on every output.',
    cells,
    augmented,
    headRows,
    tol: 1e-10,
    flagRatio: 1.1,
    seeds: 3,
  };
}

export function sweepByName(name: SweepName, scale: Scale): Sweep {
  switch (name) {
    case 'n':
      return nSweep(scale);
    case 'noise':
      return noiseSweep(scale);
    case 'condition':
      return conditionSweep(scale);
    case 'variants':
      return variantsSweep(scale);
    case 'baseline':
      return baselineSweep(scale);
    case 'optimum':
      return optimumSweep(scale);
  }
}
