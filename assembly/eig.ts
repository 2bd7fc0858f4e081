// Symmetric eigensolver (JAMA tred2/tql2), the exact twin of src/kernels/js/eig.ts: the same
// IEEE operations in the same order, so both backends return the same bits. See that file's
// header for the deviations from JAMA (transposed storage, 4-way dot products, own hypot,
// iteration cap). SIMD is used only where lanes are independent outputs (axpy updates and
// the QL rotations) and for dot4, whose lanes are exactly the JS twin's partial sums
// (s0, s1) and (s2, s3).

import { hypot, ld, st } from './scalar';

// @ts-ignore: decorator
@inline const EPS: f64 = 2.220446049250313e-16; // 2^-52
// @ts-ignore: decorator
@inline const ITER_CAP: i32 = 60;

// @ts-ignore: decorator
@inline function vld(p: usize, i: i32): v128 { return v128.load(p + (<usize>i << 3)); }
// @ts-ignore: decorator
@inline function vst(p: usize, i: i32, v: v128): void { v128.store(p + (<usize>i << 3), v); }

/** Σ_{t<n} x[t]·y[t], partial sums s0..s3 by t mod 4, result (s0 + s1) + (s2 + s3). */
function dot4(x: usize, y: usize, n: i32): f64 {
  let a01 = f64x2.splat(0.0);
  let a23 = f64x2.splat(0.0);
  let t = 0;
  for (; t + 4 <= n; t += 4) {
    a01 = f64x2.add(a01, f64x2.mul(vld(x, t), vld(y, t)));
    a23 = f64x2.add(a23, f64x2.mul(vld(x, t + 2), vld(y, t + 2)));
  }
  if (t + 2 <= n) {
    a01 = f64x2.add(a01, f64x2.mul(vld(x, t), vld(y, t)));
    t += 2;
  }
  let s0 = f64x2.extract_lane(a01, 0);
  if (t < n) s0 = s0 + ld(x, t) * ld(y, t);
  return (s0 + f64x2.extract_lane(a01, 1)) + (f64x2.extract_lane(a23, 0) + f64x2.extract_lane(a23, 1));
}

/**
 * Eigendecomposition of the symmetric m×m matrix at `a` (row-major; only j ≥ i is read).
 * Out: `d` (m doubles) eigenvalues ascending; `W` (m·m doubles) eigenvector j in *row* j
 * (the glue transposes it); `e` (m doubles) work. Returns 1 on success, 0 when the QL
 * iteration hit its cap. Buffers must not overlap; `a` is not modified.
 */
export function symEig(a: usize, m: i32, W: usize, d: usize, e: usize): i32 {
  const n = m;
  if (n == 0) return 1;
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const v = ld(a, i * n + j);
      st(W, i * n + j, v);
      st(W, j * n + i, v);
    }
  }
  tred2(n, W, d, e);
  return tql2(n, W, d, e);
}

/** W[b·n + a] ≡ JAMA's V[a][b]. */
function tred2(n: i32, W: usize, d: usize, e: usize): void {
  for (let j = 0; j < n; j++) st(d, j, ld(W, j * n + n - 1));
  for (let i = n - 1; i > 0; i--) {
    let scale = 0.0;
    let h = 0.0;
    for (let k = 0; k < i; k++) scale = scale + abs(ld(d, k));
    if (scale == 0.0) {
      st(e, i, ld(d, i - 1));
      for (let j = 0; j < i; j++) {
        st(d, j, ld(W, j * n + i - 1));
        st(W, j * n + i, 0.0);
        st(W, i * n + j, 0.0);
      }
    } else {
      for (let k = 0; k < i; k++) st(d, k, ld(d, k) / scale);
      h = dot4(d, d, i);
      let f = ld(d, i - 1);
      let g = sqrt(h);
      if (f > 0.0) g = -g;
      st(e, i, scale * g);
      h = h - f * g;
      st(d, i - 1, f - g);
      for (let j = 0; j < i; j++) st(e, j, 0.0);
      for (let j = 0; j < i; j++) {
        f = ld(d, j);
        st(W, i * n + j, f);
        const row = W + (<usize>(j * n) << 3);
        g = ld(e, j) + ld(row, j) * f + dot4(row + (<usize>(j + 1) << 3), d + (<usize>(j + 1) << 3), i - j - 1);
        // e[k] += V[k][j]·f for k in (j, i): lane-independent
        let k = j + 1;
        const fv = f64x2.splat(f);
        for (; k + 2 <= i; k += 2) vst(e, k, f64x2.add(vld(e, k), f64x2.mul(vld(row, k), fv)));
        if (k < i) st(e, k, ld(e, k) + ld(row, k) * f);
        st(e, j, g);
      }
      for (let j = 0; j < i; j++) st(e, j, ld(e, j) / h);
      f = dot4(e, d, i);
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) st(e, j, ld(e, j) - hh * ld(d, j));
      for (let j = 0; j < i; j++) {
        f = ld(d, j);
        g = ld(e, j);
        const row = W + (<usize>(j * n) << 3);
        const fv = f64x2.splat(f);
        const gv = f64x2.splat(g);
        let k = j;
        for (; k + 2 <= i; k += 2) {
          vst(row, k, f64x2.sub(vld(row, k), f64x2.add(f64x2.mul(fv, vld(e, k)), f64x2.mul(gv, vld(d, k)))));
        }
        if (k < i) st(row, k, ld(row, k) - (f * ld(e, k) + g * ld(d, k)));
        st(d, j, ld(row, i - 1));
        st(row, i, 0.0);
      }
    }
    st(d, i, h);
  }
  for (let i = 0; i < n - 1; i++) {
    st(W, i * n + n - 1, ld(W, i * n + i));
    st(W, i * n + i, 1.0);
    const h = ld(d, i + 1);
    const q = W + (<usize>((i + 1) * n) << 3);
    if (h != 0.0) {
      for (let k = 0; k <= i; k++) st(d, k, ld(q, k) / h);
      for (let j = 0; j <= i; j++) {
        const row = W + (<usize>(j * n) << 3);
        const g = dot4(q, row, i + 1);
        const gv = f64x2.splat(g);
        let k = 0;
        for (; k + 2 <= i + 1; k += 2) vst(row, k, f64x2.sub(vld(row, k), f64x2.mul(gv, vld(d, k))));
        if (k <= i) st(row, k, ld(row, k) - g * ld(d, k));
      }
    }
    for (let k = 0; k <= i; k++) st(q, k, 0.0);
  }
  for (let j = 0; j < n; j++) {
    st(d, j, ld(W, j * n + n - 1));
    st(W, j * n + n - 1, 0.0);
  }
  st(W, (n - 1) * n + n - 1, 1.0);
  st(e, 0, 0.0);
}

