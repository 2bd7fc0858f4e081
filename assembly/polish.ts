// The extraction's polish on the non-linearized detector f(u) = φᵀGφ, φ = svec(uuᵀ): scalar
// code compiled ahead of time, where the same loops in JS ran in V8's lower tiers for most of a
// fresh process's one extraction. Twin: src/kernels/js/polish.ts, statement for statement (the
// same IEEE operations in the same order, Math.sqrt ≡ f64.sqrt); definitions: Kernels.polish and
// Kernels.detectorObjectives in src/kernels/types.ts.
//
// Layouts: G mz×mz row-major (symmetric; only its upper triangle is read by the objective),
// directions count×k row-major (one unit vector per row), mz = k(k+1)/2.

import { ld, st } from './scalar';

// @ts-ignore: decorator
@inline const SQRT2: f64 = 1.4142135623730951; // Math.SQRT2

/** Position of (i, j), i ≤ j, in svec coordinates of a k×k matrix (math/symcoords.ts triIndex). */
// @ts-ignore: decorator
@inline function triIndex(i: i32, j: i32, k: i32): i32 { return i * k - ((i * (i - 1)) >> 1) + (j - i); }

/** phi ← svec(uuᵀ): u_i·u_i on the diagonal, u_i·u_j·√2 off it, row by row (math/symcoords.ts svecOuter). */
function svecOuter(phi: usize, u: usize, k: i32): void {
  let o = 0;
  for (let i = 0; i < k; i++) {
    const ui = ld(u, i);
    for (let j = i; j < k; j++) st(phi, o++, j == i ? ui * ui : ui * ld(u, j) * SQRT2);
  }
}

/** f = Σ_i φ_i·(G_ii·φ_i + 2·Σ_{t>i} G_it·φ_t), the inner sums in increasing t from +0. */
function objective(G: usize, phi: usize, mz: i32): f64 {
  let f: f64 = 0.0;
  for (let i = 0; i < mz; i++) {
    const row = G + ((<usize>i * mz) << 3);
    let sum: f64 = 0.0;
    for (let t = i + 1; t < mz; t++) sum += ld(row, t) * ld(phi, t);
    const pi = ld(phi, i);
    f += pi * (ld(row, i) * pi + 2 * sum);
  }
  return f;
}

/** out[c] = f(U[c]) for every direction c < count; phi: mz doubles of scratch. */
export function detectorObjectives(G: usize, mz: i32, k: i32, U: usize, count: i32, out: usize, phi: usize): void {
  for (let c = 0; c < count; c++) {
    svecOuter(phi, U + ((<usize>c * k) << 3), k);
    st(out, c, objective(G, phi, mz));
  }
}

/**
 * x ← A⁻¹b by Gaussian elimination with partial pivoting (math/linalg.ts solveSmall), A n×n
 * and b copied into M and x first; returns 0 for a zero pivot or a non-finite solution.
 */
function solveSmall(A: usize, b: usize, n: i32, M: usize, x: usize): i32 {
  memory.copy(M, A, <usize>n * n << 3);
  memory.copy(x, b, <usize>n << 3);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(ld(M, r * n + c)) > Math.abs(ld(M, piv * n + c))) piv = r;
    if (ld(M, piv * n + c) == 0) return 0;
    if (piv != c) {
      for (let j = c; j < n; j++) {
        const t = ld(M, c * n + j);
        st(M, c * n + j, ld(M, piv * n + j));
        st(M, piv * n + j, t);
      }
      const t = ld(x, c);
      st(x, c, ld(x, piv));
      st(x, piv, t);
    }
    const inv = 1 / ld(M, c * n + c);
    for (let r = c + 1; r < n; r++) {
      const f = ld(M, r * n + c) * inv;
      if (f == 0) continue;
      for (let j = c + 1; j < n; j++) st(M, r * n + j, ld(M, r * n + j) - f * ld(M, c * n + j));
      st(x, r, ld(x, r) - f * ld(x, c));
    }
  }
  for (let c = n - 1; c >= 0; c--) {
    let v = ld(x, c);
    for (let j = c + 1; j < n; j++) v -= ld(M, c * n + j) * ld(x, j);
    st(x, c, v / ld(M, c * n + c));
  }
  for (let i = 0; i < n; i++) if (!isFinite(ld(x, i))) return 0;
  return 1;
}

/**
 * Polishes every direction of U (count×k, in place) by Gauss–Newton on f subject to ‖u‖ = 1
 * (method/polish.ts polishDirection, maxIter steps at most) and writes f of the result to F.
 * Scratch (doubles): 5k² + 7k + mz·k + 3mz (the twin's arrays, laid out below).
 */
