/**
 * The extraction's polish in JS: the twin of assembly/polish.ts (the same IEEE operations in
 * the same order; the four-at-a-time objective gives each direction the bits of the single one:
 * the same products and sums per direction). Definitions: Kernels.polish and
 * Kernels.detectorObjectives in ../types.ts; the method: method/polish.ts.
 */
import { solveSmall } from '../../math/linalg.js';
import { svecOuter, triIndex, triLen } from '../../math/symcoords.js';

/** Kernels.polish: every row of U (count×k) polished in place; f of each result. */
export function polish(G: Float64Array, k: number, U: Float64Array, count: number, maxIter: number): Float64Array {
  const mz = triLen(k);
  const f = new Float64Array(count);
  for (let c = 0; c < count; c++) {
    const u = polishDirection(U.subarray(c * k, (c + 1) * k), G, k, maxIter);
    U.set(u, c * k);
    f[c] = objective(u, G, mz);
  }
  return f;
}

/** Kernels.detectorObjectives: f of every row of U (count×k). */
export function detectorObjectives(G: Float64Array, k: number, U: Float64Array, count: number): Float64Array {
  return objectives(Array.from({ length: count }, (_, c) => U.subarray(c * k, (c + 1) * k)), G, triLen(k));
}

/**
 * Gauss–Newton polish of one unit vector u (length k) on the non-linearized detector
 * f(u) = ‖T̂ svec(uuᵀ)‖² = φᵀGφ with φ = svec(uuᵀ), subject to ‖u‖ = 1.
 * Jacobian of φ: Dφ (mz×k); GN normal matrix H = DφᵀGDφ, gradient g = DφᵀGφ; the step δ ⊥ u
 * solves (PHP + λuuᵀ)δ = −Pg with P = I − uuᵀ (λ > 0 only pins the u-component to 0).
 */
export function polishDirection(u0: Float64Array, G: Float64Array, k: number, maxIter = 12): Float64Array {
  const mz = triLen(k);
  let u = Float64Array.from(u0);
  let f = objective(u, G, mz);
  // Dφ is sparse: row (a,a) has 2u_a in column a; row (a,b), a<b, has √2u_b in column a and
  // √2u_a in column b. Kept as (row, column, value) triples for Dφᵀ·(…) (k² entries).
  const nnz = k * k;
  const dRow = new Int32Array(nnz);
  const dCol = new Int32Array(nnz);
  const dVal = new Float64Array(nnz);
  const GD = new Float64Array(mz * k);
  const su = new Float64Array(k); // √2·u
  for (let it = 0; it < maxIter; it++) {
    let e = 0;
    for (let a = 0; a < k; a++) {
      dRow[e] = triIndex(a, a, k); dCol[e] = a; dVal[e++] = 2 * u[a];
      for (let b = a + 1; b < k; b++) {
        const r = triIndex(a, b, k);
        dRow[e] = r; dCol[e] = a; dVal[e++] = Math.SQRT2 * u[b];
        dRow[e] = r; dCol[e] = b; dVal[e++] = Math.SQRT2 * u[a];
      }
    }
    const phi = svecOuter(u);
    // GD = G·Dφ (mz×k) and Gphi = G·φ in one sweep of G's rows. Row i's entries come in svec
    // order (c, b), c ≤ b; Dφ's rows put 2u_c on (c, c) → column c, and √2u_b → column c,
    // √2u_c → column b on (c, b), c < b. So each G entry is read once, in order.
    GD.fill(0);
    const Gphi = new Float64Array(mz);
    for (let a = 0; a < k; a++) su[a] = Math.SQRT2 * u[a];
    for (let i = 0; i < mz; i++) {
      const row = i * mz;
      const o = i * k;
      let s = 0;
      for (let c = 0, t = 0; c < k; c++) {
        let g = G[row + t];
        s += g * phi[t];
        let acc = 2 * u[c] * g;
        t++;
        const suc = su[c];
        for (let b = c + 1; b < k; b++, t++) {
          g = G[row + t];
          s += g * phi[t];
          acc += su[b] * g;
          GD[o + b] += suc * g;
        }
        GD[o + c] += acc;
      }
      Gphi[i] = s;
    }
    // H = Dφᵀ·GD (k×k), grad = Dφᵀ·Gphi.
    const H = new Float64Array(k * k);
    const grad = new Float64Array(k);
    for (let q = 0; q < nnz; q++) {
      const r = dRow[q];
      const c = dCol[q];
      const v = dVal[q];
      grad[c] += v * Gphi[r];
      for (let b = 0; b < k; b++) H[c * k + b] += v * GD[r * k + b];
    }
    // Project onto u⊥: PHP, Pg.
    const Hu = new Float64Array(k);
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) Hu[a] += H[a * k + b] * u[b];
    let uHu = 0;
    let ug = 0;
    for (let a = 0; a < k; a++) { uHu += u[a] * Hu[a]; ug += u[a] * grad[a]; }
    let trace = 0;
    for (let a = 0; a < k; a++) trace += H[a * k + a];
    const lambda = trace / k || 1;
    const S = new Float64Array(k * k);
    const rhs = new Float64Array(k);
    for (let a = 0; a < k; a++) {
      rhs[a] = -(grad[a] - u[a] * ug);
      for (let b = 0; b < k; b++) S[a * k + b] = H[a * k + b] - u[a] * Hu[b] - Hu[a] * u[b] + u[a] * u[b] * (uHu + lambda);
    }
    const delta = solveSmall(S, rhs, k);
    if (!delta) break;
    // Backtracking: accept the first step length that lowers f.
    let step = 1;
    let accepted = false;
    for (let bt = 0; bt < 6; bt++, step /= 2) {
      const v = new Float64Array(k);
      let nrm = 0;
      for (let a = 0; a < k; a++) { v[a] = u[a] + step * delta[a]; nrm += v[a] * v[a]; }
      nrm = Math.sqrt(nrm);
      for (let a = 0; a < k; a++) v[a] /= nrm;
      const fv = objective(v, G, mz);
      if (fv < f) {
        const rel = (f - fv) / Math.max(f, 1e-300);
        u = v;
        f = fv;
        accepted = true;
        if (rel < 1e-8) it = maxIter; // converged far below the statistical error
        break;
      }
    }
    if (!accepted) break;
  }
  return u;
}

