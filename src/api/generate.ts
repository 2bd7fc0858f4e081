/**
 * Planted problems: samples (x, y) with y = A·relu(W·x) + noise, x from a symmetric distribution.
 *
 * Layouts: x is n×d, y is n×l, W is k×d, A is l×k, all row-major Float64Array.
 *
 * Randomness comes from four independent streams of one seed (see Rng):
 *   stream 0: the network (W, then A);
 *   stream 1: parameters of the input distribution (covariance eigenvectors, mixture means);
 *   stream 2: the inputs x;
 *   stream 3: the output noise.
 * So for a fixed seed the planted network is the same for every distribution and n, and the
 * inputs are the same for every noise level — comparisons across those settings are paired.
 *
 * generate() returns the whole data set; generateStream() yields the same samples, bit for bit,
 * in blocks of rows (memory: one block), for data sets larger than memory. Both run one sampling
 * loop (makeRowFiller), which consumes each stream in sample order.
 */
import { PureneuronError } from '../errors.js';
import { jsKernels } from '../kernels/js/index.js';
import { emit, forwardRows, forwardScratch, negate, preactivations1, preactivations2, transposeA } from '../math/forward.js';
import { Rng } from '../math/random.js';
import { sharedF64 } from '../parallel/sharedMemory.js';
import type { Network } from '../types.js';
import { checkOptions, show, type OptionSpec, type OptionTable } from './options.js';

export type Distribution = 'gaussian' | 'correlated' | 'uniform' | 'rademacher' | 'mixture' | 'laplace' | 'student-t';

export const DISTRIBUTIONS: readonly Distribution[] = Object.freeze([
  'gaussian',
  'correlated',
  'uniform',
  'rademacher',
  'mixture',
  'laplace',
  'student-t',
] as const);

export interface GenerateOptions {
  /**
   * Input distribution (default 'gaussian'). All are exactly symmetric, p(x) = p(−x):
   * - gaussian: iid N(0, 1) coordinates.
   * - correlated: N(0, Σ), Σ with eigenvalues log-spaced from 1 down to 1/condX and Haar-random
   *   eigenvectors.
   * - uniform: iid uniform on [−√3, √3] (unit variance).
   * - rademacher: iid ±1.
   * - mixture: equal-weight mixture of 2·components Gaussians N(±μ_c, I), |μ_c| = separation.
   * - laplace: iid Laplace with unit variance (scale 1/√2).
   * - student-t: iid Student-t with df degrees of freedom, scaled to unit variance when df > 2
   *   (unscaled otherwise, as the variance is infinite).
   */
  distribution?: Distribution;
  /** Number of samples. */
  n: number;
  /** Input dimension. */
  d: number;
  /** Hidden units, 1 ≤ k ≤ min(d, l). */
  k: number;
  /** Output dimension. */
  l: number;
  /** Std of iid Gaussian noise added to each output, default 0. */
  noise?: number;
  /** Integer seed, default 1. */
  seed?: number;
  /**
   * If given: W = U·diag(s)·Vᵀ with Haar-random orthogonal U (k×k), V (d×k, orthonormal columns)
   * and s log-spaced from 1 to 1/condW, so cond(W) = condW. Otherwise rows iid Gaussian
   * normalized to unit norm.
   */
  condW?: number;
  /** Same for A (l×k); otherwise iid Gaussian entries / sqrt(k). */
  condA?: number;
  /** 'correlated': condition number of the covariance; default 10. */
  condX?: number;
  /** 'mixture': number of ± pairs of Gaussian components, default 2. */
  components?: number;
  /** 'mixture': norm of each component mean (random unit direction times this); default 1. */
  separation?: number;
  /** 'student-t': degrees of freedom, default 3. */
  df?: number;
  /**
   * Emit samples as antithetic pairs: row 2i+1 is exactly −(row 2i), so the EMPIRICAL
   * distribution (and every even-sized aligned chunk of it) is exactly symmetric. Noise is still
   * drawn independently for both rows. n must be even.
   */
  symmetrize?: boolean;
}

