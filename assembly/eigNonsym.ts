// The general (nonsymmetric) eigendecomposition: a statement-for-statement port of ml-matrix's
// `new EigenvalueDecomposition(matrix)` (ml-matrix 6.15.1, src/dc/evd.js and src/dc/util.js; MIT
// License, Copyright (c) 2014 Michaël Zasso; derived from JAMA, public domain), scalar f64 code
// compiled ahead of time. Why: in a fresh process ml-matrix's JS runs cold in V8's lower tiers,
// where it took ~15–45 ms of the extraction's Jennrich step (8 k×k matrices, k = 16 typically);
// this code takes < 5 ms for the same calls. Twin: src/kernels/js/eigNonsym.ts, statement for
// statement (the same IEEE operations in the same order: Math.abs/sqrt/max ≡ f64 abs/sqrt/max,
// Number.EPSILON ≡ 2^-52), so both give ml-matrix's bits; see that file's header for the only
// deviations (an iteration cap where ml-matrix would loop forever, failure where it would throw).
// Definition: Kernels.eigNonsym.
//
// Layouts: a, V, H n×n row-major, X(i, j) at X[i·n + j] exactly as ml-matrix's Matrix get(i, j);
// d, e, ort n doubles. An exactly symmetric `a` takes ml-matrix's symmetric path (tred2/tql2, V
// held transposed and transposed back in place), any other orthes/hqr2 (H and ort scratch).

import { hypot, ld, st } from './scalar';

// @ts-ignore: decorator
@inline const EPS: f64 = 2.220446049250313e-16; // Number.EPSILON = 2^-52
// @ts-ignore: decorator
@inline const EIG_NONSYM_ITER_CAP: i32 = 1000; // EIG_NONSYM_ITER_CAP in src/kernels/types.ts

/**
 * Eigendecomposition of the n×n matrix at `a` (n ≥ 1, finite; not modified). Out: d (n) the real
 * parts, e (n) the imaginary parts, V (n·n) the eigenvector matrix (ml-matrix's realEigenvalues,
 * imaginaryEigenvalues, eigenvectorMatrix). H (n·n) and ort (n): scratch. Returns 1 on success,
 * 0 when an eigenvalue took more than EIG_NONSYM_ITER_CAP iterations (or, symmetric path, no
 * negligible off-diagonal was found: NaN). Buffers must not overlap.
 */
export function eigNonsym(a: usize, n: i32, V: usize, d: usize, e: usize, H: usize, ort: usize): i32 {
  let i: i32, j: i32;
  memory.fill(V, 0, <usize>n * n << 3); // new Matrix(n, n)
  memory.fill(d, 0, <usize>n << 3);
  memory.fill(e, 0, <usize>n << 3);
  if (isSymmetric(a, n)) {
    for (i = 0; i < n; i++) {
      for (j = 0; j < n; j++) {
        st(V, j * n + i, ld(a, i * n + j));
      }
    }
    tred2(n, e, d, V);
    if (!tql2(n, e, d, V)) return 0;
    transposeSquareInPlace(V, n);
  } else {
    memory.fill(ort, 0, <usize>n << 3);
    for (j = 0; j < n; j++) {
      for (i = 0; i < n; i++) {
        st(H, i * n + j, ld(a, i * n + j));
      }
    }
    orthes(n, H, ort, V);
    if (!hqr2(n, e, d, V, H)) return 0;
  }
  return 1;
}

/** ml-matrix's AbstractMatrix.isSymmetric (square here): a[i][j] === a[j][i] for all j ≤ i. */
function isSymmetric(a: usize, n: i32): bool {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      if (ld(a, i * n + j) != ld(a, j * n + i)) {
        return false;
      }
    }
  }
  return true;
}

function transposeSquareInPlace(V: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const tmp = ld(V, i * n + j);
      st(V, i * n + j, ld(V, j * n + i));
      st(V, j * n + i, tmp);
    }
  }
}