export function objective(u: Float64Array, G: Float64Array, mz: number): number {
  return objectives([u], G, mz)[0];
}

/**
 * f(u) = φᵀGφ, φ = svec(uuᵀ), for every u. G is symmetric, so only its upper triangle is read:
 * f = Σ_i φ_i·(G_ii·φ_i + 2·Σ_{t>i} G_it·φ_t) — half the work of a full quadratic form — and
 * four candidates share each pass over G (one load of G_it feeds four sums).
 */
function objectives(us: Float64Array[], G: Float64Array, mz: number): Float64Array {
  const out = new Float64Array(us.length);
  const phis = us.map(svecOuter);
  let c = 0;
  for (; c + 4 <= phis.length; c += 4) {
    const p0 = phis[c], p1 = phis[c + 1], p2 = phis[c + 2], p3 = phis[c + 3];
    let f0 = 0, f1 = 0, f2 = 0, f3 = 0;
    for (let i = 0; i < mz; i++) {
      const row = i * mz;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let t = i + 1; t < mz; t++) {
        const g = G[row + t];
        s0 += g * p0[t];
        s1 += g * p1[t];
        s2 += g * p2[t];
        s3 += g * p3[t];
      }
      const gii = G[row + i];
      f0 += p0[i] * (gii * p0[i] + 2 * s0);
      f1 += p1[i] * (gii * p1[i] + 2 * s1);
      f2 += p2[i] * (gii * p2[i] + 2 * s2);
      f3 += p3[i] * (gii * p3[i] + 2 * s3);
    }
    out[c] = f0;
    out[c + 1] = f1;
    out[c + 2] = f2;
    out[c + 3] = f3;
  }
  // The rest one at a time (the polish scores single directions).
  for (; c < phis.length; c++) {
    const p = phis[c];
    let f = 0;
    for (let i = 0; i < mz; i++) {
      const row = i * mz;
      let sum = 0;
      for (let t = i + 1; t < mz; t++) sum += G[row + t] * p[t];
      f += p[i] * (G[row + i] * p[i] + 2 * sum);
    }
    out[c] = f;
  }
  return out;
}
