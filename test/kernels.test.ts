/**
 * One shared suite run against every backend (describe.each), then cross-backend checks.
 * Needs the wasm bytes: `npm run build:wasm` first.
 *
 * Oracle tolerances. Each kernel output is a sum of products of quantities that are
 * themselves short dot products. Standard rounding-error analysis (Higham, §3.1) bounds the
 * error of any summation order of n terms by γ_n·Σ|terms| with γ_n = n·u/(1 − n·u), u = 2⁻⁵³;
 * a product of rounded factors adds one u per factor. So both the kernel and the naive oracle
 * are within (n_rows + n_inner + c)·u·S of the exact value, where S is the same expression
 * evaluated on absolute values (the oracle computes S alongside). We assert
 *   |kernel − oracle| ≤ 2·(rows + inner + 16)·u·S + u·|initial dst|,
 * i.e. the rigorous worst case with no slack for sloppiness: a wrong index, a lost batch or a
 * missing √2 shows up as an error of order S, some 10¹² times larger.
 * Weighted sums (per-row ρ ≥ 0): every term gets one more factor, ρ_r, so one more rounding
 * (kernel: ρ·v before the product; oracle: ρ·term after it). The same analysis applies with
 * S = Σ ρ_r·|term|_r and n + 1 in place of n.
 */
import { EigenvalueDecomposition, Matrix, QrDecomposition, inverse } from 'ml-matrix';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PureneuronError } from '../src/errors.js';
import { jsKernels } from '../src/kernels/js/index.js';
import { getKernels, simdSupported } from '../src/kernels/select.js';
import {
  BATCH_ROWS, SQRT2, type DetectorPlan, type GradientSums, type Kernels, type Moments1Sums, type ReadoutSums, type RobustWeighting, type VarProSums,
} from '../src/kernels/types.js';
import { loadWasmKernels } from '../src/kernels/wasm/index.js';
import { robustWeighting, weightingFromChunk } from '../src/method/weights.js';

const U = 2 ** -53;
const wasmKernels = await loadWasmKernels();
const backends: [string, Kernels][] = [
  ['js', jsKernels],
  ['wasm', wasmKernels],
];

// ---------------------------------------------------------------------------------------
// Deterministic data

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    // xorshift32, mapped to [-1, 1)
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 2 ** 31 - 1;
  };
}

function randArray(n: number, r: () => number, scale = 1): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = r() * scale;
  return a;
}

/** Awkward data: mixed magnitudes, exact zeros, negative zeros and an all-zero row. */
function awkwardArray(rows: number, cols: number, r: () => number): Float64Array {
  const a = new Float64Array(rows * cols);
  for (let i = 0; i < a.length; i++) {
    const t = r();
    if (t > 0.9) a[i] = 0;
    else if (t < -0.9) a[i] = -0;
    else a[i] = r() * 10 ** Math.round(3 * r());
  }
  if (rows > 2) a.fill(0, cols, 2 * cols); // row 1 all zero
  return a;
}

/** Sample weights in [0, 2): exact zeros (about one row in six, and row 0), the rest random. */
function randWeights(rows: number, r: () => number): Float64Array {
  const w = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const t = r();
    w[i] = i === 0 || t > 2 / 3 ? 0 : 1 + r();
  }
  return w;
}

/** The definition of Kernels.robustWeights, written as plainly as possible. */
function naiveRobustWeights(x: Float64Array, rows: number, d: number, inv: Float64Array, denom: number): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let q = 0;
    for (let j = 0; j < d; j++) {
      const v = x[r * d + j] * inv[j];
      q = q + v * v;
    }
    const t = 1 + q * denom;
    out[r] = 1 / (t * t);
  }
  return out;
}

/**
 * The definition of Moments1Sums.odd, written as plainly as possible: batches of BATCH_ROWS
 * rows, each column's four sums in row order from +0, added once per batch.
 */
function naiveOddMoments(x: Float64Array, rows: number, d: number, rho?: Float64Array, init?: Float64Array): Float64Array {
  const out = init ? Float64Array.from(init) : new Float64Array(4 * d);
  for (let r0 = 0; r0 < rows; r0 += BATCH_ROWS) {
    for (let j = 0; j < d; j++) {
      const s = [0, 0, 0, 0];
      for (let r = r0; r < Math.min(rows, r0 + BATCH_ROWS); r++) {
        const v = x[r * d + j];
        const wv = rho ? rho[r] * v : v;
        const wv3 = wv * v * v;
        s[0] = s[0] + wv;
        s[1] = s[1] + wv * wv;
        s[2] = s[2] + wv3;
        s[3] = s[3] + wv3 * wv3;
      }
      for (let q = 0; q < 4; q++) out[q * d + j] = out[q * d + j] + s[q];
    }
  }
  return out;
}

/** Moments1Sums with random initial values (seeded), optionally with odd-moment sums. */
function randMoments1Sums(d: number, l: number, odd = false): Moments1Sums {
  const s: Moments1Sums = { xx: randArray(d * d, rng(1)), yx: randArray(l * d, rng(2)), yy: randArray(l * l, rng(3)), xs: randArray(d, rng(4)), ys: randArray(l, rng(5)) };
  if (odd) s.odd = randArray(4 * d, rng(6));
  return s;
}
const MOMENTS1_KEYS = ['xx', 'yx', 'yy', 'xs', 'ys'] as const;

/** A RobustWeighting whose `out` has one guard slot past `rows` (set to −1: must stay untouched). */
function robustWeightingFor(rows: number, inv: Float64Array, denom: number): RobustWeighting {
  return { invScale: inv, denom, out: new Float64Array(rows + 1).fill(-1) };
}

function bitsEqual(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  const ia = new BigUint64Array(a.buffer, a.byteOffset, a.length);
  const ib = new BigUint64Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ia.length; i++) if (ia[i] !== ib[i]) return false;
  return true;
}

function firstBitDiff(a: Float64Array, b: Float64Array): string {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return `index ${i}: ${a[i]} vs ${b[i]}`;
  return a.length === b.length ? 'none' : `lengths ${a.length} vs ${b.length}`;
}

/** Max over elements of |got − want| / bound; ≤ 1 passes. */
function worstRatio(got: Float64Array, want: Float64Array, bound: Float64Array): number {
  let w = 0;
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i] - want[i]);
    if (!(e <= bound[i])) w = Math.max(w, bound[i] > 0 ? e / bound[i] : Infinity);
  }
  return w;
}

// ---------------------------------------------------------------------------------------
// Naive float64 oracles (no batching, straightforward loops) with magnitude sums

function dot(a: Float64Array, ao: number, b: Float64Array, bo: number, n: number): [number, number] {
  let s = 0, m = 0;
  for (let j = 0; j < n; j++) {
    s += a[ao + j] * b[bo + j];
    m += Math.abs(a[ao + j] * b[bo + j]);
  }
  return [s, m];
}

/** Weight of row r: rho[r], or 1 without weights. */
const wt = (rho: Float64Array | null, r: number): number => (rho ? rho[r] : 1);

function oracleMoments(x: Float64Array, y: Float64Array, rows: number, d: number, l: number, rho: Float64Array | null = null) {
  const tn = (A: Float64Array, m: number, B: Float64Array, p: number) => {
    const v = new Float64Array(m * p), s = new Float64Array(m * p);
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < p; j++) {
          const t = wt(rho, r) * (A[r * m + i] * B[r * p + j]);
          v[i * p + j] += t;
          s[i * p + j] += Math.abs(t);
        }
      }
    }
    return [v, s];
  };
  const cs = (A: Float64Array, m: number) => {
    const v = new Float64Array(m), s = new Float64Array(m);
    for (let r = 0; r < rows; r++) for (let i = 0; i < m; i++) { const t = wt(rho, r) * A[r * m + i]; v[i] += t; s[i] += Math.abs(t); }
    return [v, s];
  };
  return { xx: tn(x, d, x, d), yx: tn(y, l, x, d), yy: tn(y, l, y, l), xs: cs(x, d), ys: cs(y, l) };
}

function oracleDetector(plan: DetectorPlan, x: Float64Array, y: Float64Array, rows: number, rho: Float64Array | null = null) {
  const { d, l, hDim, zDim, Rx, Ry, Ph, literal } = plan;
  const mh = (hDim * (hDim + 1)) / 2, mz = (zDim * (zDim + 1)) / 2;
  const T = new Float64Array(mh * mz), S = new Float64Array(mh * mz);
  const h = new Float64Array(hDim), ha = new Float64Array(hDim);
  const z = new Float64Array(zDim), za = new Float64Array(zDim);
  const p = new Float64Array(zDim), pa = new Float64Array(zDim);
  const F = new Float64Array(mh), Fa = new Float64Array(mh), G = new Float64Array(mz), Ga = new Float64Array(mz);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < hDim; i++) [h[i], ha[i]] = dot(Rx, i * d, x, r * d, d);
    for (let i = 0; i < zDim; i++) [z[i], za[i]] = dot(Ry, i * l, y, r * l, l);
    for (let i = 0; i < zDim; i++) {
      let s = 0, m = 0;
      for (let j = 0; j < hDim; j++) { s += Ph[i * hDim + j] * h[j]; m += Math.abs(Ph[i * hDim + j]) * ha[j]; }
      p[i] = s; pa[i] = m;
    }
    let f = 0;
    for (let i = 0; i < hDim; i++) for (let j = i; j < hDim; j++, f++) {
      const w = j > i ? SQRT2 : 1;
      F[f] = h[i] * h[j] * w;
      Fa[f] = ha[i] * ha[j] * w;
    }
    f = 0;
    const c = literal ? 0.5 : 0.25;
    for (let i = 0; i < zDim; i++) for (let j = i; j < zDim; j++, f++) {
      const w = j > i ? SQRT2 : 1;
      const ei = literal ? z[i] : z[i] - 0.5 * p[i], ej = literal ? z[j] : z[j] - 0.5 * p[j];
      const eai = literal ? za[i] : za[i] + 0.5 * pa[i], eaj = literal ? za[j] : za[j] + 0.5 * pa[j];
      G[f] = (ei * ej - c * (p[i] * p[j])) * w;
      Ga[f] = (eai * eaj + c * (pa[i] * pa[j])) * w;
    }
    const w = wt(rho, r);
    for (let a = 0; a < mh; a++) for (let b = 0; b < mz; b++) {
      T[a * mz + b] += w * (F[a] * G[b]);
      S[a * mz + b] += Math.abs(w) * (Fa[a] * Ga[b]);
    }
  }
  return { T, S };
}

function oracleReadout(W: Float64Array, k: number, x: Float64Array, y: Float64Array, rows: number, d: number, l: number, rho: Float64Array | null = null) {
  const rr = new Float64Array(k * k), rrS = new Float64Array(k * k), ry = new Float64Array(k * l), ryS = new Float64Array(k * l);
  const rv = new Float64Array(k), ra = new Float64Array(k);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < k; i++) {
      const [s, m] = dot(W, i * d, x, r * d, d);
      rv[i] = s > 0 ? s : 0;
      ra[i] = m; // relu is 1-Lipschitz: the error of r_i is bounded like that of the dot
    }
    const w = wt(rho, r), aw = Math.abs(w);
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) { rr[i * k + j] += w * (rv[i] * rv[j]); rrS[i * k + j] += aw * (ra[i] * ra[j]); }
      for (let j = 0; j < l; j++) { ry[i * l + j] += w * (rv[i] * y[r * l + j]); ryS[i * l + j] += aw * (ra[i] * Math.abs(y[r * l + j])); }
    }
  }
  return { rr: [rr, rrS], ry: [ry, ryS] };
}

/**
 * Refinement sums, naively (all rows, one loop, no batches): values and magnitude sums.
 * r_i = relu(W_i·x) with the dot in the kernels' order, so the active sets agree bit for bit.
 */