export function polishDirections(G: usize, mz: i32, k: i32, U: usize, count: i32, maxIter: i32, F: usize, scratch: usize): void {
  const kk = k * k;
  // Dφ as (row, column, value) triples; the rows and columns as i32 in one k²-double block.
  const dVal = scratch;
  const dIdx = dVal + (<usize>kk << 3);
  const dCol = dIdx + (<usize>kk << 2);
  const GD = dIdx + (<usize>kk << 3);
  const su = GD + ((<usize>mz * k) << 3);
  const phi = su + (<usize>k << 3);
  const Gphi = phi + (<usize>mz << 3);
  const H = Gphi + (<usize>mz << 3);
  const grad = H + (<usize>kk << 3);
  const Hu = grad + (<usize>k << 3);
  const S = Hu + (<usize>k << 3);
  const rhs = S + (<usize>kk << 3);
  const M = rhs + (<usize>k << 3);
  const delta = M + (<usize>kk << 3);
  const v = delta + (<usize>k << 3);
  const phiv = v + (<usize>k << 3);
  const u0 = phiv + (<usize>mz << 3); // the current u (k), then 6k spare doubles
  for (let c = 0; c < count; c++) {
    const out = U + ((<usize>c * k) << 3);
    const u = u0;
    memory.copy(u, out, <usize>k << 3);
    svecOuter(phiv, u, k);
    let f = objective(G, phiv, mz);
    for (let it = 0; it < maxIter; it++) {
      let e = 0;
      for (let a = 0; a < k; a++) {
        store<i32>(dIdx + (<usize>e << 2), triIndex(a, a, k)); store<i32>(dCol + (<usize>e << 2), a); st(dVal, e++, 2 * ld(u, a));
        for (let b = a + 1; b < k; b++) {
          const r = triIndex(a, b, k);
          store<i32>(dIdx + (<usize>e << 2), r); store<i32>(dCol + (<usize>e << 2), a); st(dVal, e++, SQRT2 * ld(u, b));
          store<i32>(dIdx + (<usize>e << 2), r); store<i32>(dCol + (<usize>e << 2), b); st(dVal, e++, SQRT2 * ld(u, a));
        }
      }
      svecOuter(phi, u, k);
      memory.fill(GD, 0, (<usize>mz * k) << 3);
      for (let a = 0; a < k; a++) st(su, a, SQRT2 * ld(u, a));
      for (let i = 0; i < mz; i++) {
        const row = G + ((<usize>i * mz) << 3);
        const o = GD + ((<usize>i * k) << 3);
        let s: f64 = 0.0;
        let t = 0;
        for (let cc = 0; cc < k; cc++) {
          let g = ld(row, t);
          s += g * ld(phi, t);
          let acc = 2 * ld(u, cc) * g;
          t++;
          const suc = ld(su, cc);
          for (let b = cc + 1; b < k; b++, t++) {
            g = ld(row, t);
            s += g * ld(phi, t);
            acc += ld(su, b) * g;
            st(o, b, ld(o, b) + suc * g);
          }
          st(o, cc, ld(o, cc) + acc);
        }
        st(Gphi, i, s);
      }
      memory.fill(H, 0, <usize>kk << 3);
      memory.fill(grad, 0, <usize>k << 3);
      for (let q = 0; q < kk; q++) {
        const r = load<i32>(dIdx + (<usize>q << 2));
        const cq = load<i32>(dCol + (<usize>q << 2));
        const vq = ld(dVal, q);
        st(grad, cq, ld(grad, cq) + vq * ld(Gphi, r));
        for (let b = 0; b < k; b++) st(H, cq * k + b, ld(H, cq * k + b) + vq * ld(GD, r * k + b));
      }
      memory.fill(Hu, 0, <usize>k << 3);
      for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) st(Hu, a, ld(Hu, a) + ld(H, a * k + b) * ld(u, b));
      let uHu: f64 = 0.0;
      let ug: f64 = 0.0;
      for (let a = 0; a < k; a++) { uHu += ld(u, a) * ld(Hu, a); ug += ld(u, a) * ld(grad, a); }
      let trace: f64 = 0.0;
      for (let a = 0; a < k; a++) trace += ld(H, a * k + a);
      let lambda = trace / k;
      if (lambda == 0 || lambda != lambda) lambda = 1; // JS: trace / k || 1
      for (let a = 0; a < k; a++) {
        const ua = ld(u, a);
        st(rhs, a, -(ld(grad, a) - ua * ug));
        for (let b = 0; b < k; b++) st(S, a * k + b, ld(H, a * k + b) - ua * ld(Hu, b) - ld(Hu, a) * ld(u, b) + ua * ld(u, b) * (uHu + lambda));
      }
      if (!solveSmall(S, rhs, k, M, delta)) break;
      // Backtracking: the first step length that lowers f.
      let step: f64 = 1;
      let accepted = false;
      for (let bt = 0; bt < 6; bt++, step /= 2) {
        let nrm: f64 = 0;
        for (let a = 0; a < k; a++) {
          const va = ld(u, a) + step * ld(delta, a);
          st(v, a, va);
          nrm += va * va;
        }
        nrm = Math.sqrt(nrm);
        for (let a = 0; a < k; a++) st(v, a, ld(v, a) / nrm);
        svecOuter(phiv, v, k);
        const fv = objective(G, phiv, mz);
        if (fv < f) {
          const rel = (f - fv) / Math.max(f, 1e-300);
          memory.copy(u, v, <usize>k << 3);
          f = fv;
          accepted = true;
          if (rel < 1e-8) it = maxIter; // converged far below the statistical error
          break;
        }
      }
      if (!accepted) break;
    }
    memory.copy(out, u, <usize>k << 3);
    st(F, c, f);
  }
}