export interface Generated {
  /** n×d row-major, on a SharedArrayBuffer where available (learn()'s workers read it in place). */
  x: Float64Array;
  /** n×l row-major, likewise shared. */
  y: Float64Array;
  n: number;
  d: number;
  l: number;
  /** The planted network (W k×d, A l×k). */
  truth: Network;
}

const isInt = (v: unknown, min = -Infinity): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
const finiteAtLeast = (min: number) => (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= min;
const positiveInt: OptionSpec = { required: true, allowed: 'a positive integer', ok: (v) => isInt(v, 1) };
const condition: OptionSpec = { allowed: 'a finite number ≥ 1 (largest over smallest singular value)', ok: finiteAtLeast(1) };

/** generate()'s options (GenerateOptions documents each), validated by checkOptions like learn()'s. */
const GENERATE_OPTIONS = {
  distribution: { default: 'gaussian', allowed: `one of ${DISTRIBUTIONS.join(', ')}`, ok: (v) => (DISTRIBUTIONS as readonly unknown[]).includes(v) },
  n: positiveInt,
  d: positiveInt,
  k: positiveInt,
  l: positiveInt,
  noise: { default: 0, allowed: 'a finite number ≥ 0', ok: finiteAtLeast(0) },
  seed: { default: 1, allowed: 'an integer (|seed| < 2^53)', ok: (v) => isInt(v) },
  condW: condition,
  condA: condition,
  condX: { ...condition, default: 10 },
  components: { default: 2, allowed: 'a positive integer', ok: (v) => isInt(v, 1) },
  separation: { default: 1, allowed: 'a finite number ≥ 0', ok: finiteAtLeast(0) },
  df: { default: 3, allowed: 'a finite number > 0 (degrees of freedom)', ok: (v) => typeof v === 'number' && Number.isFinite(v) && v > 0 },
  symmetrize: { default: false, allowed: 'true or false', ok: (v) => typeof v === 'boolean' },
} as const satisfies OptionTable;

type Resolved = Required<Omit<GenerateOptions, 'condW' | 'condA'>> & Pick<GenerateOptions, 'condW' | 'condA'>;

/**
 * Checks every option and fills in defaults. Options that only concern another distribution
 * (e.g. df with 'gaussian') are validated but otherwise ignored, so one options object can be
 * reused across distributions; unknown names are rejected.
 */
function resolve(options: GenerateOptions): Resolved {
  const o = checkOptions<Resolved>(GENERATE_OPTIONS, options, { what: 'generate()', least: '{ n, d, k, l }' });
  const m = Math.min(o.d, o.l);
  if (o.k > m) throw new PureneuronError('BAD_OPTION', `k = ${o.k} exceeds min(d, l) = ${m}; choose k ≤ ${m}`);
  if (o.symmetrize && o.n % 2 !== 0) {
    throw new PureneuronError('BAD_OPTION', `n = ${o.n} is odd, but symmetrize emits antithetic pairs (x, −x); choose an even n such as ${o.n + 1}`);
  }
  return o;
}

/**
 * A Haar-random rows×cols matrix with orthonormal columns (cols ≤ rows), row-major: column c is
 * Q[r·cols + c]. Modified Gram–Schmidt of iid Gaussian columns (applied twice for orthogonality
 * to rounding); this equals QR with a positive diagonal of R, which is Haar distributed.
 */
export function randomOrthonormal(rng: Rng, rows: number, cols: number): Float64Array {
  if (cols > rows) throw new RangeError(`randomOrthonormal: cols = ${cols} exceeds rows = ${rows}`);
  const q = new Float64Array(rows * cols);
  const v = new Float64Array(rows);
  for (let c = 0; c < cols; c++) {
    for (;;) {
      for (let r = 0; r < rows; r++) v[r] = rng.normal();
      for (let pass = 0; pass < 2; pass++) {
        for (let p = 0; p < c; p++) {
          let dot = 0;
          for (let r = 0; r < rows; r++) dot += q[r * cols + p] * v[r];
          for (let r = 0; r < rows; r++) v[r] -= dot * q[r * cols + p];
        }
      }
      let norm = 0;
      for (let r = 0; r < rows; r++) norm += v[r] * v[r];
      norm = Math.sqrt(norm);
      // A Gaussian vector falls (numerically) into the span of the others with probability ~0;
      // redraw rather than divide by a tiny norm.
      if (norm > 1e-8) {
        for (let r = 0; r < rows; r++) q[r * cols + c] = v[r] / norm;
        break;
      }
    }
  }
  return q;
}

/** rows×d (row-major) of iid Gaussian directions scaled to Euclidean length `length` (an all-zero draw is redrawn). */
function randomDirections(rng: Rng, rows: number, d: number, length: number): Float64Array {
  const out = new Float64Array(rows * d);
  for (let i = 0; i < rows; i++) {
    let norm = 0;
    do {
      norm = 0;
      for (let j = 0; j < d; j++) {
        const v = rng.normal();
        out[i * d + j] = v;
        norm += v * v;
      }
    } while (norm === 0);
    const f = length / Math.sqrt(norm);
    for (let j = 0; j < d; j++) out[i * d + j] *= f;
  }
  return out;
}

/** s_i = cond^(−i/(m−1)), i = 0..m−1: log-spaced from 1 down to 1/cond. */
function logSpaced(m: number, cond: number): Float64Array {
  const s = new Float64Array(m);
  for (let i = 0; i < m; i++) s[i] = m === 1 ? 1 : Math.pow(cond, -i / (m - 1));
  return s;
}

/** rows×cols (row-major) = U·diag(s)·Vᵀ with U rows×m, V cols×m orthonormal, m = min(rows, cols). */
function withCondition(rng: Rng, rows: number, cols: number, cond: number): Float64Array {
  const m = Math.min(rows, cols);
  const u = randomOrthonormal(rng, rows, m);
  const v = randomOrthonormal(rng, cols, m);
  const s = logSpaced(m, cond);
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let acc = 0;
      for (let p = 0; p < m; p++) acc += u[i * m + p] * s[p] * v[j * m + p];
      out[i * cols + j] = acc;
    }
  }
  return out;
}

