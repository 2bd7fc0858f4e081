/**
 * The general (nonsymmetric) eigendecomposition in JS: the twin of assembly/eigNonsym.ts and a
 * statement-for-statement port of ml-matrix's `new EigenvalueDecomposition(matrix)` (ml-matrix
 * 6.15.1, src/dc/evd.js and src/dc/util.js; MIT License, Copyright (c) 2014 Michaël Zasso; itself
 * derived from JAMA, public domain): every floating-point operation and its order are ml-matrix's,
 * so the results are its bits — re, im and the eigenvector matrix. Why a kernel: in a fresh process
 * ml-matrix's code runs cold in V8's lower tiers, where it took ~15–45 ms of the extraction's
 * Jennrich step (8 k×k matrices, k = 16 typically; up to 115); the wasm twin is compiled ahead of
 * time (< 5 ms for the same calls).
 * Definition: Kernels.eigNonsym in ../types.ts.
 *
 * As ml-matrix: an exactly symmetric input (a[i][j] === a[j][i] for all i, j) takes the symmetric
 * path (tred2/tql2 on V held transposed, then transposed back in place), any other the general one
 * (orthes: Householder reduction to Hessenberg form; hqr2: shifted QR with the eigenvectors
 * back-substituted; cdiv: complex division). Layouts: a, H, V n×n row-major with V(i, j) at
 * V[i·n + j], exactly ml-matrix's Matrix get(i, j) (V(i, j) ≡ V[i·n + j] throughout, including the
 * transposed storage of the symmetric path, undone by transposeSquareInPlace as in ml-matrix).
 * cdiv's pair is returned in two module variables instead of a fresh array.
 *
 * Deviations, none of which changes the bits of a decomposition that ml-matrix completes:
 * - Iteration cap: ml-matrix's hqr2 and tql2 loop without limit (a NaN in H never deflates). Here
 *   each eigenvalue may take at most EIG_NONSYM_ITER_CAP iterations (a few suffice normally;
 *   ml-matrix's exceptional shifts come at 10 and 30): beyond that the kernel reports failure
 *   instead of spinning forever. Non-finite input is rejected before (validate.ts checkEigNonsym);
 *   finite input can still overflow to Inf/NaN inside (entries near 1e308), where ml-matrix hangs.
 * - tql2 reaching m = n (no negligible e[m], only with NaN): ml-matrix then throws a TypeError
 *   (V.get(n, …) on a missing row); here failure is reported at that point.
 * - Variables ml-matrix declares without a value start at 0 here; none is read before written.
 */
import { EIG_NONSYM_ITER_CAP, type EigNonsymResult } from '../types.js';
import { eigNonsymFailure } from '../validate.js';
import { hypot } from './eig.js';

const EPS = Number.EPSILON; // 2^-52, ml-matrix's Number.EPSILON

/** Kernels.eigNonsym on the JS backend (the checks are the caller's: validate.ts). */
export function eigNonsym(a: Float64Array, n: number): EigNonsymResult {
  const V = new Float64Array(n * n);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  if (!eigNonsymInto(a, n, V, d, e)) {
    throw eigNonsymFailure(n);
  }
  return { re: d, im: e, vectors: V };
}

/**
 * The decomposition on caller-provided storage (V n×n, d and e n each, all overwritten); false
 * when the iteration hit its cap. `a` is not modified.
 */
export function eigNonsymInto(a: Float64Array, n: number, V: Float64Array, d: Float64Array, e: Float64Array): boolean {
  let i: number, j: number;
  V.fill(0, 0, n * n); // new Matrix(n, n)
  d.fill(0, 0, n);
  e.fill(0, 0, n);
  if (isSymmetric(a, n)) {
    for (i = 0; i < n; i++) {
      for (j = 0; j < n; j++) {
        V[j * n + i] = a[i * n + j];
      }
    }
    tred2(n, e, d, V);
    if (!tql2(n, e, d, V)) return false;
    transposeSquareInPlace(V, n);
  } else {
    const H = new Float64Array(n * n);
    const ort = new Float64Array(n);
    for (j = 0; j < n; j++) {
      for (i = 0; i < n; i++) {
        H[i * n + j] = a[i * n + j];
      }
    }
    orthes(n, H, ort, V);
    if (!hqr2(n, e, d, V, H)) return false;
  }
  return true;
}