function oracleRefineVarPro(W: Float64Array, k: number, x: Float64Array, y: Float64Array, rows: number, d: number, l: number, rho: Float64Array | null = null) {
  const z = (n: number) => [new Float64Array(n), new Float64Array(n)];
  const [rr, rrS] = z(k * k), [ry, ryS] = z(k * l), [S1, S1S] = z(k * d * l), [S2, S2S] = z(k * d * k), [yy, yyS] = z(1);
  const rv = new Float64Array(k), ra = new Float64Array(k);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < k; i++) {
      const [s, m] = dot(W, i * d, x, r * d, d);
      rv[i] = s > 0 ? s : 0;
      ra[i] = m;
    }
    const w = wt(rho, r), aw = Math.abs(w);
    for (let o = 0; o < l; o++) { const v = y[r * l + o]; yy[0] += w * (v * v); yyS[0] += aw * (v * v); }
    for (let i = 0; i < k; i++) {
      for (let t = 0; t < k; t++) { rr[i * k + t] += w * (rv[i] * rv[t]); rrS[i * k + t] += aw * (ra[i] * ra[t]); }
      for (let o = 0; o < l; o++) { ry[i * l + o] += w * (rv[i] * y[r * l + o]); ryS[i * l + o] += aw * (ra[i] * Math.abs(y[r * l + o])); }
      if (!(rv[i] > 0)) continue;
      for (let j = 0; j < d; j++) {
        const xj = x[r * d + j], axj = Math.abs(xj);
        for (let o = 0; o < l; o++) { const q = (i * d + j) * l + o; S1[q] += w * (xj * y[r * l + o]); S1S[q] += aw * axj * Math.abs(y[r * l + o]); }
        for (let t = 0; t < k; t++) { const q = (i * d + j) * k + t; S2[q] += w * (xj * rv[t]); S2S[q] += aw * axj * ra[t]; }
      }
    }
  }
  return { rr: [rr, rrS], ry: [ry, ryS], S1: [S1, S1S], S2: [S2, S2S], yy: [yy, yyS] };
}

function oracleRefineHessian(W: Float64Array, k: number, x: Float64Array, rows: number, d: number, rho: Float64Array | null = null) {
  const mk = (k * (k + 1)) / 2, md = (d * (d + 1)) / 2;
  const M = new Float64Array(mk * md), S = new Float64Array(mk * md);
  const act = new Array<boolean>(k);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < k; i++) act[i] = dot(W, i * d, x, r * d, d)[0] > 0;
    const w = wt(rho, r), aw = Math.abs(w);
    let p = 0;
    for (let i = 0; i < k; i++) for (let i2 = i; i2 < k; i2++, p++) {
      if (!act[i] || !act[i2]) continue;
      let o = p * md;
      for (let j = 0; j < d; j++) for (let j2 = j; j2 < d; j2++, o++) {
        const t = x[r * d + j] * x[r * d + j2];
        M[o] += w * t;
        S[o] += aw * Math.abs(t);
      }
    }
  }
  return { M, S };
}

/**
 * The refinement kernels' contract executed literally, DENSE: every row of a batch adds its
 * term (0 for an inactive unit or pair) in row order into a scalar from +0, added to the
 * destination once per batch. The kernels skip inactive rows; the contract says that gives
 * these bits for finite data, and this checks it.
 */
function contractRefine(
  sums: VarProSums, M: Float64Array, W: Float64Array, k: number, x: Float64Array, y: Float64Array, rows: number, d: number, l: number,
  rho: Float64Array | null,
): void {
  const md = (d * (d + 1)) / 2;
  for (let r0 = 0; r0 < rows; r0 += BATCH_ROWS) {
    const nb = Math.min(rows - r0, BATCH_ROWS);
    const R = new Float64Array(nb * k);
    for (let r = 0; r < nb; r++) for (let i = 0; i < k; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += x[(r0 + r) * d + j] * W[i * d + j];
      R[r * k + i] = s > 0 ? s : 0;
    }
    const yw = (r: number, o: number) => (rho ? rho[r0 + r] * y[(r0 + r) * l + o] : y[(r0 + r) * l + o]);
    const rw = (r: number, t: number) => (rho ? rho[r0 + r] * R[r * k + t] : R[r * k + t]);
    const xw = (r: number, j: number) => (rho ? rho[r0 + r] * x[(r0 + r) * d + j] : x[(r0 + r) * d + j]);
    const act = (r: number, i: number) => R[r * k + i] > 0;
    const acc = (term: (r: number) => number) => { let s = 0; for (let r = 0; r < nb; r++) s += term(r); return s; };
    for (let i = 0; i < k; i++) {
      for (let t = i; t < k; t++) sums.rr[i * k + t] += acc((r) => R[r * k + i] * rw(r, t));
      for (let o = 0; o < l; o++) sums.ry[i * l + o] += acc((r) => R[r * k + i] * yw(r, o));
      for (let j = 0; j < d; j++) {
        for (let o = 0; o < l; o++) sums.S1[(i * d + j) * l + o] += acc((r) => (act(r, i) ? x[(r0 + r) * d + j] : 0) * yw(r, o));
        for (let t = 0; t < k; t++) sums.S2[(i * d + j) * k + t] += acc((r) => (act(r, i) ? x[(r0 + r) * d + j] : 0) * rw(r, t));
      }
    }
    sums.yy[0] += acc((r) => { let q = 0; for (let o = 0; o < l; o++) q += y[(r0 + r) * l + o] * yw(r, o); return q; });
    let p = 0;
    for (let i = 0; i < k; i++) for (let i2 = i; i2 < k; i2++, p++) {
      let o = p * md;
      for (let j = 0; j < d; j++) for (let j2 = j; j2 < d; j2++, o++) {
        M[o] += acc((r) => (act(r, i) && act(r, i2) ? xw(r, j) : 0) * x[(r0 + r) * d + j2]);
      }
    }
  }
}

/**
 * Kernels.refineGradient written straight from its contract: per batch, every output element
 * sums its per-row terms in row order from +0, then is added to its destination once.
 */
function contractGradient(sums: GradientSums, W: Float64Array, A: Float64Array, k: number, x: Float64Array, y: Float64Array, rows: number, d: number, l: number): void {
  for (let r0 = 0; r0 < rows; r0 += BATCH_ROWS) {
    const nb = Math.min(rows - r0, BATCH_ROWS);
    const R = new Float64Array(nb * k), E = new Float64Array(nb * l), Up = new Float64Array(nb * k);
    for (let r = 0; r < nb; r++) {
      for (let i = 0; i < k; i++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += x[(r0 + r) * d + j] * W[i * d + j];
        R[r * k + i] = s > 0 ? s : 0;
      }
      for (let o = 0; o < l; o++) {
        let p = 0;
        for (let i = 0; i < k; i++) p += R[r * k + i] * A[o * k + i];
        E[r * l + o] = y[(r0 + r) * l + o] - p;
      }
      for (let i = 0; i < k; i++) {
        let u = 0;
        for (let o = 0; o < l; o++) u += E[r * l + o] * A[o * k + i];
        Up[r * k + i] = R[r * k + i] > 0 ? u : 0;
      }
    }
    const acc = (term: (r: number) => number) => { let s = 0; for (let r = 0; r < nb; r++) s += term(r); return s; };
    for (let i = 0; i < k; i++) {
      for (let t = i; t < k; t++) sums.rr[i * k + t] += acc((r) => R[r * k + i] * R[r * k + t]);
      for (let o = 0; o < l; o++) sums.ry[i * l + o] += acc((r) => R[r * k + i] * y[(r0 + r) * l + o]);
      for (let j = 0; j < d; j++) sums.gW[i * d + j] += acc((r) => Up[r * k + i] * x[(r0 + r) * d + j]);
    }
    sums.ee[0] += acc((r) => { let q = 0; for (let o = 0; o < l; o++) q += E[r * l + o] * E[r * l + o]; return q; });
    sums.yy[0] += acc((r) => { let q = 0; for (let o = 0; o < l; o++) q += y[(r0 + r) * l + o] * y[(r0 + r) * l + o]; return q; });
  }
}

const GRADIENT_KEYS = ['rr', 'ry', 'gW', 'ee', 'yy'] as const;
const randGradientSums = (k: number, d: number, l: number, r: () => number): GradientSums => ({ rr: randArray(k * k, r), ry: randArray(k * l, r), gW: randArray(k * d, r), ee: randArray(1, r), yy: randArray(1, r) });
const copyGradientSums = (s: GradientSums): GradientSums => ({ rr: s.rr.slice(), ry: s.ry.slice(), gW: s.gW.slice(), ee: s.ee.slice(), yy: s.yy.slice() });

function randVarProSums(k: number, d: number, l: number, r: () => number): VarProSums {
  return { rr: randArray(k * k, r), ry: randArray(k * l, r), S1: randArray(k * d * l, r), S2: randArray(k * d * k, r), yy: randArray(1, r) };
}

function copyVarProSums(s: VarProSums): VarProSums {
  return { rr: s.rr.slice(), ry: s.ry.slice(), S1: s.S1.slice(), S2: s.S2.slice(), yy: s.yy.slice() };
}

const VARPRO_KEYS = ['rr', 'ry', 'S1', 'S2', 'yy'] as const;

/** Tolerance array: 2·(n + 16)·u·S + u·|init|. */
function bound(S: Float64Array, init: Float64Array, n: number): Float64Array {
  const b = new Float64Array(S.length);
  for (let i = 0; i < S.length; i++) b[i] = 2 * (n + 16) * U * S[i] + U * Math.abs(init[i]);
  return b;
}

/**
 * The detector's tolerance: its GEMM works in float32 (assembly/gemm32.ts), so each product's
 * operands are rounded to float32 (≤ 2u₃₂ relative), rounded once more, and summed in float32
 * over at most one batch (≤ 256 rows): 2·(min(rows, 256) + 16)·u₃₂·S on top of bound().
 */
function bound32(S: Float64Array, init: Float64Array, n: number, rows: number): Float64Array {
  const b = bound(S, init, n);
  for (let i = 0; i < S.length; i++) b[i] += 2 * (Math.min(rows, BATCH_ROWS) + 16) * 2 ** -24 * S[i];
  return b;
}

function plus(init: Float64Array, v: Float64Array): Float64Array {
  return init.map((a, i) => a + v[i]);
}

/** Upper (j ≥ i) part of an m×m matrix in want/got; checks that the lower part is untouched. */
function expectUpper(got: Float64Array, init: Float64Array, want: Float64Array, b: Float64Array, m: number): void {
  const up = (a: Float64Array) => a.filter((_, t) => t % m >= Math.floor(t / m));
  const lo = (a: Float64Array) => a.filter((_, t) => t % m < Math.floor(t / m));
  expect(worstRatio(up(got), up(want), up(b))).toBeLessThanOrEqual(1);
  expect(bitsEqual(lo(got), lo(init))).toBe(true);
}

function planFor(d: number, l: number, hDim: number, zDim: number, literal: boolean, r: () => number): DetectorPlan {
  return { d, l, hDim, zDim, literal, Rx: randArray(hDim * d, r), Ry: randArray(zDim * l, r), Ph: randArray(zDim * hDim, r) };
}

// ---------------------------------------------------------------------------------------
// symEig helpers

function randomSymmetric(m: number, r: () => number): Float64Array {
  const a = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = i; j < m; j++) { a[i * m + j] = r(); a[j * m + i] = a[i * m + j]; }
  return a;
}

/** Q·diag(λ)·Qᵀ with a random orthogonal Q (so eigenvalues are exactly known, repeats allowed). */
function withSpectrum(lambda: number[], r: () => number): Float64Array {
  const m = lambda.length;
  const Q = new QrDecomposition(new Matrix(Array.from({ length: m }, () => Array.from({ length: m }, r)))).orthogonalMatrix;
  const a = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) {
    let s = 0;
    for (let t = 0; t < m; t++) s += Q.get(i, t) * lambda[t] * Q.get(j, t);
    a[i * m + j] = s;
  }
  // exact symmetry
  for (let i = 0; i < m; i++) for (let j = 0; j < i; j++) a[i * m + j] = a[j * m + i];
  return a;
}

function frob(a: Float64Array): number {
  let s = 0;
  for (const v of a) s += v * v;
  return Math.sqrt(s);
}

/** Residuals ‖A·V − V·D‖_F / ‖A‖_F and ‖VᵀV − I‖_F (A from its upper triangle). */
function eigResiduals(a: Float64Array, m: number, values: Float64Array, V: Float64Array): { res: number; orth: number } {
  const A = (i: number, j: number) => (j >= i ? a[i * m + j] : a[j * m + i]);
  let res = 0, orth = 0, na = 0;
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) na += A(i, j) ** 2;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      let av = 0, vv = 0;
      for (let t = 0; t < m; t++) { av += A(i, t) * V[t * m + j]; vv += V[t * m + i] * V[t * m + j]; }
      res += (av - V[i * m + j] * values[j]) ** 2;
      orth += (vv - (i === j ? 1 : 0)) ** 2;
    }
  }
  return { res: Math.sqrt(res) / (Math.sqrt(na) || 1), orth: Math.sqrt(orth) };
}

function mlEigenvalues(a: Float64Array, m: number): number[] {
  const M = new Matrix(m, m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) M.set(i, j, j >= i ? a[i * m + j] : a[j * m + i]);
  return new EigenvalueDecomposition(M, { assumeSymmetric: true }).realEigenvalues.slice().sort((p, q) => p - q);
}