/** Q·diag(λ)·Qᵀ for Q d×d row-major. */
function covariance(q: Float64Array, lambda: Float64Array, d: number): Float64Array {
  const sigma = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let acc = 0;
      for (let p = 0; p < d; p++) acc += q[i * d + p] * lambda[p] * q[j * d + p];
      sigma[i * d + j] = acc;
      sigma[j * d + i] = acc;
    }
  }
  return sigma;
}

/** Draws one sample into out[off .. off+d). */
type Sampler = (out: Float64Array, off: number) => void;

function makeSampler(o: Resolved, params: Rng, rng: Rng): Sampler {
  const d = o.d;
  switch (o.distribution) {
    case 'gaussian':
      return (out, off) => {
        for (let j = 0; j < d; j++) out[off + j] = rng.normal();
      };
    case 'correlated': {
      // Σ = Q·diag(λ)·Qᵀ (d×d); x = C·g with C the lower Cholesky factor of Σ, so Cov(x) = Σ.
      // The triangular factor halves the per-sample cost compared with Q·diag(√λ).
      const q = randomOrthonormal(params, d, d);
      const lambda = logSpaced(d, o.condX);
      // Lower triangle: the Cholesky factor (Kernels.cholesky, in place); the sampler reads no more.
      const C = covariance(q, lambda, d);
      if (!jsKernels.cholesky(C, d)) throw new PureneuronError('BAD_OPTION', `condX = ${o.condX} is too large: the covariance is not positive definite in double precision`);
      const g = new Float64Array(d);
      return (out, off) => {
        for (let p = 0; p < d; p++) g[p] = rng.normal();
        for (let i = 0; i < d; i++) {
          let acc = 0;
          const row = i * d;
          for (let p = 0; p <= i; p++) acc += C[row + p] * g[p];
          out[off + i] = acc;
        }
      };
    }
    case 'uniform': {
      // A random sign times √3·U[0,1): exactly symmetric even on the floating-point grid.
      const r3 = Math.sqrt(3);
      return (out, off) => {
        for (let j = 0; j < d; j++) out[off + j] = rng.sign() * r3 * rng.uniform();
      };
    }
    case 'rademacher':
      return (out, off) => {
        for (let j = 0; j < d; j++) out[off + j] = rng.sign();
      };
    case 'mixture': {
      // Means μ_c (components×d row-major): random unit directions times the separation.
      const c = o.components;
      const mu = randomDirections(params, c, d, o.separation);
      return (out, off) => {
        const base = rng.int(c) * d;
        const s = rng.sign();
        for (let j = 0; j < d; j++) out[off + j] = s * mu[base + j] + rng.normal();
      };
    }
    case 'laplace':
      return (out, off) => {
        for (let j = 0; j < d; j++) out[off + j] = rng.laplace();
      };
    case 'student-t': {
      const df = o.df;
      const scale = df > 2 ? Math.sqrt((df - 2) / df) : 1;
      return (out, off) => {
        for (let j = 0; j < d; j++) out[off + j] = scale * rng.studentT(df);
      };
    }
  }
}