function tred2(n: i32, e: usize, d: usize, V: usize): void {
  let f: f64, g: f64, h: f64, hh: f64, scale: f64;
  let i: i32, j: i32, k: i32;

  for (j = 0; j < n; j++) {
    st(d, j, ld(V, j * n + n - 1));
  }

  for (i = n - 1; i > 0; i--) {
    scale = 0;
    h = 0;
    for (k = 0; k < i; k++) {
      scale = scale + abs(ld(d, k));
    }

    if (scale == 0) {
      st(e, i, ld(d, i - 1));
      for (j = 0; j < i; j++) {
        st(d, j, ld(V, j * n + i - 1));
        st(V, j * n + i, 0);
        st(V, i * n + j, 0);
      }
    } else {
      for (k = 0; k < i; k++) {
        st(d, k, ld(d, k) / scale);
        h += ld(d, k) * ld(d, k);
      }

      f = ld(d, i - 1);
      g = sqrt(h);
      if (f > 0) {
        g = -g;
      }

      st(e, i, scale * g);
      h = h - f * g;
      st(d, i - 1, f - g);
      for (j = 0; j < i; j++) {
        st(e, j, 0);
      }

      for (j = 0; j < i; j++) {
        f = ld(d, j);
        st(V, i * n + j, f);
        g = ld(e, j) + ld(V, j * n + j) * f;
        for (k = j + 1; k <= i - 1; k++) {
          g += ld(V, j * n + k) * ld(d, k);
          st(e, k, ld(e, k) + ld(V, j * n + k) * f);
        }
        st(e, j, g);
      }

      f = 0;
      for (j = 0; j < i; j++) {
        st(e, j, ld(e, j) / h);
        f += ld(e, j) * ld(d, j);
      }

      hh = f / (h + h);
      for (j = 0; j < i; j++) {
        st(e, j, ld(e, j) - hh * ld(d, j));
      }

      for (j = 0; j < i; j++) {
        f = ld(d, j);
        g = ld(e, j);
        for (k = j; k <= i - 1; k++) {
          st(V, j * n + k, ld(V, j * n + k) - (f * ld(e, k) + g * ld(d, k)));
        }
        st(d, j, ld(V, j * n + i - 1));
        st(V, j * n + i, 0);
      }
    }
    st(d, i, h);
  }

  for (i = 0; i < n - 1; i++) {
    st(V, i * n + n - 1, ld(V, i * n + i));
    st(V, i * n + i, 1);
    h = ld(d, i + 1);
    if (h != 0) {
      for (k = 0; k <= i; k++) {
        st(d, k, ld(V, (i + 1) * n + k) / h);
      }

      for (j = 0; j <= i; j++) {
        g = 0;
        for (k = 0; k <= i; k++) {
          g += ld(V, (i + 1) * n + k) * ld(V, j * n + k);
        }
        for (k = 0; k <= i; k++) {
          st(V, j * n + k, ld(V, j * n + k) - g * ld(d, k));
        }
      }
    }

    for (k = 0; k <= i; k++) {
      st(V, (i + 1) * n + k, 0);
    }
  }

  for (j = 0; j < n; j++) {
    st(d, j, ld(V, j * n + n - 1));
    st(V, j * n + n - 1, 0);
  }

  st(V, (n - 1) * n + n - 1, 1);
  st(e, 0, 0);
}

