/**
 * Shape checks shared by both backends, so that they reject the same calls the same way
 * (RangeError naming expected vs actual), and the numerical failures they report alike. Cheap: O(1) per call (checkEigNonsym scans its n² entries
 * for finiteness, against the O(n³) work of the call).
 */
import { PureneuronError } from '../errors.js';
import { EIG_NONSYM_ITER_CAP, type DetectorPlan, type GradientSums, type Moments1Sums, type ReadoutSums, type RowWeights, type VarProSums } from './types.js';

function dim(name: string, v: number, min = 0): void {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`${name} must be an integer ≥ ${min}, got ${v}`);
}

function len(name: string, a: Float64Array, need: number): void {
  if (!(a instanceof Float64Array)) throw new TypeError(`${name} must be a Float64Array`);
  if (a.length < need) throw new RangeError(`${name} has length ${a.length}, expected at least ${need}`);
}

/**
 * The optional per-row weights: null/undefined, a Float64Array with ≥ rows entries, or a
 * RobustWeighting for rows of d values (invScale ≥ d, out ≥ rows, denom a number).
 */
function weights(rho: RowWeights | undefined, rows: number, d: number): void {
  if (rho === null || rho === undefined) return;
  if (rho instanceof Float64Array) return len('rho', rho, rows);
  if (typeof rho !== 'object') throw new TypeError('rho must be a Float64Array, a RobustWeighting or null');
  len('rho.invScale', rho.invScale, d);
  len('rho.out', rho.out, rows);
  if (typeof rho.denom !== 'number') throw new TypeError(`rho.denom must be a number, got ${typeof rho.denom}`);
}

export function checkMoments1(
  s: Moments1Sums, x: Float64Array, y: Float64Array, rows: number, d: number, l: number, rho: RowWeights | undefined,
): void {
  dim('rows', rows); dim('d', d, 1); dim('l', l, 1);
  len('x', x, rows * d); len('y', y, rows * l); weights(rho, rows, d);
  len('sums.xx', s.xx, d * d); len('sums.yx', s.yx, l * d); len('sums.yy', s.yy, l * l);
  len('sums.xs', s.xs, d); len('sums.ys', s.ys, l);
  if (s.odd !== undefined) len('sums.odd', s.odd, 4 * d);
}

export function checkDetector(T: Float64Array, p: DetectorPlan, x: Float64Array, y: Float64Array, rows: number, rho: RowWeights | undefined): void {
  dim('rows', rows); dim('plan.d', p.d, 1); dim('plan.l', p.l, 1); dim('plan.hDim', p.hDim, 1); dim('plan.zDim', p.zDim, 1);
  const mh = (p.hDim * (p.hDim + 1)) / 2;
  const mz = (p.zDim * (p.zDim + 1)) / 2;
  len('T', T, mh * mz); len('x', x, rows * p.d); len('y', y, rows * p.l); weights(rho, rows, p.d);
  len('plan.Rx', p.Rx, p.hDim * p.d); len('plan.Ry', p.Ry, p.zDim * p.l); len('plan.Ph', p.Ph, p.zDim * p.hDim);
}

export function checkReadout(
  s: ReadoutSums, W: Float64Array, k: number, x: Float64Array, y: Float64Array, rows: number, d: number, l: number,
  rho: RowWeights | undefined,
): void {
  dim('rows', rows); dim('k', k, 1); dim('d', d, 1); dim('l', l, 1);
  len('W', W, k * d); len('x', x, rows * d); len('y', y, rows * l); weights(rho, rows, d);
  len('sums.rr', s.rr, k * k); len('sums.ry', s.ry, k * l);
}

export function checkRefineVarPro(
  s: VarProSums, W: Float64Array, k: number, x: Float64Array, y: Float64Array, rows: number, d: number, l: number,
  rho: RowWeights | undefined,
): void {
  checkReadout(s, W, k, x, y, rows, d, l, rho); // the shapes shared with the readout sums
  len('sums.S1', s.S1, k * d * l); len('sums.S2', s.S2, k * d * k); len('sums.yy', s.yy, 1);
}

export function checkRefineGradient(
  s: GradientSums, W: Float64Array, A: Float64Array, k: number, x: Float64Array, y: Float64Array, rows: number, d: number, l: number,
): void {
  checkReadout(s, W, k, x, y, rows, d, l, null); // the shapes shared with the readout sums
  len('A', A, l * k); len('sums.gW', s.gW, k * d); len('sums.ee', s.ee, 1); len('sums.yy', s.yy, 1);
}

export function checkRefineHessian(
  M: Float64Array, W: Float64Array, k: number, x: Float64Array, rows: number, d: number, rho: RowWeights | undefined,
): void {
  dim('rows', rows); dim('k', k, 1); dim('d', d, 1);
  len('W', W, k * d); len('x', x, rows * d); weights(rho, rows, d);
  len('M', M, ((k * (k + 1)) / 2) * ((d * (d + 1)) / 2));
}

export function checkRobustWeights(out: Float64Array, x: Float64Array, rows: number, d: number, invScale: Float64Array, denom: number): void {
  dim('rows', rows); dim('d', d, 1);
  len('out', out, rows); len('x', x, rows * d); len('invScale', invScale, d);
  if (typeof denom !== 'number') throw new TypeError(`denom must be a number, got ${typeof denom}`);
}

export function checkGram(G: Float64Array, a: Float64Array, rows: number, cols: number): void {
  dim('rows', rows);
  dim('cols', cols, 1);
  len('G', G, cols * cols);
  len('a', a, rows * cols);
}

export function checkSymEig(a: Float64Array, m: number): void {
  dim('m', m);
  len('a', a, m * m);
}

/** detectorObjectives and polish: G (mz×mz, mz = k(k+1)/2) and count directions of length k. */
export function checkPolish(G: Float64Array, k: number, U: Float64Array, count: number, maxIter = 0): void {
  dim('k', k, 1);
  dim('count', count);
  dim('maxIter', maxIter);
  const mz = (k * (k + 1)) / 2;
  len('G', G, mz * mz);
  len('U', U, count * k);
}

/** eigNonsym: a (n×n, n ≥ 1) with finite entries (ml-matrix's iteration never ends on NaN). */
export function checkEigNonsym(a: Float64Array, n: number): void {
  dim('n', n, 1);
  len('a', a, n * n);
  for (let i = 0; i < n * n; i++) {
    if (!Number.isFinite(a[i])) throw new RangeError(`a must be finite, got a[${i}] = ${a[i]}`);
  }
}

/** symEig's QL iteration hit its cap. */
export const symEigFailure = (m: number): PureneuronError => new PureneuronError('NUMERICAL_FAILURE', `symEig: QL iteration did not converge (m = ${m})`);

/** eigNonsym's iteration hit its cap (or overflowed to NaN inside). */
export const eigNonsymFailure = (n: number): PureneuronError =>
  new PureneuronError('NUMERICAL_FAILURE', `eigNonsym: the iteration did not converge (n = ${n}: more than ${EIG_NONSYM_ITER_CAP} iterations for an eigenvalue, or a NaN from overflow)`);

export function checkCholesky(a: Float64Array, p: number): void {
  dim('p', p, 1);
  len('a', a, p * p);
}

export function checkTriInverse(L: Float64Array, p: number, out: Float64Array): void {
  dim('p', p, 1);
  len('L', L, p * p); len('out', out, p * p);
}