/** The planted network (stream 0): W k×d, then A l×k. */
function plantNetwork(o: Resolved): Network {
  const { d, k, l } = o;
  const netRng = new Rng(o.seed, 0);
  let W: Float64Array;
  if (o.condW !== undefined) {
    W = withCondition(netRng, k, d, o.condW);
  } else {
    W = randomDirections(netRng, k, d, 1);
  }
  let A: Float64Array;
  if (o.condA !== undefined) {
    A = withCondition(netRng, l, k, o.condA);
  } else {
    A = new Float64Array(l * k);
    const f = 1 / Math.sqrt(k);
    for (let t = 0; t < l * k; t++) A[t] = netRng.normal() * f;
  }
  return { d, k, l, W, A };
}

/**
 * Writes the next `rows` samples (x into x[0 .. rows·d), y into y[0 .. rows·l)) and advances;
 * successive calls continue the sequence, so any split of n into calls gives the same samples.
 */
type RowFiller = (x: Float64Array, y: Float64Array, rows: number) => void;

/**
 * The one sampling loop behind generate() and generateStream(). Its random streams (1, 2, 3)
 * are created here, so every filler starts at sample 0. Each random stream is consumed in sample
 * order — x row by row from stream 2, noise output by output from stream 3 — and every y row is
 * a function of its x row alone, so the bits do not depend on how the rows are split into calls.
 */
function makeRowFiller(o: Resolved, net: Network): RowFiller {
  const { n, d, k, l, noise, symmetrize } = o;
  const { W, A } = net;
  const At = transposeA(A, l, k);
  const sample = makeSampler(o, new Rng(o.seed, 1), new Rng(o.seed, 2));
  const noiseRng = noise > 0 ? new Rng(o.seed, 3) : undefined;
  const scratch = forwardScratch(k);
  const { z0, z1, act } = scratch;
  // symmetrize: a pair split between two calls. The first row's x and pre-activations are kept
  // so that the second row, −x, starts the next call.
  const carryX = new Float64Array(symmetrize ? d : 0);
  const carryZ = new Float64Array(k);
  let next = 0; // index of the next sample

  return (x, y, rows) => {
    if (!Number.isSafeInteger(rows) || rows < 0 || rows > n - next) {
      throw new RangeError(`rows = ${rows}: ${n - next} of the ${n} samples are left`);
    }
    if (x.length < rows * d || y.length < rows * l) throw new RangeError(`buffers too small for ${rows} rows`);
    if (rows === 0) return;
    if (symmetrize) {
      let s = 0;
      if (next % 2 === 1) {
        // The second row of a pair begun by the previous call. W·(−x) = −(W·x) exactly.
        for (let j = 0; j < d; j++) x[j] = -carryX[j];
        negate(carryZ);
        emit(At, k, l, carryZ, y, 0, act);
        s = 1;
      }
      // --- inputs: whole pairs, then possibly the first row of a pair the next call ends.
      let r = s;
      for (; r + 2 <= rows; r += 2) {
        const off = r * d;
        sample(x, off);
        for (let j = 0; j < d; j++) x[off + d + j] = -x[off + j];
      }
      if (r < rows) {
        sample(x, r * d);
        for (let j = 0; j < d; j++) carryX[j] = x[r * d + j];
      }
      // --- outputs: only rows 2i need their pre-activations.
      r = s;
      for (; r + 4 <= rows; r += 4) {
        preactivations2(W, k, d, x, r * d, (r + 2) * d, z0, z1);
        emit(At, k, l, z0, y, r * l, act);
        negate(z0);
        emit(At, k, l, z0, y, (r + 1) * l, act);
        emit(At, k, l, z1, y, (r + 2) * l, act);
        negate(z1);
        emit(At, k, l, z1, y, (r + 3) * l, act);
      }
      if (r + 2 <= rows) {
        preactivations1(W, k, d, x, r * d, z0);
        emit(At, k, l, z0, y, r * l, act);
        negate(z0);
        emit(At, k, l, z0, y, (r + 1) * l, act);
        r += 2;
      }
      if (r < rows) {
        preactivations1(W, k, d, x, r * d, carryZ);
        emit(At, k, l, carryZ, y, r * l, act);
      }
    } else {
      for (let r = 0; r < rows; r++) sample(x, r * d);
      forwardRows(W, At, k, d, l, x, y, rows, scratch);
    }
    // --- output noise (stream 3), in sample order.
    if (noiseRng) {
      const m = rows * l;
      for (let t = 0; t < m; t++) y[t] += noise * noiseRng.normal();
    }
    next += rows;
  };
}