// ---------------------------------------------------------------------------------------
// cholesky / triInverse helpers

/** A random SPD p×p matrix BᵀB/n + 0.1·I (B n×p, n = p + 3), scaled by D·A·D with D_i = 10^(grade·i/p). */
function randomSpd(p: number, r: () => number, grade = 0): Float64Array {
  const n = p + 3;
  const B = randArray(n * p, r);
  const D = Float64Array.from({ length: p }, (_, i) => 10 ** ((grade * i) / p));
  const a = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let v = 0;
      for (let t = 0; t < n; t++) v += B[t * p + i] * B[t * p + j];
      v = v / n + (i === j ? 0.1 : 0);
      a[i * p + j] = a[j * p + i] = D[i] * v * D[j];
    }
  }
  return a;
}

/** Fills the strict upper triangle with junk: NaN, ±Infinity, −0 and random values. */
function junkUpper(a: Float64Array, p: number, r: () => number): Float64Array {
  const junk = [NaN, Infinity, -Infinity, -0];
  for (let i = 0; i < p; i++) for (let j = i + 1; j < p; j++) a[i * p + j] = (i + j) % 5 < 4 ? junk[(i + j) % 5] : r() * 1e300;
  return a;
}

/** The textbook row-oriented Cholesky loop (refine.ts before the kernels): the chain Kernels.cholesky documents. */
function plainCholesky(S: Float64Array, p: number): boolean {
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let v = S[i * p + j];
      for (let t = 0; t < j; t++) v = v - S[i * p + t] * S[j * p + t];
      if (j < i) S[i * p + j] = v / S[j * p + j];
      else if (!(v > 0)) return false;
      else S[i * p + i] = Math.sqrt(v);
    }
  }
  return true;
}

/** Plain forward substitution for each column e of L⁻¹ from t = e (what triInverse equals for finite L, positive diagonal). */
function plainTriInverse(L: Float64Array, p: number): Float64Array {
  const X = new Float64Array(p * p);
  for (let e = 0; e < p; e++) {
    for (let i = e; i < p; i++) {
      let v = i === e ? 1 : 0;
      for (let t = e; t < i; t++) v = v - L[i * p + t] * X[t * p + e];
      X[i * p + e] = v / L[i * p + i];
    }
  }
  return X;
}

/** The lower triangle (incl. diagonal) of a, zeros above. */
function lowerOf(a: Float64Array, p: number): Float64Array {
  const L = new Float64Array(p * p);
  for (let i = 0; i < p; i++) for (let j = 0; j <= i; j++) L[i * p + j] = a[i * p + j];
  return L;
}

/** P = X·Yᵀ-style products for lower-triangular factors: returns [X·Yᵀ, |X|·|Y|ᵀ] (p×p) with Y given row-major. */
function productAbs(X: Float64Array, Y: Float64Array, p: number, transposeY: boolean): [Float64Array, Float64Array] {
  const P = new Float64Array(p * p), S = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < p; j++) {
      let v = 0, m = 0;
      for (let t = 0; t < p; t++) {
        const y = transposeY ? Y[j * p + t] : Y[t * p + j];
        v += X[i * p + t] * y;
        m += Math.abs(X[i * p + t] * y);
      }
      P[i * p + j] = v;
      S[i * p + j] = m;
    }
  }
  return [P, S];
}

// ---------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------

