/**
 * Error of a learned network against the planted one, modulo the model's invariances.
 *
 * y = A·relu(W·x) is unchanged by permuting the k hidden units and by a POSITIVE rescaling of
 * each unit (a_i·relu(w_i·x) = (a_i/s)·relu(s·w_i·x), s > 0). A negative scale is not an
 * invariance, so matching uses the signed cosine and a sign flip shows up as an error.
 *
 * Layouts as in Network: W k×d, A l×k, row-major.
 */
import { assertFiniteMatrix } from './model.js';
import { forward } from '../math/forward.js';
import { matchUnitRows } from '../math/hungarian.js';
import { normalizeRows } from '../math/linalg.js';
import { Rng } from '../math/random.js';
import type { Network, NumericArray } from '../types.js';
import { checkOptions, type OptionTable } from './options.js';

export interface Comparison {
  /** ‖Ŵ − W‖_F / ‖W‖_F with every row normalized to unit norm, Ŵ's rows matched to W's. */
  wError: number;
  /** ‖Â − A‖_F / ‖A‖_F after moving each unit's row norm into its column of A, matched. */
  aError: number;
  /** Relative RMS ‖ŷ − y‖ / ‖y‖ of the noiseless outputs over the evaluation inputs. */
  predictionError: number;
  /** permutation[i] = index of the truth unit matched to model unit i. */
  permutation: number[];
}

export interface CompareOptions {
  /**
   * Inputs (n×d row-major) on which predictionError is measured. Default: n standard Gaussian
   * samples drawn from `seed`.
   */
  x?: NumericArray;
  /** Rows of x to use (default x.length / d), or the number of Gaussian samples (default 4096). */
  n?: number;
  /** Seed of the default Gaussian inputs (default 12345). */
  seed?: number;
}

const DEFAULT_SAMPLES = 4096;

/** compare()'s options (CompareOptions documents each), validated by checkOptions like learn()'s. */
const COMPARE_OPTIONS = {
  x: { allowed: 'a Float64Array or Float32Array (n×d row-major)', ok: (v) => v instanceof Float64Array || v instanceof Float32Array },
  n: { allowed: 'a positive integer', ok: (v) => typeof v === 'number' && Number.isInteger(v) && v >= 1 },
  seed: { default: 12345, allowed: 'an integer (|seed| < 2^53)', ok: (v) => typeof v === 'number' && Number.isSafeInteger(v) },
} as const satisfies OptionTable;

const shape = (net: Network): string => `(d = ${net.d}, k = ${net.k}, l = ${net.l})`;

function checkNetwork(name: string, net: Network): void {
  const { d, k, l } = net;
  for (const [key, v] of [['d', d], ['k', k], ['l', l]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name}.${key} = ${v} must be a positive integer`);
  }
  if (net.W.length !== k * d) throw new RangeError(`${name}.W has ${net.W.length} values, expected k·d = ${k * d}`);
  if (net.A.length !== l * k) throw new RangeError(`${name}.A has ${net.A.length} values, expected l·k = ${l * k}`);
  assertFiniteMatrix(`${name}.W`, net.W, d);
  assertFiniteMatrix(`${name}.A`, net.A, k);
}

/** Row norms of W (k×d). */
function rowNorms(W: ArrayLike<number>, k: number, d: number): Float64Array {
  const out = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += W[i * d + j] * W[i * d + j];
    out[i] = Math.sqrt(s);
  }
  return out;
}

/**
 * Compares a learned `model` with the planted `truth`; see Comparison. Units are matched by a
 * Hungarian assignment maximizing the total signed cosine between rows of W.
 */
export function compare(model: Network, truth: Network, options: CompareOptions = {}): Comparison {
  const o = checkOptions<CompareOptions & { seed: number }>(COMPARE_OPTIONS, options, { what: 'compare()' });
  checkNetwork('model', model);
  checkNetwork('truth', truth);
  if (model.d !== truth.d || model.k !== truth.k || model.l !== truth.l) {
    throw new RangeError(`model shape ${shape(model)} does not match truth shape ${shape(truth)}`);
  }
  const { d, k, l } = truth;

  // --- match units: cost = −cos(ŵ_i, w_j), model units as rows.
  const mNorm = rowNorms(model.W, k, d);
  const tNorm = rowNorms(truth.W, k, d);
  const mUnit = normalizeRows(Float64Array.from(model.W), k, d);
  const tUnit = normalizeRows(Float64Array.from(truth.W), k, d);
  const { permutation } = matchUnitRows(mUnit, tUnit, k, d);

  // --- wError on unit rows.
  let num = 0;
  let den = 0;
  for (let i = 0; i < k; i++) {
    const j = permutation[i];
    for (let t = 0; t < d; t++) {
      const diff = mUnit[i * d + t] - tUnit[j * d + t];
      num += diff * diff;
    }
  }
  for (let t = 0; t < k * d; t++) den += tUnit[t] * tUnit[t];
  const wError = relative(num, den);

  // --- aError with each unit's scale moved into A: column i of A times ‖w_i‖.
  num = 0;
  den = 0;
  for (let p = 0; p < l; p++) {
    for (let i = 0; i < k; i++) {
      const j = permutation[i];
      const diff = model.A[p * k + i] * mNorm[i] - truth.A[p * k + j] * tNorm[j];
      num += diff * diff;
    }
    for (let j = 0; j < k; j++) {
      const a = truth.A[p * k + j] * tNorm[j];
      den += a * a;
    }
  }
  const aError = relative(num, den);

  // --- predictionError on the given inputs or on standard Gaussian samples.
  let x: NumericArray;
  let n: number;
  if (o.x !== undefined) {
    x = o.x;
    const available = Math.floor(x.length / d);
    if (o.n === undefined && x.length % d !== 0) throw new RangeError(`options.x has ${x.length} values, not a multiple of d = ${d}`);
    n = o.n ?? available;
    if (n > available) throw new RangeError(`options.n = ${n} exceeds the ${available} rows of options.x`);
  } else {
    n = o.n ?? DEFAULT_SAMPLES;
    const rng = new Rng(o.seed);
    const g = new Float64Array(n * d);
    for (let t = 0; t < g.length; t++) g[t] = rng.normal();
    x = g;
  }
  const yHat = forward(model, x, n);
  const y = forward(truth, x, n);
  num = 0;
  den = 0;
  for (let t = 0; t < n * l; t++) {
    const diff = yHat[t] - y[t];
    num += diff * diff;
    den += y[t] * y[t];
  }
  const predictionError = relative(num, den);

  return { wError, aError, predictionError, permutation };
}

/** sqrt(num/den); a zero reference gives 0 if the difference is zero too, else Infinity. */
function relative(num: number, den: number): number {
  if (den > 0) return Math.sqrt(num / den);
  return num > 0 ? Infinity : 0;
}