/** ml-matrix's AbstractMatrix.isSymmetric (square here): a[i][j] === a[j][i] for all j ≤ i. */
function isSymmetric(a: Float64Array, n: number): boolean {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      if (a[i * n + j] !== a[j * n + i]) {
        return false;
      }
    }
  }
  return true;
}

function transposeSquareInPlace(V: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const tmp = V[i * n + j];
      V[i * n + j] = V[j * n + i];
      V[j * n + i] = tmp;
    }
  }
}

function tred2(n: number, e: Float64Array, d: Float64Array, V: Float64Array): void {
  let f: number, g: number, h: number, i: number, j: number, k: number, hh: number, scale: number;

  for (j = 0; j < n; j++) {
    d[j] = V[j * n + n - 1];
  }

  for (i = n - 1; i > 0; i--) {
    scale = 0;
    h = 0;
    for (k = 0; k < i; k++) {
      scale = scale + Math.abs(d[k]);
    }

    if (scale === 0) {
      e[i] = d[i - 1];
      for (j = 0; j < i; j++) {
        d[j] = V[j * n + i - 1];
        V[j * n + i] = 0;
        V[i * n + j] = 0;
      }
    } else {
      for (k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }

      f = d[i - 1];
      g = Math.sqrt(h);
      if (f > 0) {
        g = -g;
      }

      e[i] = scale * g;
      h = h - f * g;
      d[i - 1] = f - g;
      for (j = 0; j < i; j++) {
        e[j] = 0;
      }

      for (j = 0; j < i; j++) {
        f = d[j];
        V[i * n + j] = f;
        g = e[j] + V[j * n + j] * f;
        for (k = j + 1; k <= i - 1; k++) {
          g += V[j * n + k] * d[k];
          e[k] += V[j * n + k] * f;
        }
        e[j] = g;
      }

      f = 0;
      for (j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }

      hh = f / (h + h);
      for (j = 0; j < i; j++) {
        e[j] -= hh * d[j];
      }

      for (j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        for (k = j; k <= i - 1; k++) {
          V[j * n + k] = V[j * n + k] - (f * e[k] + g * d[k]);
        }
        d[j] = V[j * n + i - 1];
        V[j * n + i] = 0;
      }
    }
    d[i] = h;
  }

  for (i = 0; i < n - 1; i++) {
    V[i * n + n - 1] = V[i * n + i];
    V[i * n + i] = 1;
    h = d[i + 1];
    if (h !== 0) {
      for (k = 0; k <= i; k++) {
        d[k] = V[(i + 1) * n + k] / h;
      }

      for (j = 0; j <= i; j++) {
        g = 0;
        for (k = 0; k <= i; k++) {
          g += V[(i + 1) * n + k] * V[j * n + k];
        }
        for (k = 0; k <= i; k++) {
          V[j * n + k] = V[j * n + k] - g * d[k];
        }
      }
    }

    for (k = 0; k <= i; k++) {
      V[(i + 1) * n + k] = 0;
    }
  }

  for (j = 0; j < n; j++) {
    d[j] = V[j * n + n - 1];
    V[j * n + n - 1] = 0;
  }

  V[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/** false: an eigenvalue took more than EIG_NONSYM_ITER_CAP iterations, or no negligible e[m] (NaN). */
function tql2(n: number, e: Float64Array, d: Float64Array, V: Float64Array): boolean {
  let g: number, h: number, i: number, k: number, l: number, m: number, p: number, r: number, dl1: number, c: number, c2: number, c3: number, el1: number, s: number, s2: number, iter: number;

  for (i = 1; i < n; i++) {
    e[i - 1] = e[i];
  }

  e[n - 1] = 0;

  let f = 0;
  let tst1 = 0;
  const eps = EPS;

  for (l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    m = l;
    while (m < n) {
      if (Math.abs(e[m]) <= eps * tst1) {
        break;
      }
      m++;
    }
    if (m === n) return false; // ml-matrix: a TypeError further on (V.get(n, 0))

    if (m > l) {
      iter = 0;
      do {
        iter = iter + 1;
        if (iter > EIG_NONSYM_ITER_CAP) return false;

        g = d[l];
        p = (d[l + 1] - g) / (2 * e[l]);
        r = hypot(p, 1);
        if (p < 0) {
          r = -r;
        }

        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        dl1 = d[l + 1];
        h = g - d[l];
        for (i = l + 2; i < n; i++) {
          d[i] -= h;
        }

        f = f + h;

        p = d[m];
        c = 1;
        c2 = c;
        c3 = c;
        el1 = e[l + 1];
        s = 0;
        s2 = 0;
        for (i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);

          for (k = 0; k < n; k++) {
            h = V[(i + 1) * n + k];
            V[(i + 1) * n + k] = s * V[i * n + k] + c * h;
            V[i * n + k] = c * V[i * n + k] - s * h;
          }
        }

        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] = d[l] + f;
    e[l] = 0;
  }

  for (i = 0; i < n - 1; i++) {
    k = i;
    p = d[i];
    for (let j = i + 1; j < n; j++) {
      if (d[j] < p) {
        k = j;
        p = d[j];
      }
    }

    if (k !== i) {
      d[k] = d[i];
      d[i] = p;
      for (let j = 0; j < n; j++) {
        p = V[i * n + j];
        V[i * n + j] = V[k * n + j];
        V[k * n + j] = p;
      }
    }
  }
  return true;
}

function orthes(n: number, H: Float64Array, ort: Float64Array, V: Float64Array): void {
  const low = 0;
  const high = n - 1;
  let f: number, g: number, h: number, i: number, j: number, m: number;
  let scale: number;

  for (m = low + 1; m <= high - 1; m++) {
    scale = 0;
    for (i = m; i <= high; i++) {
      scale = scale + Math.abs(H[i * n + m - 1]);
    }

    if (scale !== 0) {
      h = 0;
      for (i = high; i >= m; i--) {
        ort[i] = H[i * n + m - 1] / scale;
        h += ort[i] * ort[i];
      }

      g = Math.sqrt(h);
      if (ort[m] > 0) {
        g = -g;
      }

      h = h - ort[m] * g;
      ort[m] = ort[m] - g;

      for (j = m; j < n; j++) {
        f = 0;
        for (i = high; i >= m; i--) {
          f += ort[i] * H[i * n + j];
        }

        f = f / h;
        for (i = m; i <= high; i++) {
          H[i * n + j] = H[i * n + j] - f * ort[i];
        }
      }

      for (i = 0; i <= high; i++) {
        f = 0;
        for (j = high; j >= m; j--) {
          f += ort[j] * H[i * n + j];
        }

        f = f / h;
        for (j = m; j <= high; j++) {
          H[i * n + j] = H[i * n + j] - f * ort[j];
        }
      }

      ort[m] = scale * ort[m];
      H[m * n + m - 1] = scale * g;
    }
  }

  for (i = 0; i < n; i++) {
    for (j = 0; j < n; j++) {
      V[i * n + j] = i === j ? 1 : 0;
    }
  }

  for (m = high - 1; m >= low + 1; m--) {
    if (H[m * n + m - 1] !== 0) {
      for (i = m + 1; i <= high; i++) {
        ort[i] = H[i * n + m - 1];
      }

      for (j = m; j <= high; j++) {
        g = 0;
        for (i = m; i <= high; i++) {
          g += ort[i] * V[i * n + j];
        }

        g = g / ort[m] / H[m * n + m - 1];
        for (i = m; i <= high; i++) {
          V[i * n + j] = V[i * n + j] + g * ort[i];
        }
      }
    }
  }
}

/** false: an eigenvalue took more than EIG_NONSYM_ITER_CAP iterations (ml-matrix: an endless loop). */
function hqr2(nn: number, e: Float64Array, d: Float64Array, V: Float64Array, H: Float64Array): boolean {
  let n = nn - 1;
  const low = 0;
  const high = nn - 1;
  const eps = EPS;
  let exshift = 0;
  let norm = 0;
  let p = 0;
  let q = 0;
  let r = 0;
  let s = 0;
  let z = 0;
  let iter = 0;
  let i: number, j: number, k: number, l: number, m: number;
  let t = 0, w = 0, x = 0, y = 0;
  let ra: number, sa: number, vr: number, vi: number;
  let notlast: boolean;

  for (i = 0; i < nn; i++) {
    if (i < low || i > high) {
      d[i] = H[i * nn + i];
      e[i] = 0;
    }

    for (j = Math.max(i - 1, 0); j < nn; j++) {
      norm = norm + Math.abs(H[i * nn + j]);
    }
  }

  while (n >= low) {
    l = n;
    while (l > low) {
      s = Math.abs(H[(l - 1) * nn + l - 1]) + Math.abs(H[l * nn + l]);
      if (s === 0) {
        s = norm;
      }
      if (Math.abs(H[l * nn + l - 1]) < eps * s) {
        break;
      }
      l--;
    }

    if (l === n) {
      H[n * nn + n] = H[n * nn + n] + exshift;
      d[n] = H[n * nn + n];
      e[n] = 0;
      n--;
      iter = 0;
    } else if (l === n - 1) {
      w = H[n * nn + n - 1] * H[(n - 1) * nn + n];
      p = (H[(n - 1) * nn + n - 1] - H[n * nn + n]) / 2;
      q = p * p + w;
      z = Math.sqrt(Math.abs(q));
      H[n * nn + n] = H[n * nn + n] + exshift;
      H[(n - 1) * nn + n - 1] = H[(n - 1) * nn + n - 1] + exshift;
      x = H[n * nn + n];

      if (q >= 0) {
        z = p >= 0 ? p + z : p - z;
        d[n - 1] = x + z;
        d[n] = d[n - 1];
        if (z !== 0) {
          d[n] = x - w / z;
        }
        e[n - 1] = 0;
        e[n] = 0;
        x = H[n * nn + n - 1];
        s = Math.abs(x) + Math.abs(z);
        p = x / s;
        q = z / s;
        r = Math.sqrt(p * p + q * q);
        p = p / r;
        q = q / r;

        for (j = n - 1; j < nn; j++) {
          z = H[(n - 1) * nn + j];
          H[(n - 1) * nn + j] = q * z + p * H[n * nn + j];
          H[n * nn + j] = q * H[n * nn + j] - p * z;
        }

        for (i = 0; i <= n; i++) {
          z = H[i * nn + n - 1];
          H[i * nn + n - 1] = q * z + p * H[i * nn + n];
          H[i * nn + n] = q * H[i * nn + n] - p * z;
        }

        for (i = low; i <= high; i++) {
          z = V[i * nn + n - 1];
          V[i * nn + n - 1] = q * z + p * V[i * nn + n];
          V[i * nn + n] = q * V[i * nn + n] - p * z;
        }
      } else {
        d[n - 1] = x + p;
        d[n] = x + p;
        e[n - 1] = z;
        e[n] = -z;
      }

      n = n - 2;
      iter = 0;
    } else {
      x = H[n * nn + n];
      y = 0;
      w = 0;
      if (l < n) {
        y = H[(n - 1) * nn + n - 1];
        w = H[n * nn + n - 1] * H[(n - 1) * nn + n];
      }

      if (iter === 10) {
        exshift += x;
        for (i = low; i <= n; i++) {
          H[i * nn + i] = H[i * nn + i] - x;
        }
        s = Math.abs(H[n * nn + n - 1]) + Math.abs(H[(n - 1) * nn + n - 2]);
        x = y = 0.75 * s;
        w = -0.4375 * s * s;
      }

      if (iter === 30) {
        s = (y - x) / 2;
        s = s * s + w;
        if (s > 0) {
          s = Math.sqrt(s);
          if (y < x) {
            s = -s;
          }
          s = x - w / ((y - x) / 2 + s);
          for (i = low; i <= n; i++) {
            H[i * nn + i] = H[i * nn + i] - s;
          }
          exshift += s;
          x = y = w = 0.964;
        }
      }

      if (iter >= EIG_NONSYM_ITER_CAP) return false;
      iter = iter + 1;

      m = n - 2;
      while (m >= l) {
        z = H[m * nn + m];
        r = x - z;
        s = y - z;
        p = (r * s - w) / H[(m + 1) * nn + m] + H[m * nn + m + 1];
        q = H[(m + 1) * nn + m + 1] - z - r - s;
        r = H[(m + 2) * nn + m + 1];
        s = Math.abs(p) + Math.abs(q) + Math.abs(r);
        p = p / s;
        q = q / s;
        r = r / s;
        if (m === l) {
          break;
        }
        if (
          Math.abs(H[m * nn + m - 1]) * (Math.abs(q) + Math.abs(r)) <
          eps *
            (Math.abs(p) *
              (Math.abs(H[(m - 1) * nn + m - 1]) +
                Math.abs(z) +
                Math.abs(H[(m + 1) * nn + m + 1])))
        ) {
          break;
        }
        m--;
      }

      for (i = m + 2; i <= n; i++) {
        H[i * nn + i - 2] = 0;
        if (i > m + 2) {
          H[i * nn + i - 3] = 0;
        }
      }

      for (k = m; k <= n - 1; k++) {
        notlast = k !== n - 1;
        if (k !== m) {
          p = H[k * nn + k - 1];
          q = H[(k + 1) * nn + k - 1];
          r = notlast ? H[(k + 2) * nn + k - 1] : 0;
          x = Math.abs(p) + Math.abs(q) + Math.abs(r);
          if (x !== 0) {
            p = p / x;
            q = q / x;
            r = r / x;
          }
        }

        if (x === 0) {
          break;
        }

        s = Math.sqrt(p * p + q * q + r * r);
        if (p < 0) {
          s = -s;
        }

        if (s !== 0) {
          if (k !== m) {
            H[k * nn + k - 1] = -s * x;
          } else if (l !== m) {
            H[k * nn + k - 1] = -H[k * nn + k - 1];
          }

          p = p + s;
          x = p / s;
          y = q / s;
          z = r / s;
          q = q / p;
          r = r / p;

          for (j = k; j < nn; j++) {
            p = H[k * nn + j] + q * H[(k + 1) * nn + j];
            if (notlast) {
              p = p + r * H[(k + 2) * nn + j];
              H[(k + 2) * nn + j] = H[(k + 2) * nn + j] - p * z;
            }

            H[k * nn + j] = H[k * nn + j] - p * x;
            H[(k + 1) * nn + j] = H[(k + 1) * nn + j] - p * y;
          }

          for (i = 0; i <= Math.min(n, k + 3); i++) {
            p = x * H[i * nn + k] + y * H[i * nn + k + 1];
            if (notlast) {
              p = p + z * H[i * nn + k + 2];
              H[i * nn + k + 2] = H[i * nn + k + 2] - p * r;
            }

            H[i * nn + k] = H[i * nn + k] - p;
            H[i * nn + k + 1] = H[i * nn + k + 1] - p * q;
          }

          for (i = low; i <= high; i++) {
            p = x * V[i * nn + k] + y * V[i * nn + k + 1];
            if (notlast) {
              p = p + z * V[i * nn + k + 2];
              V[i * nn + k + 2] = V[i * nn + k + 2] - p * r;
            }

            V[i * nn + k] = V[i * nn + k] - p;
            V[i * nn + k + 1] = V[i * nn + k + 1] - p * q;
          }
        }
      }
    }
  }

  if (norm === 0) {
    return true;
  }

  for (n = nn - 1; n >= 0; n--) {
    p = d[n];
    q = e[n];

    if (q === 0) {
      l = n;
      H[n * nn + n] = 1;
      for (i = n - 1; i >= 0; i--) {
        w = H[i * nn + i] - p;
        r = 0;
        for (j = l; j <= n; j++) {
          r = r + H[i * nn + j] * H[j * nn + n];
        }

        if (e[i] < 0) {
          z = w;
          s = r;
        } else {
          l = i;
          if (e[i] === 0) {
            H[i * nn + n] = w !== 0 ? -r / w : -r / (eps * norm);
          } else {
            x = H[i * nn + i + 1];
            y = H[(i + 1) * nn + i];
            q = (d[i] - p) * (d[i] - p) + e[i] * e[i];
            t = (x * s - z * r) / q;
            H[i * nn + n] = t;
            H[(i + 1) * nn + n] = Math.abs(x) > Math.abs(z) ? (-r - w * t) / x : (-s - y * t) / z;
          }

          t = Math.abs(H[i * nn + n]);
          if (eps * t * t > 1) {
            for (j = i; j <= n; j++) {
              H[j * nn + n] = H[j * nn + n] / t;
            }
          }
        }
      }
    } else if (q < 0) {
      l = n - 1;

      if (Math.abs(H[n * nn + n - 1]) > Math.abs(H[(n - 1) * nn + n])) {
        H[(n - 1) * nn + n - 1] = q / H[n * nn + n - 1];
        H[(n - 1) * nn + n] = -(H[n * nn + n] - p) / H[n * nn + n - 1];
      } else {
        cdiv(0, -H[(n - 1) * nn + n], H[(n - 1) * nn + n - 1] - p, q);
        H[(n - 1) * nn + n - 1] = cdivR;
        H[(n - 1) * nn + n] = cdivI;
      }

      H[n * nn + n - 1] = 0;
      H[n * nn + n] = 1;
      for (i = n - 2; i >= 0; i--) {
        ra = 0;
        sa = 0;
        for (j = l; j <= n; j++) {
          ra = ra + H[i * nn + j] * H[j * nn + n - 1];
          sa = sa + H[i * nn + j] * H[j * nn + n];
        }

        w = H[i * nn + i] - p;

        if (e[i] < 0) {
          z = w;
          r = ra;
          s = sa;
        } else {
          l = i;
          if (e[i] === 0) {
            cdiv(-ra, -sa, w, q);
            H[i * nn + n - 1] = cdivR;
            H[i * nn + n] = cdivI;
          } else {
            x = H[i * nn + i + 1];
            y = H[(i + 1) * nn + i];
            vr = (d[i] - p) * (d[i] - p) + e[i] * e[i] - q * q;
            vi = (d[i] - p) * 2 * q;
            if (vr === 0 && vi === 0) {
              vr =
                eps *
                norm *
                (Math.abs(w) +
                  Math.abs(q) +
                  Math.abs(x) +
                  Math.abs(y) +
                  Math.abs(z));
            }
            cdiv(
              x * r - z * ra + q * sa,
              x * s - z * sa - q * ra,
              vr,
              vi,
            );
            H[i * nn + n - 1] = cdivR;
            H[i * nn + n] = cdivI;
            if (Math.abs(x) > Math.abs(z) + Math.abs(q)) {
              H[(i + 1) * nn + n - 1] = (-ra - w * H[i * nn + n - 1] + q * H[i * nn + n]) / x;
              H[(i + 1) * nn + n] = (-sa - w * H[i * nn + n] - q * H[i * nn + n - 1]) / x;
            } else {
              cdiv(
                -r - y * H[i * nn + n - 1],
                -s - y * H[i * nn + n],
                z,
                q,
              );
              H[(i + 1) * nn + n - 1] = cdivR;
              H[(i + 1) * nn + n] = cdivI;
            }
          }

          t = Math.max(Math.abs(H[i * nn + n - 1]), Math.abs(H[i * nn + n]));
          if (eps * t * t > 1) {
            for (j = i; j <= n; j++) {
              H[j * nn + n - 1] = H[j * nn + n - 1] / t;
              H[j * nn + n] = H[j * nn + n] / t;
            }
          }
        }
      }
    }
  }

  for (i = 0; i < nn; i++) {
    if (i < low || i > high) {
      for (j = i; j < nn; j++) {
        V[i * nn + j] = H[i * nn + j];
      }
    }
  }

  for (j = nn - 1; j >= low; j--) {
    for (i = low; i <= high; i++) {
      z = 0;
      for (k = low; k <= Math.min(j, high); k++) {
        z = z + V[i * nn + k] * H[k * nn + j];
      }
      V[i * nn + j] = z;
    }
  }
  return true;
}

// cdiv's result (ml-matrix returns a fresh [re, im]).
let cdivR = 0;
let cdivI = 0;

/** (xr + i·xi) / (yr + i·yi) into cdivR, cdivI. */
function cdiv(xr: number, xi: number, yr: number, yi: number): void {
  let r: number, d: number;
  if (Math.abs(yr) > Math.abs(yi)) {
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