describe.each(backends)('%s kernels against naive float64 oracles', (_name, K) => {
  it.each([
    [1, 1, 1], [2, 3, 2], [7, 5, 9], [255, 16, 3], [256, 9, 31], [257, 31, 7], [1000, 2, 16],
  ])('moments1 rows=%i d=%i l=%i', (rows, d, l) => {
    const r = rng(rows * 131 + d * 7 + l);
    const x = randArray(rows * d, r), y = randArray(rows * l, r);
    const init: Moments1Sums = { xx: randArray(d * d, r), yx: randArray(l * d, r), yy: randArray(l * l, r), xs: randArray(d, r), ys: randArray(l, r) };
    const sums: Moments1Sums = { xx: init.xx.slice(), yx: init.yx.slice(), yy: init.yy.slice(), xs: init.xs.slice(), ys: init.ys.slice() };
    K.moments1(sums, x, y, rows, d, l);
    const o = oracleMoments(x, y, rows, d, l);
    expectUpper(sums.xx, init.xx, plus(init.xx, o.xx[0]), bound(o.xx[1], init.xx, rows), d);
    expectUpper(sums.yy, init.yy, plus(init.yy, o.yy[0]), bound(o.yy[1], init.yy, rows), l);
    expect(worstRatio(sums.yx, plus(init.yx, o.yx[0]), bound(o.yx[1], init.yx, rows))).toBeLessThanOrEqual(1);
    expect(worstRatio(sums.xs, plus(init.xs, o.xs[0]), bound(o.xs[1], init.xs, rows))).toBeLessThanOrEqual(1);
    expect(worstRatio(sums.ys, plus(init.ys, o.ys[0]), bound(o.ys[1], init.ys, rows))).toBeLessThanOrEqual(1);
  });

  it.each([
    [1, 3, 2, 3, 2, false], [3, 5, 7, 5, 7, true], [257, 16, 9, 16, 9, false], [300, 9, 31, 7, 5, true],
    [256, 31, 16, 31, 1, false], [1000, 7, 5, 2, 3, false],
  ])('detector rows=%i d=%i l=%i hDim=%i zDim=%i literal=%s', (rows, d, l, hDim, zDim, literal) => {
    const r = rng(rows * 17 + d * 5 + l * 3 + hDim + zDim);
    const plan = planFor(d, l, hDim, zDim, literal, r);
    const x = randArray(rows * d, r), y = randArray(rows * l, r);
    const mh = (hDim * (hDim + 1)) / 2, mz = (zDim * (zDim + 1)) / 2;
    const init = randArray(mh * mz, r);
    const o = oracleDetector(plan, x, y, rows);
    for (const float32 of [false, true]) {
      const T = init.slice();
      K.detector(T, { ...plan, float32 }, x, y, rows);
      const b = float32 ? bound32(o.S, init, rows + d + l + hDim, rows) : bound(o.S, init, rows + d + l + hDim);
      expect(worstRatio(T, plus(init, o.T), b), `float32 ${float32}`).toBeLessThanOrEqual(1);
    }
  });

  it.each([
    [1, 1, 1, 1], [2, 3, 2, 5], [255, 7, 9, 3], [257, 16, 5, 16], [1000, 9, 31, 7],
  ])('readout rows=%i d=%i l=%i k=%i', (rows, d, l, k) => {
    const r = rng(rows + d * 11 + l * 13 + k * 17);
    const W = randArray(k * d, r), x = randArray(rows * d, r), y = randArray(rows * l, r);
    const init: ReadoutSums = { rr: randArray(k * k, r), ry: randArray(k * l, r) };
    const sums: ReadoutSums = { rr: init.rr.slice(), ry: init.ry.slice() };
    K.readout(sums, W, k, x, y, rows, d, l);
    const o = oracleReadout(W, k, x, y, rows, d, l);
    expectUpper(sums.rr, init.rr, plus(init.rr, o.rr[0]), bound(o.rr[1], init.rr, rows + d), k);
    expect(worstRatio(sums.ry, plus(init.ry, o.ry[0]), bound(o.ry[1], init.ry, rows + d))).toBeLessThanOrEqual(1);
  });

  it.each([
    [1, 1, 1], [7, 5, 9], [256, 9, 31], [257, 31, 7], [1000, 2, 16],
  ])('weighted moments1 rows=%i d=%i l=%i', (rows, d, l) => {
    const r = rng(rows * 131 + d * 7 + l + 5);
    const x = randArray(rows * d, r), y = randArray(rows * l, r), rho = randWeights(rows, r);
    const init: Moments1Sums = { xx: randArray(d * d, r), yx: randArray(l * d, r), yy: randArray(l * l, r), xs: randArray(d, r), ys: randArray(l, r) };
    const sums: Moments1Sums = { xx: init.xx.slice(), yx: init.yx.slice(), yy: init.yy.slice(), xs: init.xs.slice(), ys: init.ys.slice() };
    K.moments1(sums, x, y, rows, d, l, rho);
    const o = oracleMoments(x, y, rows, d, l, rho);
    expectUpper(sums.xx, init.xx, plus(init.xx, o.xx[0]), bound(o.xx[1], init.xx, rows + 1), d);
    expectUpper(sums.yy, init.yy, plus(init.yy, o.yy[0]), bound(o.yy[1], init.yy, rows + 1), l);
    expect(worstRatio(sums.yx, plus(init.yx, o.yx[0]), bound(o.yx[1], init.yx, rows + 1))).toBeLessThanOrEqual(1);
    expect(worstRatio(sums.xs, plus(init.xs, o.xs[0]), bound(o.xs[1], init.xs, rows + 1))).toBeLessThanOrEqual(1);
    expect(worstRatio(sums.ys, plus(init.ys, o.ys[0]), bound(o.ys[1], init.ys, rows + 1))).toBeLessThanOrEqual(1);
  });

  it.each([
    [1, 3, 2, 3, 2, false], [3, 5, 7, 5, 7, true], [257, 16, 9, 16, 9, false], [300, 9, 31, 7, 5, true], [1000, 7, 5, 2, 3, false],
  ])('weighted detector rows=%i d=%i l=%i hDim=%i zDim=%i literal=%s', (rows, d, l, hDim, zDim, literal) => {
    const r = rng(rows * 17 + d * 5 + l * 3 + hDim + zDim + 5);
    const plan = planFor(d, l, hDim, zDim, literal, r);
    const x = randArray(rows * d, r), y = randArray(rows * l, r), rho = randWeights(rows, r);
    const mh = (hDim * (hDim + 1)) / 2, mz = (zDim * (zDim + 1)) / 2;
    const init = randArray(mh * mz, r);
    const o = oracleDetector(plan, x, y, rows, rho);
    for (const float32 of [false, true]) {
      const T = init.slice();
      K.detector(T, { ...plan, float32 }, x, y, rows, rho);
      const b = float32 ? bound32(o.S, init, rows + d + l + hDim + 1, rows) : bound(o.S, init, rows + d + l + hDim + 1);
      expect(worstRatio(T, plus(init, o.T), b), `float32 ${float32}`).toBeLessThanOrEqual(1);
    }
  });

  it.each([
    [1, 1, 1, 1], [2, 3, 2, 5], [255, 7, 9, 3], [257, 16, 5, 16], [1000, 9, 31, 7],
  ])('weighted readout rows=%i d=%i l=%i k=%i', (rows, d, l, k) => {
    const r = rng(rows + d * 11 + l * 13 + k * 17 + 5);
    const W = randArray(k * d, r), x = randArray(rows * d, r), y = randArray(rows * l, r), rho = randWeights(rows, r);
    const init: ReadoutSums = { rr: randArray(k * k, r), ry: randArray(k * l, r) };
    const sums: ReadoutSums = { rr: init.rr.slice(), ry: init.ry.slice() };
    K.readout(sums, W, k, x, y, rows, d, l, rho);
    const o = oracleReadout(W, k, x, y, rows, d, l, rho);
    expectUpper(sums.rr, init.rr, plus(init.rr, o.rr[0]), bound(o.rr[1], init.rr, rows + d + 1), k);
    expect(worstRatio(sums.ry, plus(init.ry, o.ry[0]), bound(o.ry[1], init.ry, rows + d + 1))).toBeLessThanOrEqual(1);
  });

  it('weights ≡ 1 give the unweighted bits, weights ≡ 2 exactly twice them (null and omitted alike)', () => {
    // ρ·v is exact for ρ = 1 and ρ = 2, so these pin down where the weight enters: one factor
    // of each product, nothing else changed (a weight applied twice, or as √ρ to both factors,
    // or a different summation order would break the exact relations).
    const rows = 300, d = 9, l = 7, k = 5;
    const r = rng(4242);
    const x = randArray(rows * d, r), y = randArray(rows * l, r), W = randArray(k * d, r);
    const plan = planFor(d, l, 6, 4, false, r);
    const ones = new Float64Array(rows).fill(1), twos = new Float64Array(rows + 3).fill(2); // longer than rows is fine
    const mk = (): Moments1Sums => ({ xx: new Float64Array(d * d), yx: new Float64Array(l * d), yy: new Float64Array(l * l), xs: new Float64Array(d), ys: new Float64Array(l) });
    const twice = (a: Float64Array) => a.map((v) => 2 * v);
    const m0 = mk(), mNull = mk(), m1 = mk(), m2 = mk();
    K.moments1(m0, x, y, rows, d, l);
    K.moments1(mNull, x, y, rows, d, l, null);
    K.moments1(m1, x, y, rows, d, l, ones);
    K.moments1(m2, x, y, rows, d, l, twos);
    for (const key of ['xx', 'yx', 'yy', 'xs', 'ys'] as const) {
      expect(bitsEqual(m0[key], mNull[key]), key).toBe(true);
      expect(bitsEqual(m0[key], m1[key]), key).toBe(true);
      expect(bitsEqual(twice(m0[key]), m2[key]), key).toBe(true);
    }
    const T = (rho?: Float64Array | null) => {
      const t = new Float64Array(21 * 10);
      K.detector(t, plan, x, y, rows, rho);
      return t;
    };
    const t0 = T();
    expect(bitsEqual(t0, T(null)) && bitsEqual(t0, T(ones)) && bitsEqual(twice(t0), T(twos))).toBe(true);
    const R = (rho?: Float64Array | null) => {
      const s: ReadoutSums = { rr: new Float64Array(k * k), ry: new Float64Array(k * l) };
      K.readout(s, W, k, x, y, rows, d, l, rho);
      return s;
    };
    const r0 = R(), rNull = R(null), r1 = R(ones), r2 = R(twos);
    for (const key of ['rr', 'ry'] as const) {
      expect(bitsEqual(r0[key], rNull[key]) && bitsEqual(r0[key], r1[key]) && bitsEqual(twice(r0[key]), r2[key]), key).toBe(true);
    }
  });

  it('robustWeights follows its definition exactly', () => {
    for (const rows of [1, 2, 3, 7, 8, 9, 255, 256, 257, 1000]) {
      for (const d of [1, 2, 3, 5, 32, 33]) {
        const r = rng(rows * 97 + d);
        const x = awkwardArray(rows, d, r);
        const inv = randArray(d, r, 3);
        inv[d >> 1] = 0; // a constant-zero coordinate
        const denom = 1 / (0.7 * d);
        const out = new Float64Array(rows + 2).fill(-1);
        K.robustWeights(out, x, rows, d, inv, denom);
        const want = naiveRobustWeights(x, rows, d, inv, denom);
        expect(bitsEqual(out.subarray(0, rows), want), `rows=${rows} d=${d}: ${firstBitDiff(out.subarray(0, rows), want)}`).toBe(true);
        expect(out[rows]).toBe(-1); // nothing written past rows
      }
    }
    K.robustWeights(new Float64Array(0), new Float64Array(0), 0, 3, new Float64Array(3), 1); // rows = 0
  });

  it("moments1's odd-moment sums follow their definition exactly (with and without weights, accumulating)", () => {
    for (const rows of [1, 2, 3, 7, 255, 256, 257, 600]) {
      for (const d of [1, 2, 3, 5, 6, 7, 32, 33]) {
        const r = rng(rows * 131 + d);
        const x = awkwardArray(rows, d, r), y = awkwardArray(rows, 2, r);
        const rho = randWeights(rows, r);
        for (const w of [undefined, rho]) {
          const odd = new Float64Array(4 * d + 1);
          odd[4 * d] = -1;
          const sums = { ...randMoments1Sums(d, 2), odd };
          K.moments1(sums, x, y, rows, d, 2, w);
          const want = naiveOddMoments(x, rows, d, w);
          expect(bitsEqual(odd.subarray(0, 4 * d), want), `rows=${rows} d=${d} weighted=${!!w}: ${firstBitDiff(odd.subarray(0, 4 * d), want)}`).toBe(true);
          expect(odd[4 * d]).toBe(-1); // nothing written past 4d
          // The other sums are those of a call without odd.
          const plain = randMoments1Sums(d, 2);
          K.moments1(plain, x, y, rows, d, 2, w);
          for (const key of MOMENTS1_KEYS) expect(bitsEqual(sums[key], plain[key]), key).toBe(true);
          // A second call adds to the first (dst = dst + batch sum, per batch).
          K.moments1(sums, x, y, rows, d, 2, w);
          expect(bitsEqual(odd.subarray(0, 4 * d), naiveOddMoments(x, rows, d, w, want))).toBe(true);
        }
      }
    }
    const short = { ...randMoments1Sums(2, 1), odd: new Float64Array(7) };
    expect(() => K.moments1(short, new Float64Array(6), new Float64Array(3), 3, 2, 1)).toThrow(/sums.odd has length 7, expected at least 8/);
  });

  it('a RobustWeighting gives the bits of robustWeights followed by the weighted call, and writes ρ to out', () => {
    const [d, l, k] = [5, 3, 2];
    for (const rows of [1, 7, 255, 257, 600]) {
      const r = rng(rows * 17 + 3);
      const x = awkwardArray(rows, d, r), y = awkwardArray(rows, l, r);
      const inv = randArray(d, r, 2);
      inv[1] = 0; // a constant-zero coordinate
      const denom = 1 / (0.7 * d);
      const rho = naiveRobustWeights(x, rows, d, inv, denom);
      const check = (rw: RobustWeighting, what: string) => {
        expect(bitsEqual(rw.out.subarray(0, rows), rho), `${what} out, rows=${rows}: ${firstBitDiff(rw.out.subarray(0, rows), rho)}`).toBe(true);
        expect(rw.out[rows], `${what}: nothing written past rows`).toBe(-1);
      };
      const ma = randMoments1Sums(d, l, true), mb = randMoments1Sums(d, l, true);
      const rw1 = robustWeightingFor(rows, inv, denom);
      K.moments1(ma, x, y, rows, d, l, rho);
      K.moments1(mb, x, y, rows, d, l, rw1);
      for (const key of [...MOMENTS1_KEYS, 'odd'] as const) expect(bitsEqual(ma[key]!, mb[key]!), `moments1 ${key} rows=${rows}`).toBe(true);
      check(rw1, 'moments1');
      const plan = planFor(d, l, 3, 2, false, r);
      const Ta = randArray(6 * 3, r), Tb = Ta.slice();
      const rw2 = robustWeightingFor(rows, inv, denom);
      K.detector(Ta, plan, x, y, rows, rho);
      K.detector(Tb, plan, x, y, rows, rw2);
      expect(bitsEqual(Ta, Tb), `detector rows=${rows}: ${firstBitDiff(Ta, Tb)}`).toBe(true);
      check(rw2, 'detector');
      const W = awkwardArray(k, d, r);
      const ra: ReadoutSums = { rr: randArray(k * k, r), ry: randArray(k * l, r) };
      const rb: ReadoutSums = { rr: ra.rr.slice(), ry: ra.ry.slice() };
      const rw3 = robustWeightingFor(rows, inv, denom);
      K.readout(ra, W, k, x, y, rows, d, l, rho);
      K.readout(rb, W, k, x, y, rows, d, l, rw3);
      expect(bitsEqual(ra.rr, rb.rr) && bitsEqual(ra.ry, rb.ry), `readout rows=${rows}`).toBe(true);
      check(rw3, 'readout');
      const va = randVarProSums(k, d, l, r), vb = copyVarProSums(va);
      const rw4 = robustWeightingFor(rows, inv, denom);
      K.refineVarPro(va, W, k, x, y, rows, d, l, rho);
      K.refineVarPro(vb, W, k, x, y, rows, d, l, rw4);
      for (const key of VARPRO_KEYS) expect(bitsEqual(va[key], vb[key]), `refineVarPro ${key} rows=${rows}`).toBe(true);
      check(rw4, 'refineVarPro');
      const Ma = randArray(3 * 15, r), Mb = Ma.slice();
      const rw5 = robustWeightingFor(rows, inv, denom);
      K.refineHessian(Ma, W, k, x, rows, d, rho);
      K.refineHessian(Mb, W, k, x, rows, d, rw5);
      expect(bitsEqual(Ma, Mb), `refineHessian rows=${rows}: ${firstBitDiff(Ma, Mb)}`).toBe(true);
      check(rw5, 'refineHessian');
    }
    // Shapes of a RobustWeighting are checked like any other argument.
    const sums = randMoments1Sums(2, 1);
    const x = new Float64Array(6), y = new Float64Array(3);
    expect(() => K.moments1(sums, x, y, 3, 2, 1, { invScale: new Float64Array(1), denom: 1, out: new Float64Array(3) })).toThrow(/rho.invScale has length 1, expected at least 2/);
    expect(() => K.moments1(sums, x, y, 3, 2, 1, { invScale: new Float64Array(2), denom: 1, out: new Float64Array(2) })).toThrow(/rho.out has length 2, expected at least 3/);
    expect(() => K.detector(new Float64Array(1), planFor(2, 1, 1, 1, false, rng(1)), x, y, 3, { invScale: new Float64Array(2), denom: 1, out: new Float64Array(2) })).toThrow(RangeError);
  });

  it('accumulates across calls exactly like one call over the same batches', () => {
    const r = rng(99);
    const plan = planFor(9, 5, 7, 3, false, r);
    const x = randArray(512 * 9, r), y = randArray(512 * 5, r);
    const T1 = new Float64Array(28 * 6), T2 = new Float64Array(28 * 6);
    K.detector(T1, plan, x, y, 512);
    K.detector(T2, plan, x.subarray(0, 256 * 9), y.subarray(0, 256 * 5), 256);
    K.detector(T2, plan, x.subarray(256 * 9), y.subarray(256 * 5), 256);
    expect(bitsEqual(T1, T2)).toBe(true); // batches of BATCH_ROWS = 256 align with the split
    expect(BATCH_ROWS).toBe(256);
  });

  it('rejects inconsistent shapes with RangeError', () => {
    const sums: Moments1Sums = { xx: new Float64Array(4), yx: new Float64Array(2), yy: new Float64Array(1), xs: new Float64Array(2), ys: new Float64Array(1) };
    expect(() => K.moments1(sums, new Float64Array(3), new Float64Array(2), 2, 2, 1)).toThrow(RangeError);
    expect(() => K.symEig(new Float64Array(3), 2)).toThrow(RangeError);
    const ok: Moments1Sums = { xx: new Float64Array(4), yx: new Float64Array(2), yy: new Float64Array(1), xs: new Float64Array(2), ys: new Float64Array(1) };
    expect(() => K.moments1(ok, new Float64Array(6), new Float64Array(3), 3, 2, 1, new Float64Array(2))).toThrow(RangeError);
    expect(() => K.readout({ rr: new Float64Array(1), ry: new Float64Array(1) }, new Float64Array(2), 1, new Float64Array(6), new Float64Array(3), 3, 2, 1, new Float64Array(2))).toThrow(RangeError);
    expect(() => K.robustWeights(new Float64Array(2), new Float64Array(6), 3, 2, new Float64Array(2), 1)).toThrow(RangeError);
    expect(() => K.robustWeights(new Float64Array(3), new Float64Array(6), 3, 2, new Float64Array(1), 1)).toThrow(RangeError);
  });

  describe('symEig', () => {
    const cases: [string, number, (r: () => number) => Float64Array][] = [
      ['m=1', 1, () => new Float64Array([-3.5])],
      ['m=2 random', 2, (r) => randomSymmetric(2, r)],
      ['m=2 diagonal, equal', 2, () => new Float64Array([2, 0, 0, 2])],
      ['m=3 zero', 3, () => new Float64Array(9)],
      ['m=8 identity', 8, () => { const a = new Float64Array(64); for (let i = 0; i < 8; i++) a[i * 9] = 1; return a; }],
      ['m=10 random', 10, (r) => randomSymmetric(10, r)],
      ['m=12 repeated eigenvalues', 12, (r) => withSpectrum([3, 3, 3, -1, -1, 0, 0, 0, 0, 2, 5, 5], r)],
      ['m=40 repeated eigenvalues', 40, (r) => withSpectrum(Array.from({ length: 40 }, (_, i) => Math.floor(i / 5) - 3), r)],
      ['m=64 graded', 64, (r) => withSpectrum(Array.from({ length: 64 }, (_, i) => 10 ** (i / 8 - 4)), r)],
      ['m=136 random', 136, (r) => randomSymmetric(136, r)],
    ];
    it.each(cases)('%s: A·V ≈ V·D, VᵀV ≈ I, ascending, agrees with ml-matrix', (_label, m, make) => {
      const a = make(rng(m * 7 + 1));
      const { values, vectors } = K.symEig(a, m);
      expect(values.length).toBe(m);
      expect(vectors.length).toBe(m * m);
      for (let i = 1; i < m; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1]);
      // Backward-stable method: residuals O(m·u) relative to ‖A‖.
      const { res, orth } = eigResiduals(a, m, values, vectors);
      expect(res).toBeLessThan(20 * m * 2 * U + 1e-300);
      expect(orth).toBeLessThan(20 * m * 2 * U);
      const ml = mlEigenvalues(a, m);
      const scale = frob(a) || 1;
      for (let i = 0; i < m; i++) expect(Math.abs(values[i] - ml[i])).toBeLessThan(20 * m * 2 * U * scale);
    });

    it('reads only the upper triangle, leaves its input alone and is deterministic', () => {
      const m = 9;
      const a = randomSymmetric(m, rng(5));
      const junk = a.slice();
      for (let i = 0; i < m; i++) for (let j = 0; j < i; j++) junk[i * m + j] = NaN;
      const before = junk.slice();
      const p = K.symEig(a, m), q = K.symEig(junk, m), s = K.symEig(junk, m);
      expect(bitsEqual(junk, before)).toBe(true);
      expect(bitsEqual(p.values, q.values) && bitsEqual(p.vectors, q.vectors)).toBe(true);
      expect(bitsEqual(q.values, s.values) && bitsEqual(q.vectors, s.vectors)).toBe(true);
    });

    it('handles m = 0 and m = 528 (k = 32)', () => {
      const e = K.symEig(new Float64Array(0), 0);
      expect(e.values.length).toBe(0);
      const m = 528;
      const a = randomSymmetric(m, rng(528));
      const { values, vectors } = K.symEig(a, m);
      for (let i = 1; i < m; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1]);
      // Spot-check residuals on a few columns (the full check is O(m³) in test code).
      const A = (i: number, j: number) => (j >= i ? a[i * m + j] : a[j * m + i]);
      for (const j of [0, 1, 263, 526, 527]) {
        let res = 0, nrm = 0;
        for (let i = 0; i < m; i++) {
          let av = 0;
          for (let t = 0; t < m; t++) av += A(i, t) * vectors[t * m + j];
          res += (av - values[j] * vectors[i * m + j]) ** 2;
          nrm += vectors[i * m + j] ** 2;
        }
        expect(Math.sqrt(res)).toBeLessThan(1e-11 * frob(a));
        expect(Math.abs(nrm - 1)).toBeLessThan(1e-12);
      }
    });
  });

  describe('cholesky and triInverse', () => {
    // Tolerances (Higham, Accuracy and Stability, Thms 10.3 and 8.5): the computed Cholesky factor
    // satisfies |A − L·Lᵀ| ≤ γ_{p+1}·|L|·|Lᵀ| elementwise, and each column x of the computed
    // L⁻¹ (forward substitution) solves (L + ΔL)x = e with |ΔL| ≤ γ_p·|L|, so
    // |L·X − I| ≤ γ_p·|L|·|X|. The test's own product in float64 adds γ_p times the same
    // magnitude sum S. So we assert |residual| ≤ 2·(p + 2)·u·S elementwise (γ_n ≤ 1.01·n·u
    // here): rigorous, and a wrong index, term or divisor shows up some 10¹² times larger.
    const SIZES = [1, 2, 3, 4, 5, 7, 9, 31, 65, 130];

    it.each(SIZES)('p=%i: L·Lᵀ ≈ A and L·X ≈ I within the backward-error bounds', (p) => {
      for (const grade of [0, 6]) {
        const A = randomSpd(p, rng(p * 13 + grade), grade);
        const a = A.slice();
        expect(K.cholesky(a, p)).toBe(true);
        const L = lowerOf(a, p);
        for (let i = 0; i < p; i++) expect(L[i * p + i]).toBeGreaterThan(0);
        const [LLt, S] = productAbs(L, L, p, true);
        const bound = S.map((v) => 2 * (p + 2) * U * v);
        expect(worstRatio(LLt, A, bound), `L·Lᵀ p=${p} grade=${grade}`).toBeLessThanOrEqual(1);
        const X = new Float64Array(p * p).fill(NaN);
        K.triInverse(a, p, X); // a's upper triangle is A's: must not be read
        for (let i = 0; i < p; i++) for (let j = i + 1; j < p; j++) expect(Object.is(X[i * p + j], 0)).toBe(true);
        const [LX, S2] = productAbs(L, X, p, false);
        const I = new Float64Array(p * p);
        for (let i = 0; i < p; i++) I[i * p + i] = 1;
        expect(worstRatio(LX, I, S2.map((v) => 2 * (p + 2) * U * v)), `L·X p=${p} grade=${grade}`).toBeLessThanOrEqual(1);
      }
    });

    it.each(SIZES)('p=%i: the documented chains — bit for bit the plain textbook loops', (p) => {
      const A = randomSpd(p, rng(p * 17 + 1), 3);
      const a = A.slice(), b = A.slice();
      expect(K.cholesky(a, p)).toBe(true);
      expect(plainCholesky(b, p)).toBe(true);
      expect(bitsEqual(lowerOf(a, p), lowerOf(b, p)), firstBitDiff(lowerOf(a, p), lowerOf(b, p))).toBe(true);
      const X = new Float64Array(p * p);
      K.triInverse(a, p, X);
      const want = plainTriInverse(lowerOf(a, p), p);
      expect(bitsEqual(X, want), firstBitDiff(X, want)).toBe(true);
    });

    it('reads only the lower triangle and leaves the strict upper triangle alone; triInverse works in place', () => {
      for (const p of [1, 6, 9, 33]) {
        const A = randomSpd(p, rng(p), 0);
        const clean = A.slice();
        const junk = junkUpper(A.slice(), p, rng(p + 1));
        const before = junk.slice();
        expect(K.cholesky(clean, p)).toBe(true);
        expect(K.cholesky(junk, p)).toBe(true);
        for (let i = 0; i < p; i++) {
          for (let j = 0; j < p; j++) {
            const q = i * p + j;
            if (j <= i) expect(Object.is(junk[q], clean[q])).toBe(true);
            else expect(Object.is(junk[q], before[q]), `upper (${i}, ${j}) changed`).toBe(true);
          }
        }
        const X1 = new Float64Array(p * p), X2 = new Float64Array(p * p);
        K.triInverse(clean, p, X1);
        K.triInverse(junk, p, X2);
        expect(bitsEqual(X1, X2)).toBe(true);
        K.triInverse(junk, p, junk); // out = L
        expect(bitsEqual(junk, X1)).toBe(true);
      }
    });

    it('fails on matrices that are not positive definite and leaves them unchanged', () => {
      const cases: [string, number, Float64Array][] = [
        ['indefinite 2×2', 2, new Float64Array([1, 2, 2, 1])],
        ['zero', 3, new Float64Array(9)],
        ['negative first pivot', 1, new Float64Array([-1])],
        ['NaN', 2, new Float64Array([4, 0, NaN, 4])],
      ];
      // A late failure: SPD except for a negative eigenvalue in the trailing rows (rows 40…).
      const p = 47;
      const late = randomSpd(p, rng(99));
      for (let i = 40; i < p; i++) late[i * p + i] -= 50;
      cases.push(['fails at a late pivot', p, late]);
      for (const [label, m, A] of cases) {
        const a = junkUpper(A.slice(), m, rng(3));
        const before = a.slice();
        expect(K.cholesky(a, m), label).toBe(false);
        expect(bitsEqual(a, before), label).toBe(true);
      }
    });

    it('rejects bad shapes with RangeError', () => {
      expect(() => K.cholesky(new Float64Array(4), 0)).toThrow(RangeError);
      expect(() => K.cholesky(new Float64Array(4), 1.5)).toThrow(RangeError);
      expect(() => K.cholesky(new Float64Array(8), 3)).toThrow(/a has length 8, expected at least 9/);
      expect(() => K.triInverse(new Float64Array(8), 3, new Float64Array(9))).toThrow(/L has length 8/);
      expect(() => K.triInverse(new Float64Array(9), 3, new Float64Array(8))).toThrow(/out has length 8/);
      expect(() => K.triInverse(new Float64Array(9), -3, new Float64Array(9))).toThrow(RangeError);
    });
  });
});