/** false: an eigenvalue took more than EIG_NONSYM_ITER_CAP iterations, or no negligible ld(e, m) (NaN). */
function tql2(n: i32, e: usize, d: usize, V: usize): bool {
  let g: f64, h: f64, p: f64, r: f64, dl1: f64, c: f64, c2: f64, c3: f64, el1: f64, s: f64, s2: f64;
  let i: i32, k: i32, l: i32, m: i32, iter: i32;

  for (i = 1; i < n; i++) {
    st(e, i - 1, ld(e, i));
  }

  st(e, n - 1, 0);

  let f: f64 = 0.0;
  let tst1: f64 = 0.0;
  const eps = EPS;

  for (l = 0; l < n; l++) {
    tst1 = max<f64>(tst1, abs(ld(d, l)) + abs(ld(e, l)));
    m = l;
    while (m < n) {
      if (abs(ld(e, m)) <= eps * tst1) {
        break;
      }
      m++;
    }
    if (m == n) return false; // ml-matrix: a TypeError further on (V.get(n, 0))

    if (m > l) {
      iter = 0;
      do {
        iter = iter + 1;
        if (iter > EIG_NONSYM_ITER_CAP) return false;

        g = ld(d, l);
        p = (ld(d, l + 1) - g) / (2.0 * ld(e, l));
        r = hypot(p, 1);
        if (p < 0) {
          r = -r;
        }

        st(d, l, ld(e, l) / (p + r));
        st(d, l + 1, ld(e, l) * (p + r));
        dl1 = ld(d, l + 1);
        h = g - ld(d, l);
        for (i = l + 2; i < n; i++) {
          st(d, i, ld(d, i) - h);
        }

        f = f + h;

        p = ld(d, m);
        c = 1;
        c2 = c;
        c3 = c;
        el1 = ld(e, l + 1);
        s = 0;
        s2 = 0;
        for (i = m - 1; i >= l; i--) {
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

          for (k = 0; k < n; k++) {
            h = ld(V, (i + 1) * n + k);
            st(V, (i + 1) * n + k, s * ld(V, i * n + k) + c * h);
            st(V, i * n + k, c * ld(V, i * n + k) - s * h);
          }
        }

        p = (-s * s2 * c3 * el1 * ld(e, l)) / dl1;
        st(e, l, s * p);
        st(d, l, c * p);
      } while (abs(ld(e, l)) > eps * tst1);
    }
    st(d, l, ld(d, l) + f);
    st(e, l, 0);
  }

  for (i = 0; i < n - 1; i++) {
    k = i;
    p = ld(d, i);
    for (let j = i + 1; j < n; j++) {
      if (ld(d, j) < p) {
        k = j;
        p = ld(d, j);
      }
    }

    if (k != i) {
      st(d, k, ld(d, i));
      st(d, i, p);
      for (let j = 0; j < n; j++) {
        p = ld(V, i * n + j);
        st(V, i * n + j, ld(V, k * n + j));
        st(V, k * n + j, p);
      }
    }
  }
  return true;
}

function orthes(n: i32, H: usize, ort: usize, V: usize): void {
  const low = 0;
  const high = n - 1;
  let f: f64, g: f64, h: f64;
  let i: i32, j: i32, m: i32;
  let scale: f64;

  for (m = low + 1; m <= high - 1; m++) {
    scale = 0;
    for (i = m; i <= high; i++) {
      scale = scale + abs(ld(H, i * n + m - 1));
    }

    if (scale != 0) {
      h = 0;
      for (i = high; i >= m; i--) {
        st(ort, i, ld(H, i * n + m - 1) / scale);
        h += ld(ort, i) * ld(ort, i);
      }

      g = sqrt(h);
      if (ld(ort, m) > 0) {
        g = -g;
      }

      h = h - ld(ort, m) * g;
      st(ort, m, ld(ort, m) - g);

      for (j = m; j < n; j++) {
        f = 0;
        for (i = high; i >= m; i--) {
          f += ld(ort, i) * ld(H, i * n + j);
        }

        f = f / h;
        for (i = m; i <= high; i++) {
          st(H, i * n + j, ld(H, i * n + j) - f * ld(ort, i));
        }
      }

      for (i = 0; i <= high; i++) {
        f = 0;
        for (j = high; j >= m; j--) {
          f += ld(ort, j) * ld(H, i * n + j);
        }

        f = f / h;
        for (j = m; j <= high; j++) {
          st(H, i * n + j, ld(H, i * n + j) - f * ld(ort, j));
        }
      }

      st(ort, m, scale * ld(ort, m));
      st(H, m * n + m - 1, scale * g);
    }
  }

  for (i = 0; i < n; i++) {
    for (j = 0; j < n; j++) {
      st(V, i * n + j, i == j ? 1.0 : 0.0);
    }
  }

  for (m = high - 1; m >= low + 1; m--) {
    if (ld(H, m * n + m - 1) != 0) {
      for (i = m + 1; i <= high; i++) {
        st(ort, i, ld(H, i * n + m - 1));
      }

      for (j = m; j <= high; j++) {
        g = 0;
        for (i = m; i <= high; i++) {
          g += ld(ort, i) * ld(V, i * n + j);
        }

        g = g / ld(ort, m) / ld(H, m * n + m - 1);
        for (i = m; i <= high; i++) {
          st(V, i * n + j, ld(V, i * n + j) + g * ld(ort, i));
        }
      }
    }
  }
}