function tql2(n: i32, W: usize, d: usize, e: usize): i32 {
  for (let i = 1; i < n; i++) st(e, i - 1, ld(e, i));
  st(e, n - 1, 0.0);
  let f = 0.0;
  let tst1 = 0.0;
  for (let l = 0; l < n; l++) {
    const t = abs(ld(d, l)) + abs(ld(e, l));
    if (t > tst1) tst1 = t;
    let m = l;
    while (m < n) {
      if (abs(ld(e, m)) <= EPS * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > ITER_CAP) return 0;
        let g = ld(d, l);
        let p = (ld(d, l + 1) - g) / (2.0 * ld(e, l));
        let r = hypot(p, 1.0);
        if (p < 0.0) r = -r;
        st(d, l, ld(e, l) / (p + r));
        st(d, l + 1, ld(e, l) * (p + r));
        const dl1 = ld(d, l + 1);
        let h = g - ld(d, l);
        for (let i = l + 2; i < n; i++) st(d, i, ld(d, i) - h);
        f = f + h;
        p = ld(d, m);
        let c = 1.0;
        let c2 = c;
        let c3 = c;
        const el1 = ld(e, l + 1);
        let s = 0.0;
        let s2 = 0.0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * ld(e, i);
          h = c * p;
          r = hypot(p, ld(e, i));
          st(e, i + 1, s * r);
          s = ld(e, i) / r;
          c = p / r;
          p = c * ld(d, i) - s * g;
          st(d, i + 1, h + s * (c * g + s * ld(d, i)));
          rotate(W + (<usize>(i * n) << 3), W + (<usize>((i + 1) * n) << 3), n, c, s);
        }
        p = (((-s * s2) * c3) * el1) * ld(e, l) / dl1;
        st(e, l, s * p);
        st(d, l, c * p);
      } while (abs(ld(e, l)) > EPS * tst1);
    }
    st(d, l, ld(d, l) + f);
    st(e, l, 0.0);
  }
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    let p = ld(d, i);
    for (let j = i + 1; j < n; j++) {
      if (ld(d, j) < p) {
        k = j;
        p = ld(d, j);
      }
    }
    if (k != i) {
      st(d, k, ld(d, i));
      st(d, i, p);
      const ri = W + (<usize>(i * n) << 3);
      const rk = W + (<usize>(k * n) << 3);
      for (let j = 0; j < n; j++) {
        const t = ld(ri, j);
        st(ri, j, ld(rk, j));
        st(rk, j, t);
      }
    }
  }
  return 1;
}

/** Rows (v, h) ← (c·v − s·h, s·v + c·h) element-wise (JAMA's V columns i, i+1). */
function rotate(v: usize, h: usize, n: i32, c: f64, s: f64): void {
  const cv = f64x2.splat(c);
  const sv = f64x2.splat(s);
  let k = 0;
  for (; k + 2 <= n; k += 2) {
    const hk = vld(h, k);
    const vk = vld(v, k);
    vst(h, k, f64x2.add(f64x2.mul(sv, vk), f64x2.mul(cv, hk)));
    vst(v, k, f64x2.sub(f64x2.mul(cv, vk), f64x2.mul(sv, hk)));
  }
  if (k < n) {
    const hk = ld(h, k);
    const vk = ld(v, k);
    st(h, k, s * vk + c * hk);
    st(v, k, c * vk - s * hk);
  }
}

/** out[i·m + j] = src[j·m + i]: eigenvector rows to columns (the Kernels output layout). */
export function transpose(out: usize, src: usize, m: i32): void {
  for (let j = 0; j < m; j++) {
    const row = src + (<usize>(j * m) << 3);
    for (let i = 0; i < m; i++) st(out, i * m + j, ld(row, i));
  }
}