// ---------------------------------------------------------------------------------------

describe.each(backends)('%s refinement kernels', (_name, K) => {
  // [rows, k, d, l]: rows around the batch size, small odd shapes, k = 1 and k > d.
  const CASES: [number, number, number, number][] = [
    [1, 3, 5, 7], [2, 1, 1, 1], [3, 5, 3, 2], [7, 3, 7, 5], [255, 5, 9, 3], [256, 7, 5, 9], [257, 9, 3, 5], [600, 5, 11, 7],
  ];
  const WEIGHTED: [number, number, number, number, boolean][] = CASES.flatMap((c) => [[...c, false], [...c, true]]);

  it.each(WEIGHTED)('refineVarPro and refineHessian vs naive oracles, rows=%i k=%i d=%i l=%i weighted=%s', (rows, k, d, l, weighted) => {
    const r = rng(rows * 7 + k * 131 + d * 17 + l + (weighted ? 3 : 0));
    const [n, kk, dd, ll] = [rows, k, d, l];
    const W = randArray(kk * dd, r), x = randArray(n * dd, r), y = randArray(n * ll, r);
    const rho = weighted ? randWeights(n, r) : null;
    const init = randVarProSums(kk, dd, ll, r);
    const sums = copyVarProSums(init);
    K.refineVarPro(sums, W, kk, x, y, n, dd, ll, rho);
    const o = oracleRefineVarPro(W, kk, x, y, n, dd, ll, rho);
    const extra = n + dd + (weighted ? 1 : 0);
    expectUpper(sums.rr, init.rr, plus(init.rr, o.rr[0]), bound(o.rr[1], init.rr, extra), kk);
    for (const key of ['ry', 'S1', 'S2', 'yy'] as const) {
      expect(worstRatio(sums[key], plus(init[key], o[key][0]), bound(o[key][1], init[key], extra + ll)), key).toBeLessThanOrEqual(1);
    }
    const mk = (kk * (kk + 1)) / 2, md = (dd * (dd + 1)) / 2;
    const initM = randArray(mk * md, r);
    const M = initM.slice();
    K.refineHessian(M, W, kk, x, n, dd, rho);
    const h = oracleRefineHessian(W, kk, x, n, dd, rho);
    expect(worstRatio(M, plus(initM, h.M), bound(h.S, initM, n + 1))).toBeLessThanOrEqual(1);
    // The oracle's own relative scale: errors ≲ 1e-12 of the magnitude sums.
    for (let i = 0; i < M.length; i++) expect(Math.abs(M[i] - initM[i] - h.M[i])).toBeLessThanOrEqual(1e-12 * (h.S[i] + Math.abs(initM[i])));
  });

  it.each(WEIGHTED)('follow their contract bit for bit (skipping inactive rows = the dense sums), rows=%i k=%i d=%i l=%i weighted=%s', (rows, k, d, l, weighted) => {
    const [n, kk, dd, ll] = [rows, k, d, l];
    const r = rng(n * 3 + kk * 29 + dd * 5 + ll * 11 + (weighted ? 1 : 0));
    const W = awkwardArray(kk, dd, r), x = awkwardArray(n, dd, r), y = awkwardArray(n, ll, r);
    const rho = weighted ? randWeights(n, r) : null;
    const got = randVarProSums(kk, dd, ll, r), want = copyVarProSums(got);
    const mk = (kk * (kk + 1)) / 2, md = (dd * (dd + 1)) / 2;
    const gotM = randArray(mk * md, r), wantM = gotM.slice();
    K.refineVarPro(got, W, kk, x, y, n, dd, ll, rho);
    K.refineHessian(gotM, W, kk, x, n, dd, rho);
    contractRefine(want, wantM, W, kk, x, y, n, dd, ll, rho);
    for (const key of VARPRO_KEYS) {
      if (key === 'rr') {
        expectUpper(got.rr, want.rr, want.rr, new Float64Array(kk * kk), kk); // lower triangle untouched
        const up = (a: Float64Array) => a.filter((_, t) => t % kk >= Math.floor(t / kk));
        expect(bitsEqual(up(got.rr), up(want.rr)), `rr: ${firstBitDiff(up(got.rr), up(want.rr))}`).toBe(true);
      } else {
        expect(bitsEqual(got[key], want[key]), `${key}: ${firstBitDiff(got[key], want[key])}`).toBe(true);
      }
    }
    expect(bitsEqual(gotM, wantM), `M: ${firstBitDiff(gotM, wantM)}`).toBe(true);
  });

  it.each(CASES)('refineGradient follows its contract bit for bit, rows=%i k=%i d=%i l=%i', (rows, k, d, l) => {
    const r = rng(rows * 5 + k * 31 + d * 7 + l * 3);
    const W = awkwardArray(k, d, r), A = awkwardArray(l, k, r), x = awkwardArray(rows, d, r), y = awkwardArray(rows, l, r);
    const got = randGradientSums(k, d, l, r), want = copyGradientSums(got);
    K.refineGradient(got, W, A, k, x, y, rows, d, l);
    contractGradient(want, W, A, k, x, y, rows, d, l);
    for (const key of GRADIENT_KEYS) {
      const pick = key === 'rr' ? (a: Float64Array) => a.filter((_, t) => t % k >= Math.floor(t / k)) : (a: Float64Array) => a;
      expect(bitsEqual(pick(got[key]), pick(want[key])), `${key}: ${firstBitDiff(pick(got[key]), pick(want[key]))}`).toBe(true);
    }
    // rr's lower triangle is never written.
    for (let i = 0; i < k; i++) for (let t = 0; t < i; t++) expect(Object.is(got.rr[i * k + t], want.rr[i * k + t])).toBe(true);
  });

  it('refineGradient: ee and gW are the loss and the descent gradient of ½Σ‖y − A·relu(Wx)‖² (central differences)', () => {
    const [rows, k, d, l] = [300, 3, 4, 5];
    const r = rng(4242);
    const W = randArray(k * d, r), A = randArray(l * k, r), x = randArray(rows * d, r), y = randArray(rows * l, r);
    const sumsAt = (Wt: Float64Array) => {
      const s: GradientSums = { rr: new Float64Array(k * k), ry: new Float64Array(k * l), gW: new Float64Array(k * d), ee: new Float64Array(1), yy: new Float64Array(1) };
      K.refineGradient(s, Wt, A, k, x, y, rows, d, l);
      return s;
    };
    const s = sumsAt(W);
    let yy = 0;
    for (const v of y) yy += v * v;
    expect(Math.abs(s.yy[0] - yy)).toBeLessThan(1e-12 * yy);
    // −½ dL/dW_ij by central differences (step 1e-6: truncation ~1e-12, rounding ~1e-10 of L):
    // the kernel's gW must match to 1e-6 relative, which a missing mask or a wrong sign fails by O(1).
    for (let t = 0; t < k * d; t++) {
      const h = 1e-6;
      const Wp = W.slice(), Wm = W.slice();
      Wp[t] += h;
      Wm[t] -= h;
      const fd = -(sumsAt(Wp).ee[0] - sumsAt(Wm).ee[0]) / (4 * h);
      expect(Math.abs(s.gW[t] - fd)).toBeLessThan(1e-6 * (1 + Math.abs(fd)));
    }
  });

  it('weights ≡ 1 give the unweighted bits, weights ≡ 2 exactly twice them; rows = 0 is a no-op', () => {
    const rows = 300, k = 5, d = 7, l = 3;
    const r = rng(777);
    const W = randArray(k * d, r), x = randArray(rows * d, r), y = randArray(rows * l, r);
    const ones = new Float64Array(rows).fill(1), twos = new Float64Array(rows + 3).fill(2);
    const run = (rho?: Float64Array | null) => {
      const s: VarProSums = { rr: new Float64Array(k * k), ry: new Float64Array(k * l), S1: new Float64Array(k * d * l), S2: new Float64Array(k * d * k), yy: new Float64Array(1) };
      const M = new Float64Array(15 * 28);
      K.refineVarPro(s, W, k, x, y, rows, d, l, rho);
      K.refineHessian(M, W, k, x, rows, d, rho);
      return { ...s, M };
    };
    const a = run(), b = run(null), c = run(ones), e = run(twos);
    for (const key of [...VARPRO_KEYS, 'M'] as const) {
      expect(bitsEqual(a[key], b[key]) && bitsEqual(a[key], c[key]), key).toBe(true);
      expect(bitsEqual(a[key].map((v) => 2 * v), e[key]), key).toBe(true);
    }
    const s = randVarProSums(k, d, l, r), before = copyVarProSums(s);
    K.refineVarPro(s, W, k, new Float64Array(0), new Float64Array(0), 0, d, l);
    for (const key of VARPRO_KEYS) expect(bitsEqual(s[key], before[key])).toBe(true);
  });

  it('rejects inconsistent shapes with RangeError', () => {
    const s: VarProSums = { rr: new Float64Array(4), ry: new Float64Array(6), S1: new Float64Array(2 * 3 * 3), S2: new Float64Array(2 * 3 * 2), yy: new Float64Array(1) };
    const W = new Float64Array(6), x = new Float64Array(12), y = new Float64Array(12);
    expect(() => K.refineVarPro(s, W, 2, x, y, 4, 3, 3)).not.toThrow();
    expect(() => K.refineVarPro(s, W, 2, x, y, 5, 3, 3)).toThrow(RangeError); // x too short
    expect(() => K.refineVarPro({ ...s, S2: new Float64Array(11) }, W, 2, x, y, 4, 3, 3)).toThrow(RangeError);
    expect(() => K.refineVarPro({ ...s, yy: new Float64Array(0) }, W, 2, x, y, 4, 3, 3)).toThrow(RangeError);
    expect(() => K.refineVarPro(s, W, 2, x, y, 4, 3, 3, new Float64Array(3))).toThrow(RangeError); // rho too short
    expect(() => K.refineHessian(new Float64Array(3 * 6), W, 2, x, 4, 3)).not.toThrow();
    expect(() => K.refineHessian(new Float64Array(3 * 6 - 1), W, 2, x, 4, 3)).toThrow(RangeError);
    expect(() => K.refineHessian(new Float64Array(3 * 6), W, 0, x, 4, 3)).toThrow(RangeError);
  });
});