/** false: an eigenvalue took more than EIG_NONSYM_ITER_CAP iterations (ml-matrix: an endless loop). */
function hqr2(nn: i32, e: usize, d: usize, V: usize, H: usize): bool {
  let n = nn - 1;
  const low = 0;
  const high = nn - 1;
  const eps = EPS;
  let exshift: f64 = 0.0;
  let norm: f64 = 0.0;
  let p: f64 = 0.0;
  let q: f64 = 0.0;
  let r: f64 = 0.0;
  let s: f64 = 0.0;
  let z: f64 = 0.0;
  let iter: i32 = 0;
  let i: i32, j: i32, k: i32, l: i32, m: i32;
  let t: f64 = 0.0, w: f64 = 0.0, x: f64 = 0.0, y: f64 = 0.0;
  let ra: f64, sa: f64, vr: f64, vi: f64;
  let notlast: bool;

  for (i = 0; i < nn; i++) {
    if (i < low || i > high) {
      st(d, i, ld(H, i * nn + i));
      st(e, i, 0);
    }

    for (j = max<i32>(i - 1, 0); j < nn; j++) {
      norm = norm + abs(ld(H, i * nn + j));
    }
  }

  while (n >= low) {
    l = n;
    while (l > low) {
      s = abs(ld(H, (l - 1) * nn + l - 1)) + abs(ld(H, l * nn + l));
      if (s == 0) {
        s = norm;
      }
      if (abs(ld(H, l * nn + l - 1)) < eps * s) {
        break;
      }
      l--;
    }

    if (l == n) {
      st(H, n * nn + n, ld(H, n * nn + n) + exshift);
      st(d, n, ld(H, n * nn + n));
      st(e, n, 0);
      n--;
      iter = 0;
    } else if (l == n - 1) {
      w = ld(H, n * nn + n - 1) * ld(H, (n - 1) * nn + n);
      p = (ld(H, (n - 1) * nn + n - 1) - ld(H, n * nn + n)) / 2;
      q = p * p + w;
      z = sqrt(abs(q));
      st(H, n * nn + n, ld(H, n * nn + n) + exshift);
      st(H, (n - 1) * nn + n - 1, ld(H, (n - 1) * nn + n - 1) + exshift);
      x = ld(H, n * nn + n);

      if (q >= 0) {
        z = p >= 0 ? p + z : p - z;
        st(d, n - 1, x + z);
        st(d, n, ld(d, n - 1));
        if (z != 0) {
          st(d, n, x - w / z);
        }
        st(e, n - 1, 0);
        st(e, n, 0);
        x = ld(H, n * nn + n - 1);
        s = abs(x) + abs(z);
        p = x / s;
        q = z / s;
        r = sqrt(p * p + q * q);
        p = p / r;
        q = q / r;

        for (j = n - 1; j < nn; j++) {
          z = ld(H, (n - 1) * nn + j);
          st(H, (n - 1) * nn + j, q * z + p * ld(H, n * nn + j));
          st(H, n * nn + j, q * ld(H, n * nn + j) - p * z);
        }

        for (i = 0; i <= n; i++) {
          z = ld(H, i * nn + n - 1);
          st(H, i * nn + n - 1, q * z + p * ld(H, i * nn + n));
          st(H, i * nn + n, q * ld(H, i * nn + n) - p * z);
        }

        for (i = low; i <= high; i++) {
          z = ld(V, i * nn + n - 1);
          st(V, i * nn + n - 1, q * z + p * ld(V, i * nn + n));
          st(V, i * nn + n, q * ld(V, i * nn + n) - p * z);
        }
      } else {
        st(d, n - 1, x + p);
        st(d, n, x + p);
        st(e, n - 1, z);
        st(e, n, -z);
      }

      n = n - 2;
      iter = 0;
    } else {
      x = ld(H, n * nn + n);
      y = 0;
      w = 0;
      if (l < n) {
        y = ld(H, (n - 1) * nn + n - 1);
        w = ld(H, n * nn + n - 1) * ld(H, (n - 1) * nn + n);
      }

      if (iter == 10) {
        exshift += x;
        for (i = low; i <= n; i++) {
          st(H, i * nn + i, ld(H, i * nn + i) - x);
        }
        s = abs(ld(H, n * nn + n - 1)) + abs(ld(H, (n - 1) * nn + n - 2));
        y = 0.75 * s;
        x = y;
        w = -0.4375 * s * s;
      }

      if (iter == 30) {
        s = (y - x) / 2;
        s = s * s + w;
        if (s > 0) {
          s = sqrt(s);
          if (y < x) {
            s = -s;
          }
          s = x - w / ((y - x) / 2 + s);
          for (i = low; i <= n; i++) {
            st(H, i * nn + i, ld(H, i * nn + i) - s);
          }
          exshift += s;
          w = 0.964;
          y = w;
          x = y;
        }
      }

      if (iter >= EIG_NONSYM_ITER_CAP) return false;
      iter = iter + 1;

      m = n - 2;
      while (m >= l) {
        z = ld(H, m * nn + m);
        r = x - z;
        s = y - z;
        p = (r * s - w) / ld(H, (m + 1) * nn + m) + ld(H, m * nn + m + 1);
        q = ld(H, (m + 1) * nn + m + 1) - z - r - s;
        r = ld(H, (m + 2) * nn + m + 1);
        s = abs(p) + abs(q) + abs(r);
        p = p / s;
        q = q / s;
        r = r / s;
        if (m == l) {
          break;
        }
        if (
          abs(ld(H, m * nn + m - 1)) * (abs(q) + abs(r)) <
          eps *
            (abs(p) *
              (abs(ld(H, (m - 1) * nn + m - 1)) +
                abs(z) +
                abs(ld(H, (m + 1) * nn + m + 1))))
        ) {
          break;
        }
        m--;
      }

      for (i = m + 2; i <= n; i++) {
        st(H, i * nn + i - 2, 0);
        if (i > m + 2) {
          st(H, i * nn + i - 3, 0);
        }
      }

      for (k = m; k <= n - 1; k++) {
        notlast = k != n - 1;
        if (k != m) {
          p = ld(H, k * nn + k - 1);
          q = ld(H, (k + 1) * nn + k - 1);
          r = notlast ? ld(H, (k + 2) * nn + k - 1) : 0;
          x = abs(p) + abs(q) + abs(r);
          if (x != 0) {
            p = p / x;
            q = q / x;
            r = r / x;
          }
        }

        if (x == 0) {
          break;
        }

        s = sqrt(p * p + q * q + r * r);
        if (p < 0) {
          s = -s;
        }

        if (s != 0) {
          if (k != m) {
            st(H, k * nn + k - 1, -s * x);
          } else if (l != m) {
            st(H, k * nn + k - 1, -ld(H, k * nn + k - 1));
          }

          p = p + s;
          x = p / s;
          y = q / s;
          z = r / s;
          q = q / p;
          r = r / p;

          for (j = k; j < nn; j++) {
            p = ld(H, k * nn + j) + q * ld(H, (k + 1) * nn + j);
            if (notlast) {
              p = p + r * ld(H, (k + 2) * nn + j);
              st(H, (k + 2) * nn + j, ld(H, (k + 2) * nn + j) - p * z);
            }

            st(H, k * nn + j, ld(H, k * nn + j) - p * x);
            st(H, (k + 1) * nn + j, ld(H, (k + 1) * nn + j) - p * y);
          }

          for (i = 0; i <= min<i32>(n, k + 3); i++) {
            p = x * ld(H, i * nn + k) + y * ld(H, i * nn + k + 1);
            if (notlast) {
              p = p + z * ld(H, i * nn + k + 2);
              st(H, i * nn + k + 2, ld(H, i * nn + k + 2) - p * r);
            }

            st(H, i * nn + k, ld(H, i * nn + k) - p);
            st(H, i * nn + k + 1, ld(H, i * nn + k + 1) - p * q);
          }

          for (i = low; i <= high; i++) {
            p = x * ld(V, i * nn + k) + y * ld(V, i * nn + k + 1);
            if (notlast) {
              p = p + z * ld(V, i * nn + k + 2);
              st(V, i * nn + k + 2, ld(V, i * nn + k + 2) - p * r);
            }

            st(V, i * nn + k, ld(V, i * nn + k) - p);
            st(V, i * nn + k + 1, ld(V, i * nn + k + 1) - p * q);
          }
        }
      }
    }
  }

  if (norm == 0) {
    return true;
  }

  for (n = nn - 1; n >= 0; n--) {
    p = ld(d, n);
    q = ld(e, n);

    if (q == 0) {
      l = n;
      st(H, n * nn + n, 1);
      for (i = n - 1; i >= 0; i--) {
        w = ld(H, i * nn + i) - p;
        r = 0;
        for (j = l; j <= n; j++) {
          r = r + ld(H, i * nn + j) * ld(H, j * nn + n);
        }

        if (ld(e, i) < 0) {
          z = w;
          s = r;
        } else {
          l = i;
          if (ld(e, i) == 0) {
            st(H, i * nn + n, w != 0 ? -r / w : -r / (eps * norm));
          } else {
            x = ld(H, i * nn + i + 1);
            y = ld(H, (i + 1) * nn + i);
            q = (ld(d, i) - p) * (ld(d, i) - p) + ld(e, i) * ld(e, i);
            t = (x * s - z * r) / q;
            st(H, i * nn + n, t);
            st(H, (i + 1) * nn + n, abs(x) > abs(z) ? (-r - w * t) / x : (-s - y * t) / z);
          }

          t = abs(ld(H, i * nn + n));
          if (eps * t * t > 1) {
            for (j = i; j <= n; j++) {
              st(H, j * nn + n, ld(H, j * nn + n) / t);
            }
          }
        }
      }
    } else if (q < 0) {
      l = n - 1;

      if (abs(ld(H, n * nn + n - 1)) > abs(ld(H, (n - 1) * nn + n))) {
        st(H, (n - 1) * nn + n - 1, q / ld(H, n * nn + n - 1));
        st(H, (n - 1) * nn + n, -(ld(H, n * nn + n) - p) / ld(H, n * nn + n - 1));
      } else {
        cdiv(0, -ld(H, (n - 1) * nn + n), ld(H, (n - 1) * nn + n - 1) - p, q);
        st(H, (n - 1) * nn + n - 1, cdivR);
        st(H, (n - 1) * nn + n, cdivI);
      }

      st(H, n * nn + n - 1, 0);
      st(H, n * nn + n, 1);
      for (i = n - 2; i >= 0; i--) {
        ra = 0;
        sa = 0;
        for (j = l; j <= n; j++) {
          ra = ra + ld(H, i * nn + j) * ld(H, j * nn + n - 1);
          sa = sa + ld(H, i * nn + j) * ld(H, j * nn + n);
        }

        w = ld(H, i * nn + i) - p;

        if (ld(e, i) < 0) {
          z = w;
          r = ra;
          s = sa;
        } else {
          l = i;
          if (ld(e, i) == 0) {
            cdiv(-ra, -sa, w, q);
            st(H, i * nn + n - 1, cdivR);
            st(H, i * nn + n, cdivI);
          } else {
            x = ld(H, i * nn + i + 1);
            y = ld(H, (i + 1) * nn + i);
            vr = (ld(d, i) - p) * (ld(d, i) - p) + ld(e, i) * ld(e, i) - q * q;
            vi = (ld(d, i) - p) * 2 * q;
            if (vr == 0 && vi == 0) {
              vr =
                eps *
                norm *
                (abs(w) +
                  abs(q) +
                  abs(x) +
                  abs(y) +
                  abs(z));
            }
            cdiv(
              x * r - z * ra + q * sa,
              x * s - z * sa - q * ra,
              vr,
              vi,
            );
            st(H, i * nn + n - 1, cdivR);
            st(H, i * nn + n, cdivI);
            if (abs(x) > abs(z) + abs(q)) {
              st(H, (i + 1) * nn + n - 1, (-ra - w * ld(H, i * nn + n - 1) + q * ld(H, i * nn + n)) / x);
              st(H, (i + 1) * nn + n, (-sa - w * ld(H, i * nn + n) - q * ld(H, i * nn + n - 1)) / x);
            } else {
              cdiv(
                -r - y * ld(H, i * nn + n - 1),
                -s - y * ld(H, i * nn + n),
                z,
                q,
              );
              st(H, (i + 1) * nn + n - 1, cdivR);
              st(H, (i + 1) * nn + n, cdivI);
            }
          }

          t = max<f64>(abs(ld(H, i * nn + n - 1)), abs(ld(H, i * nn + n)));
          if (eps * t * t > 1) {
            for (j = i; j <= n; j++) {
              st(H, j * nn + n - 1, ld(H, j * nn + n - 1) / t);
              st(H, j * nn + n, ld(H, j * nn + n) / t);
            }
          }
        }
      }
    }
  }

  for (i = 0; i < nn; i++) {
    if (i < low || i > high) {
      for (j = i; j < nn; j++) {
        st(V, i * nn + j, ld(H, i * nn + j));
      }
    }
  }

  for (j = nn - 1; j >= low; j--) {
    for (i = low; i <= high; i++) {
      z = 0;
      for (k = low; k <= min<i32>(j, high); k++) {
        z = z + ld(V, i * nn + k) * ld(H, k * nn + j);
      }
      st(V, i * nn + j, z);
    }
  }
  return true;
}

// cdiv's result (ml-matrix returns a fresh [re, im]).
let cdivR: f64 = 0.0;
let cdivI: f64 = 0.0;

/** (xr + i·xi) / (yr + i·yi) into cdivR, cdivI. */
function cdiv(xr: f64, xi: f64, yr: f64, yi: f64): void {
  let r: f64, d: f64;
  if (abs(yr) > abs(yi)) {
    r = yi / yr;
    d = yr + r * yi;
    cdivR = (xr + r * xi) / d;
    cdivI = (xi - r * xr) / d;
  } else {
    r = yr / yi;
    d = yi + r * yr;
    cdivR = (r * xr + xi) / d;
    cdivI = (r * xi - xr) / d;
  }
}