/** Samples a planted problem; see GenerateOptions. Deterministic for a seed. */
export function generate(options: GenerateOptions): Generated {
  const o = resolve(options);
  const { n, d, l } = o;
  const truth = plantNetwork(o);
  const x = sharedF64(n * d);
  const y = sharedF64(n * l);
  makeRowFiller(o, truth)(x, y, n);
  return { x, y, n, d, l, truth };
}

/** Consecutive samples from GeneratedStream.blocks(). */
export interface SampleBlock {
  /** Index of the block's first sample. */
  start: number;
  /** Samples in the block (blockRows, fewer in the last block). */
  rows: number;
  /** rows×d row-major: a view of a buffer that the next block overwrites. */
  x: Float64Array;
  /** rows×l row-major: likewise reused. */
  y: Float64Array;
}

/** A planted problem whose samples are produced block by block (generateStream). */
export interface GeneratedStream {
  n: number;
  d: number;
  l: number;
  /** The planted network (W k×d, A l×k), the same as generate()'s. */
  truth: Network;
  /**
   * The n samples in order, `blockRows` at a time (the last block may be shorter). Memory is
   * one block, whatever n: the x and y of a block are views of two buffers reused by the next
   * block, so copy what must outlive an iteration. Every call starts again at sample 0 with the
   * same random streams, and the concatenated blocks equal generate()'s x and y bit for bit, for
   * any blockRows.
   */
  blocks(blockRows: number): Generator<SampleBlock, void, undefined>;
}

/**
 * generate() without holding the data set: the same options, validation, planted network and
 * samples (bit for bit), produced in blocks of rows — for data sets larger than memory, and so a
 * writer can stop between blocks.
 */
export function generateStream(options: GenerateOptions): GeneratedStream {
  const o = resolve(options);
  const { n, d, l } = o;
  const truth = plantNetwork(o);
  return {
    n,
    d,
    l,
    truth,
    *blocks(blockRows: number): Generator<SampleBlock, void, undefined> {
      if (!isInt(blockRows, 1)) throw new RangeError(`blockRows must be a positive integer, got ${show(blockRows)}`);
      const rowsMax = Math.min(blockRows, n);
      const fill = makeRowFiller(o, truth);
      const xBuf = new Float64Array(rowsMax * d);
      const yBuf = new Float64Array(rowsMax * l);
      for (let start = 0; start < n; start += rowsMax) {
        const rows = Math.min(rowsMax, n - start);
        const x = rows === rowsMax ? xBuf : xBuf.subarray(0, rows * d);
        const y = rows === rowsMax ? yBuf : yBuf.subarray(0, rows * l);
        fill(x, y, rows);
        yield { start, rows, x, y };
      }
    },
  };
}