describe('wasm and js give bitwise-identical results', () => {
  const ROWS = [1, 2, 3, 7, 255, 256, 257, 1000];
  const DIMS = [1, 2, 3, 5, 7, 9, 16, 31];
  // Each of d, l, hDim, zDim takes every value of DIMS across the 8 tuples (a Latin-style cover).
  const TUPLES = DIMS.map((_, i) => [DIMS[i], DIMS[(i + 3) % 8], DIMS[(i + 5) % 8], DIMS[(i + 6) % 8]]);

  it.each(ROWS)('moments1 and readout, rows=%i', (rows) => {
    for (const [d, l, k] of TUPLES) {
      const r = rng(rows * 1000 + d * 10 + l);
      const x = awkwardArray(rows, d, r), y = awkwardArray(rows, l, r);
      const a = randMoments1Sums(d, l), b = randMoments1Sums(d, l);
      jsKernels.moments1(a, x, y, rows, d, l);
      wasmKernels.moments1(b, x, y, rows, d, l);
      for (const key of MOMENTS1_KEYS) {
        expect(bitsEqual(a[key], b[key]), `moments1 ${key} d=${d} l=${l}: ${firstBitDiff(a[key], b[key])}`).toBe(true);
      }
      const W = awkwardArray(k, d, r);
      const ra: ReadoutSums = { rr: randArray(k * k, rng(6)), ry: randArray(k * l, rng(7)) };
      const rb: ReadoutSums = { rr: ra.rr.slice(), ry: ra.ry.slice() };
      jsKernels.readout(ra, W, k, x, y, rows, d, l);
      wasmKernels.readout(rb, W, k, x, y, rows, d, l);
      expect(bitsEqual(ra.rr, rb.rr), `readout rr k=${k}: ${firstBitDiff(ra.rr, rb.rr)}`).toBe(true);
      expect(bitsEqual(ra.ry, rb.ry), `readout ry k=${k}: ${firstBitDiff(ra.ry, rb.ry)}`).toBe(true);
    }
  });

  it.each(ROWS)('detector, rows=%i, every dims tuple, literal true and false', (rows) => {
    for (const [d, l, hDim, zDim] of TUPLES) {
      for (const literal of [false, true]) {
        const r = rng(rows * 7919 + d * 31 + l * 7 + hDim * 3 + zDim + (literal ? 1 : 0));
        const plan = planFor(d, l, hDim, zDim, literal, r);
        const x = awkwardArray(rows, d, r), y = awkwardArray(rows, l, r);
        const mh = (hDim * (hDim + 1)) / 2, mz = (zDim * (zDim + 1)) / 2;
        const T0 = randArray(mh * mz, r);
        for (const float32 of [false, true]) {
          const Ta = T0.slice(), Tb = T0.slice();
          jsKernels.detector(Ta, { ...plan, float32 }, x, y, rows);
          wasmKernels.detector(Tb, { ...plan, float32 }, x, y, rows);
          expect(bitsEqual(Ta, Tb), `d=${d} l=${l} hDim=${hDim} zDim=${zDim} literal=${literal} float32=${float32}: ${firstBitDiff(Ta, Tb)}`).toBe(true);
        }
      }
    }
  });

  it.each(ROWS)('weighted moments1 and readout (weights with zeros), rows=%i', (rows) => {
    for (const [d, l, k] of TUPLES) {
      const r = rng(rows * 1000 + d * 10 + l + 7);
      const x = awkwardArray(rows, d, r), y = awkwardArray(rows, l, r), rho = randWeights(rows, r);
      const a = randMoments1Sums(d, l), b = randMoments1Sums(d, l);
      jsKernels.moments1(a, x, y, rows, d, l, rho);
      wasmKernels.moments1(b, x, y, rows, d, l, rho);
      for (const key of MOMENTS1_KEYS) {
        expect(bitsEqual(a[key], b[key]), `moments1 ${key} d=${d} l=${l}: ${firstBitDiff(a[key], b[key])}`).toBe(true);
      }
      const W = awkwardArray(k, d, r);
      const ra: ReadoutSums = { rr: randArray(k * k, rng(6)), ry: randArray(k * l, rng(7)) };
      const rb: ReadoutSums = { rr: ra.rr.slice(), ry: ra.ry.slice() };
      jsKernels.readout(ra, W, k, x, y, rows, d, l, rho);
      wasmKernels.readout(rb, W, k, x, y, rows, d, l, rho);
      expect(bitsEqual(ra.rr, rb.rr), `readout rr k=${k}: ${firstBitDiff(ra.rr, rb.rr)}`).toBe(true);
      expect(bitsEqual(ra.ry, rb.ry), `readout ry k=${k}: ${firstBitDiff(ra.ry, rb.ry)}`).toBe(true);
    }
  });

  it.each(ROWS)('weighted detector (weights with zeros), rows=%i, every dims tuple, literal true and false', (rows) => {
    for (const [d, l, hDim, zDim] of TUPLES) {
      for (const literal of [false, true]) {
        const r = rng(rows * 7919 + d * 31 + l * 7 + hDim * 3 + zDim + (literal ? 1 : 0) + 11);
        const plan = planFor(d, l, hDim, zDim, literal, r);
        const x = awkwardArray(rows, d, r), y = awkwardArray(rows, l, r), rho = randWeights(rows, r);
        const mh = (hDim * (hDim + 1)) / 2, mz = (zDim * (zDim + 1)) / 2;
        const T0 = randArray(mh * mz, r);
        for (const float32 of [false, true]) {
          const Ta = T0.slice(), Tb = T0.slice();
          jsKernels.detector(Ta, { ...plan, float32 }, x, y, rows, rho);
          wasmKernels.detector(Tb, { ...plan, float32 }, x, y, rows, rho);
          expect(bitsEqual(Ta, Tb), `d=${d} l=${l} hDim=${hDim} zDim=${zDim} literal=${literal} float32=${float32}: ${firstBitDiff(Ta, Tb)}`).toBe(true);
        }
      }
    }
  });

  it.each([1, 2, 3, 5, 9, 16])('detectorObjectives and polish, k=%i: the same bits, and the polish lowers f', (k) => {
    const r = rng(4211 + k);
    const mz = (k * (k + 1)) / 2;
    // G = TᵀT of a random T (symmetric positive semidefinite, as the detector's), plus a
    // near-null direction, so that the polish has a minimum to approach.
    const T = randArray((mz + 3) * mz, r);
    const G = new Float64Array(mz * mz);
    for (let i = 0; i < mz; i++) for (let j = 0; j < mz; j++) { let v = 0; for (let t = 0; t < mz + 3; t++) v += T[t * mz + i] * T[t * mz + j]; G[i * mz + j] = v; }
    const count = 7;
    const U = randArray(count * k, r);
    for (let c = 0; c < count; c++) { let n = 0; for (let a = 0; a < k; a++) n += U[c * k + a] ** 2; for (let a = 0; a < k; a++) U[c * k + a] /= Math.sqrt(n); }
    const fa = jsKernels.detectorObjectives(G, k, U, count), fb = wasmKernels.detectorObjectives(G, k, U, count);
    expect(bitsEqual(fa, fb), `objectives: ${firstBitDiff(fa, fb)}`).toBe(true);
    for (const maxIter of [0, 1, 12]) {
      const Ua = U.slice(), Ub = U.slice();
      const pa = jsKernels.polish(G, k, Ua, count, maxIter), pb = wasmKernels.polish(G, k, Ub, count, maxIter);
      expect(bitsEqual(Ua, Ub), `polished directions, maxIter ${maxIter}: ${firstBitDiff(Ua, Ub)}`).toBe(true);
      expect(bitsEqual(pa, pb), `polished f, maxIter ${maxIter}: ${firstBitDiff(pa, pb)}`).toBe(true);
      // f of the result, as detectorObjectives computes it; never above the start's (backtracking).
      expect(bitsEqual(pa, jsKernels.detectorObjectives(G, k, Ua, count))).toBe(true);
      for (let c = 0; c < count; c++) expect(pa[c]).toBeLessThanOrEqual(fa[c]);
    }
    expect(() => wasmKernels.polish(G, k, U, count + 1, 12)).toThrow(RangeError);
    expect(() => jsKernels.detectorObjectives(G.subarray(1), k, U, count)).toThrow(RangeError);
  });

  // eigNonsym: the bits of ml-matrix's EigenvalueDecomposition (a port of its code), on both backends.
  function mlEig(a: Float64Array, n: number) {
    const M = new Matrix(n, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) M.set(i, j, a[i * n + j]);
    const E = new EigenvalueDecomposition(M); // as jennrich called it: no options
    const V = E.eigenvectorMatrix;
    const vectors = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) vectors[i * n + j] = V.get(i, j);
    return { re: Float64Array.from(E.realEigenvalues), im: Float64Array.from(E.imaginaryEigenvalues), vectors };
  }
  function expectEigLikeMl(a: Float64Array, n: number, what: string): Float64Array {
    const before = a.slice();
    const want = mlEig(a, n);
    for (const K of [jsKernels, wasmKernels]) {
      const got = K.eigNonsym(a, n);
      for (const key of ['re', 'im', 'vectors'] as const) {
        expect(bitsEqual(got[key], want[key]), `${what}, n=${n}, ${K.name} ${key}: ${firstBitDiff(got[key], want[key])}`).toBe(true);
      }
    }
    expect(bitsEqual(a, before), `${what}: input modified`).toBe(true);
    return want.im;
  }
  /** M₁M₂⁻¹ of random combinations of `terms` symmetric matrices Q D_j Qᵀ (a common eigenbasis), as jennrich builds it. */
  function jennrichLike(n: number, terms: number, r: () => number): Float64Array | undefined {
    const Q = randArray(n * n, r);
    const toM = (x: Float64Array) => new Matrix(Array.from({ length: n }, (_, i) => Array.from(x.subarray(i * n, (i + 1) * n))));
    const M1 = new Float64Array(n * n), M2 = new Float64Array(n * n);
    for (let t = 0; t < terms; t++) {
      const D = randArray(n, r);
      const a = r(), b = r();
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let v = 0;
          for (let c = 0; c < n; c++) v += Q[i * n + c] * D[c] * Q[j * n + c];
          M1[i * n + j] += a * v;
          M2[i * n + j] += b * v;
        }
      }
    }
    const P = toM(M1).mmul(inverse(toM(M2)));
    const p = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) p[i * n + j] = P.get(i, j);
    return p.every(Number.isFinite) ? p : undefined;
  }

  it.each([1, 2, 3, 5, 9, 16, 33])('eigNonsym, n=%i: general, symmetric and Jennrich matrices give ml-matrix\'s bits on both backends', (n) => {
    const r = rng(7717 + n);
    let complex = 0;
    for (let rep = 0; rep < 4; rep++) {
      const im = expectEigLikeMl(randArray(n * n, r), n, `random general #${rep}`);
      if (im.some((v) => v !== 0)) complex++;
      expectEigLikeMl(randomSymmetric(n, r), n, `symmetric #${rep}`); // ml-matrix's symmetric path
      const J = jennrichLike(n, Math.min(n, 6), r);
      expect(J).toBeDefined();
      expectEigLikeMl(J!, n, `Jennrich M₁M₂⁻¹ #${rep}`);
    }
    if (n >= 3) expect(complex, 'some random matrices have complex pairs').toBeGreaterThan(0);
  });

  it('eigNonsym on special matrices: complex pairs, repeated and defective eigenvalues, triangular, zero, scaled; its checks and its cap', () => {
    const rot = (t: number) => [Math.cos(t), -Math.sin(t), Math.sin(t), Math.cos(t)];
    const cases: [string, number, number[]][] = [
      ['rotation', 2, rot(0.7)],
      ['rotation by π/2', 2, [0, -1, 1, 0]],
      ['1×1 −0', 1, [-0]],
      ['2×2 with −0', 2, [-0, 0, -0, 1]],
    ];
    const square = (n: number, f: (i: number, j: number) => number): number[] => Array.from({ length: n * n }, (_, t) => f(Math.floor(t / n), t % n));
    const r = rng(99);
    // Scaled 2×2 rotations on the diagonal blocks of a random similarity: three complex pairs.
    {
      const n = 6;
      const B = new Float64Array(n * n);
      for (let b = 0; b < 3; b++) { const q = rot(0.3 + b); for (let u = 0; u < 2; u++) for (let v = 0; v < 2; v++) B[(2 * b + u) * n + 2 * b + v] = (b + 1) * q[2 * u + v]; }
      cases.push(['block rotations', n, Array.from(B)]);
      const S = Matrix.from1DArray(n, n, Array.from({ length: n * n }, (_, t) => r() + (t % (n + 1) === 0 ? 3 : 0)));
      const A = S.mmul(Matrix.from1DArray(n, n, B)).mmul(inverse(S));
      cases.push(['similar to block rotations', n, A.to1DArray()]);
    }
    for (const n of [3, 4, 5, 8]) cases.push([`cyclic permutation`, n, square(n, (i, j) => (j === (i + 1) % n ? 1 : 0))]);
    for (const n of [1, 3, 5]) cases.push(['zero', n, square(n, () => 0)]);
    for (const n of [2, 7]) cases.push(['identity', n, square(n, (i, j) => (i === j ? 1 : 0))]);
    for (const n of [4, 6]) cases.push(['diagonal ±3', n, square(n, (i, j) => (i === j ? (i < n / 2 ? 3 : -3) : 0))]);
    for (const n of [2, 4, 6]) cases.push(['Jordan block', n, square(n, (i, j) => (i === j ? 2 : j === i + 1 ? 1 : 0))]);
    for (const n of [3, 5, 9]) cases.push(['upper triangular, repeated diagonal', n, square(n, (i, j) => (j < i ? 0 : i === j ? (i % 3) + 1 : r()))]);
    for (const n of [3, 5, 9]) cases.push(['lower triangular', n, square(n, (i, j) => (j <= i ? r() : 0))]);
    cases.push(['companion of x⁵ − x⁴ − 1', 5, square(5, (i, j) => (i === 0 ? [1, 0, 0, 0, 1][j] : j === i - 1 ? 1 : 0))]);
    for (const n of [3, 6, 10]) cases.push(['small integers', n, square(n, () => Math.round(10 * r()))]);
    cases.push(['scaled 1e150', 4, square(4, () => 1e150 * r())]);
    cases.push(['scaled 1e-150', 4, square(4, () => 1e-150 * r())]);
    for (const [what, n, a] of cases) expectEigLikeMl(Float64Array.from(a), n, what);
    // The largest k of the extraction.
    expectEigLikeMl(jennrichLike(115, 6, rng(115))!, 115, 'Jennrich M₁M₂⁻¹');

    for (const K of [jsKernels, wasmKernels]) {
      expect(() => K.eigNonsym(new Float64Array(0), 0)).toThrow(RangeError); // ml-matrix: "Matrix must be non-empty"
      expect(() => K.eigNonsym(new Float64Array(3), 2)).toThrow(RangeError);
      expect(() => K.eigNonsym(Float64Array.from([1, NaN, 0, 1]), 2)).toThrow(RangeError);
      expect(() => K.eigNonsym(Float64Array.from([1, 0, Infinity, 1]), 2)).toThrow(RangeError);
      // Finite, but overflowing to Inf/NaN inside: ml-matrix's hqr2 loops forever on it (not run
      // here); the kernel gives up after its iteration cap.
      const huge = Float64Array.from([1.7, -1.5, 1.6, 1.2, -1.1, 1.7, 0.5, 1.3, 1.4, -1.2, 1.1, 0.9, 1.0, 1.5, -1.6, 1.7].map((v) => v * 1e308));
      expect(() => K.eigNonsym(huge, 4)).toThrow(PureneuronError);
    }
  });

  it.each(ROWS)('robustWeights, and robustWeighting gives the learner\'s formula, rows=%i', (rows) => {
    for (const d of DIMS) {
      const r = rng(rows * 31 + d);
      const x = awkwardArray(rows, d, r);
      const inv = randArray(d, r, 2);
      inv[0] = 0;
      const a = new Float64Array(rows), b = new Float64Array(rows);
      jsKernels.robustWeights(a, x, rows, d, inv, 1 / (1.5 * d));
      wasmKernels.robustWeights(b, x, rows, d, inv, 1 / (1.5 * d));
      expect(bitsEqual(a, b), `d=${d}: ${firstBitDiff(a, b)}`).toBe(true);
      // robustWeighting (what the passes hand the kernels): the formula the learner always used.
      const chunk = { x, y: new Float64Array(rows), rows };
      const w = weightingFromChunk(chunk, d, 1.5);
      const rw = robustWeighting(w, d, rows);
      wasmKernels.robustWeights(rw.out, x, rows, d, rw.invScale, rw.denom);
      const want = naiveRobustWeights(x, rows, d, Float64Array.from(w.scales, (s) => (s > 0 ? 1 / s : 0)), 1 / (1.5 * d));
      expect(bitsEqual(rw.out, want)).toBe(true);
    }
  });

  it.each(ROWS)('moments1 with odd-moment sums, and every weighted kernel with a RobustWeighting, rows=%i', (rows) => {
    for (const [d, l, hDim, zDim] of TUPLES) {
      const r = rng(rows * 37 + d);
      const x = awkwardArray(rows, d, r), y = awkwardArray(rows, l, r);
      const inv = randArray(d, r, 2);
      inv[0] = 0;
      const denom = 1 / (1.5 * d);
      const rws = () => [robustWeightingFor(rows, inv, denom), robustWeightingFor(rows, inv, denom)];
      for (const weighted of [undefined, randWeights(rows, r), 'robust'] as const) {
        const [ra, rb] = weighted === 'robust' ? rws() : [weighted, weighted];
        const a = randMoments1Sums(d, l, true), b = randMoments1Sums(d, l, true);
        jsKernels.moments1(a, x, y, rows, d, l, ra);
        wasmKernels.moments1(b, x, y, rows, d, l, rb);
        for (const key of [...MOMENTS1_KEYS, 'odd'] as const) {
          expect(bitsEqual(a[key]!, b[key]!), `moments1 ${key} d=${d} l=${l} weights=${weighted && 'given'}: ${firstBitDiff(a[key]!, b[key]!)}`).toBe(true);
        }
        if (weighted === 'robust') expect(bitsEqual((ra as RobustWeighting).out, (rb as RobustWeighting).out)).toBe(true);
      }
      const [wa, wb] = rws();
      const plan = planFor(d, l, hDim, zDim, false, r);
      const mh = (hDim * (hDim + 1)) / 2, mz = (zDim * (zDim + 1)) / 2;
      const Ta = randArray(mh * mz, r), Tb = Ta.slice();
      jsKernels.detector(Ta, plan, x, y, rows, wa);
      wasmKernels.detector(Tb, plan, x, y, rows, wb);
      expect(bitsEqual(Ta, Tb) && bitsEqual(wa.out, wb.out), `detector d=${d} l=${l}: ${firstBitDiff(Ta, Tb)}`).toBe(true);
      const [va, vb] = rws();
      const k = hDim, W = awkwardArray(k, d, r);
      const sa: ReadoutSums = { rr: randArray(k * k, r), ry: randArray(k * l, r) };
      const sb: ReadoutSums = { rr: sa.rr.slice(), ry: sa.ry.slice() };
      jsKernels.readout(sa, W, k, x, y, rows, d, l, va);
      wasmKernels.readout(sb, W, k, x, y, rows, d, l, vb);
      expect(bitsEqual(sa.rr, sb.rr) && bitsEqual(sa.ry, sb.ry) && bitsEqual(va.out, vb.out), `readout d=${d} k=${k}`).toBe(true);
    }
  });

  it('detector at hDim = zDim = 31 (496 features each), rows=1000', () => {
    const r = rng(31);
    const plan = planFor(31, 31, 31, 31, false, r);
    const x = randArray(1000 * 31, r), y = randArray(1000 * 31, r);
    const Ta = new Float64Array(496 * 496), Tb = new Float64Array(496 * 496);
    jsKernels.detector(Ta, plan, x, y, 1000);
    wasmKernels.detector(Tb, plan, x, y, 1000);
    expect(bitsEqual(Ta, Tb), firstBitDiff(Ta, Tb)).toBe(true);
  });

  it.each([1, 2, 3, 7, 255, 256, 257, 600])('refineVarPro and refineHessian, with and without weights, rows=%i', (rows) => {
    // (k, d, l): small and odd, k = 1, k > d, and one case with more than one panel everywhere.
    for (const [k, d, l] of [[1, 1, 1], [3, 5, 7], [5, 3, 2], [7, 9, 5], [2, 7, 3], [9, 13, 11]]) {
      for (const weighted of [false, true, 'robust'] as const) {
        const r = rng(rows * 101 + k * 13 + d * 7 + l + (weighted ? 5 : 0));
        const W = awkwardArray(k, d, r), x = awkwardArray(rows, d, r), y = awkwardArray(rows, l, r);
        // 'robust': one RobustWeighting object for both backends (each overwrites out with the same ρ).
        const rho = weighted === 'robust' ? robustWeightingFor(rows, randArray(d, r, 2), 1 / d) : weighted ? randWeights(rows, r) : null;
        const a = randVarProSums(k, d, l, r), b = copyVarProSums(a);
        jsKernels.refineVarPro(a, W, k, x, y, rows, d, l, rho);
        wasmKernels.refineVarPro(b, W, k, x, y, rows, d, l, rho);
        for (const key of VARPRO_KEYS) expect(bitsEqual(a[key], b[key]), `${key} k=${k} d=${d} l=${l} w=${weighted}: ${firstBitDiff(a[key], b[key])}`).toBe(true);
        const Ma = randArray(((k * (k + 1)) / 2) * ((d * (d + 1)) / 2), r), Mb = Ma.slice();
        jsKernels.refineHessian(Ma, W, k, x, rows, d, rho);
        wasmKernels.refineHessian(Mb, W, k, x, rows, d, rho);
        expect(bitsEqual(Ma, Mb), `M k=${k} d=${d} w=${weighted}: ${firstBitDiff(Ma, Mb)}`).toBe(true);
      }
    }
  });

  it.each([1, 2, 3, 7, 255, 256, 257, 600])('refineGradient, rows=%i', (rows) => {
    for (const [k, d, l] of [[1, 1, 1], [3, 5, 7], [5, 3, 2], [7, 9, 5], [2, 7, 3], [9, 13, 11]]) {
      const r = rng(rows * 103 + k * 17 + d * 5 + l);
      const W = awkwardArray(k, d, r), A = awkwardArray(l, k, r), x = awkwardArray(rows, d, r), y = awkwardArray(rows, l, r);
      const a = randGradientSums(k, d, l, r), b = copyGradientSums(a);
      jsKernels.refineGradient(a, W, A, k, x, y, rows, d, l);
      wasmKernels.refineGradient(b, W, A, k, x, y, rows, d, l);
      for (const key of GRADIENT_KEYS) expect(bitsEqual(a[key], b[key]), `${key} k=${k} d=${d} l=${l}: ${firstBitDiff(a[key], b[key])}`).toBe(true);
    }
  });

  it('gram: exactly the contract on both backends (per batch from +0 in row order, added once), the strict lower triangle untouched', () => {
    for (const rows of [0, 1, 3, 255, 256, 257, 600]) {
      for (const cols of [1, 2, 3, 5, 9, 31, 66]) {
        const r = rng(rows * 100 + cols);
        const a = awkwardArray(rows, cols, r);
        const G0 = randArray(cols * cols, r);
        const want = G0.slice();
        for (let r0 = 0; r0 < rows; r0 += 256) {
          const nb = Math.min(256, rows - r0);
          for (let i = 0; i < cols; i++) {
            for (let j = i; j < cols; j++) {
              let sum = 0;
              for (let t = r0; t < r0 + nb; t++) sum += a[t * cols + i] * a[t * cols + j];
              want[i * cols + j] += sum;
            }
          }
        }
        for (const K of [jsKernels, wasmKernels]) {
          const G = G0.slice();
          K.gram(G, a, rows, cols);
          expect(bitsEqual(G, want), `${K.name} rows=${rows} cols=${cols}: ${firstBitDiff(G, want)}`).toBe(true);
        }
      }
    }
    for (const K of [jsKernels, wasmKernels]) {
      expect(() => K.gram(new Float64Array(3), new Float64Array(4), 2, 2)).toThrow(RangeError);
      expect(() => K.gram(new Float64Array(4), new Float64Array(3), 2, 2)).toThrow(RangeError);
    }
  });

  it('symEig', () => {
    for (const [m, seed] of [[1, 1], [2, 2], [3, 3], [17, 4], [64, 5], [300, 6]]) {
      const a = randomSymmetric(m, rng(seed));
      const p = jsKernels.symEig(a, m), q = wasmKernels.symEig(a, m);
      expect(bitsEqual(p.values, q.values), `values m=${m}: ${firstBitDiff(p.values, q.values)}`).toBe(true);
      expect(bitsEqual(p.vectors, q.vectors), `vectors m=${m}: ${firstBitDiff(p.vectors, q.vectors)}`).toBe(true);
    }
    const a = withSpectrum([1, 1, 1, 2, 2, -4, 0, 0], rng(8));
    const p = jsKernels.symEig(a, 8), q = wasmKernels.symEig(a, 8);
    expect(bitsEqual(p.values, q.values) && bitsEqual(p.vectors, q.vectors)).toBe(true);
  });

  it('cholesky and triInverse, junk in the unread upper triangle, non-finite and failing inputs', () => {
    for (const p of [1, 2, 3, 7, 9, 31, 65, 130, 512]) {
      for (const grade of [0, 8]) {
        const A = junkUpper(randomSpd(p, rng(p * 3 + grade), grade), p, rng(p));
        const a = A.slice(), b = A.slice();
        expect(jsKernels.cholesky(a, p)).toBe(true);
        expect(wasmKernels.cholesky(b, p)).toBe(true);
        expect(bitsEqual(a, b), `cholesky p=${p}: ${firstBitDiff(a, b)}`).toBe(true);
        const X = randArray(p * p, rng(1)), Y = randArray(p * p, rng(2));
        jsKernels.triInverse(a, p, X);
        wasmKernels.triInverse(b, p, Y);
        expect(bitsEqual(X, Y), `triInverse p=${p}: ${firstBitDiff(X, Y)}`).toBe(true);
      }
    }
    // triInverse on awkward L: a zero and a negative diagonal entry, an infinite and a NaN
    // entry below the diagonal (the extra zero terms of the 4-column groups then give NaN or
    // −0, and both backends must give the same ones).
    for (const p of [5, 9, 31]) {
      const L = lowerOf(randomSpd(p, rng(p), 0), p);
      L[2 * p + 2] = 0;
      L[(p - 2) * p + p - 2] = -3;
      L[(p - 1) * p + 1] = Infinity;
      L[4 * p + 3] = NaN;
      const X = new Float64Array(p * p), Y = new Float64Array(p * p);
      jsKernels.triInverse(L, p, X);
      wasmKernels.triInverse(L, p, Y);
      expect(bitsEqual(X, Y), `awkward triInverse p=${p}: ${firstBitDiff(X, Y)}`).toBe(true);
    }
    // Failing factors: both report false at the same pivot and leave the input alone.
    for (const p of [6, 65]) {
      const A = randomSpd(p, rng(p));
      A[(p - 3) * p + p - 3] = -1;
      const a = A.slice(), b = A.slice();
      expect(jsKernels.cholesky(a, p)).toBe(false);
      expect(wasmKernels.cholesky(b, p)).toBe(false);
      expect(bitsEqual(a, A) && bitsEqual(b, A)).toBe(true);
    }
  });
});

describe('wasm memory', () => {
  const K = wasmKernels as Kernels & { memoryBytes(): number };

  it('grows when a call needs more than it has, and results stay right (views re-created)', () => {
    // 3 × 1100² doubles of sums alone exceed the 32 MiB initial memory: forces memory.grow.
    const d = 1100, l = 1100, rows = 3;
    const r = rng(11);
    const x = randArray(rows * d, r), y = randArray(rows * l, r);
    const mk = (): Moments1Sums => ({ xx: new Float64Array(d * d), yx: new Float64Array(l * d), yy: new Float64Array(l * l), xs: new Float64Array(d), ys: new Float64Array(l) });
    const before = K.memoryBytes();
    const a = mk(), b = mk();
    K.moments1(a, x, y, rows, d, l);
    jsKernels.moments1(b, x, y, rows, d, l);
    expect(K.memoryBytes()).toBeGreaterThan(before);
    for (const key of ['xx', 'yx', 'yy', 'xs', 'ys'] as const) expect(bitsEqual(a[key], b[key])).toBe(true);
    // And a small call right after still reads and writes through a valid view.
    const T1 = new Float64Array(6 * 3), T2 = new Float64Array(6 * 3);
    const plan = planFor(4, 3, 3, 2, false, r);
    const x2 = randArray(50 * 4, r), y2 = randArray(50 * 3, r);
    K.detector(T1, plan, x2, y2, 50);
    jsKernels.detector(T2, plan, x2, y2, 50);
    expect(bitsEqual(T1, T2)).toBe(true);
  });

  it('does not grow over 1000 consecutive calls', () => {
    const r = rng(3);
    const plan = planFor(32, 32, 16, 16, false, r);
    const x = randArray(300 * 32, r), y = randArray(300 * 32, r);
    const T = new Float64Array(136 * 136);
    const sums: Moments1Sums = { xx: new Float64Array(32 * 32), yx: new Float64Array(32 * 32), yy: new Float64Array(32 * 32), xs: new Float64Array(32), ys: new Float64Array(32) };
    const rs: ReadoutSums = { rr: new Float64Array(256), ry: new Float64Array(16 * 32) };
    const W = randArray(16 * 32, r);
    const a = randomSymmetric(40, r);
    const rho = randWeights(300, r), inv = randArray(32, r), out = new Float64Array(300);
    const round = (i: number) => {
      const rows = 1 + (i % 300); // varying sizes
      const w = i % 2 ? rho : null; // weighted calls lay out more buffers
      K.detector(T, plan, x, y, rows, w);
      K.moments1(sums, x, y, rows, 32, 32, w);
      K.readout(rs, W, 16, x, y, rows, 32, 32, w);
      K.robustWeights(out, x, rows, 32, inv, 1 / 32);
      if (i % 50 === 0) K.symEig(a, 40);
    };
    round(299);
    round(298);
    const before = K.memoryBytes();
    for (let i = 0; i < 1000; i++) round(i);
    expect(K.memoryBytes()).toBe(before);
  });
});

describe('backend selection', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  it('probes SIMD synchronously and picks wasm for auto on Node 20', async () => {
    vi.stubEnv('PURENEURON_BACKEND', '');
    expect(simdSupported()).toBe(true);
    expect((await getKernels()).name).toBe('wasm');
    expect((await getKernels('js')).name).toBe('js');
    expect((await getKernels('wasm')).name).toBe('wasm');
  });

  it('honours and validates PURENEURON_BACKEND for auto only', async () => {
    vi.stubEnv('PURENEURON_BACKEND', 'js');
    expect((await getKernels('auto')).name).toBe('js');
    expect((await getKernels('wasm')).name).toBe('wasm'); // an explicit choice wins
    vi.stubEnv('PURENEURON_BACKEND', 'WASM');
    expect((await getKernels()).name).toBe('wasm');
    vi.stubEnv('PURENEURON_BACKEND', 'gpu');
    await expect(getKernels()).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(getKernels('fast' as never)).rejects.toBeInstanceOf(PureneuronError);
  });

  it('falls back silently for auto and refuses forced wasm when SIMD is unavailable', async () => {
    vi.stubEnv('PURENEURON_BACKEND', '');
    const real = (globalThis as unknown as Record<string, Record<string, unknown>>).WebAssembly;
    vi.stubGlobal('WebAssembly', { ...real, validate: () => false });
    vi.resetModules();
    const fresh = await import('../src/kernels/select.js');
    expect(fresh.simdSupported()).toBe(false);
    expect((await fresh.getKernels('auto')).name).toBe('js');
    await expect(fresh.getKernels('wasm')).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
  });
});
