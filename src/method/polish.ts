/**
 * Step 3 of the method (README, Method in brief), last part: the Gauss–Newton polish of each pure
 * direction on the non-linearized detector f(u) = ‖T̂ svec(uuᵀ)‖² = φᵀGφ (φ = svec(uuᵀ), G =
 * T̂ᵀT̂ from nullspace.ts), which is zero exactly at the pure directions, and the choice of k
 * distinct polished directions from the candidates every Jennrich pair offers (extract.ts).
 */
import type { Kernels } from '../kernels/types.js';

/** |cos| above which two directions count as the same pure direction (u and −u are the same). */
const SAME_DIRECTION = 0.98;

function isNew(u: Float64Array, chosen: Float64Array[]): boolean {
  for (const v of chosen) {
    let c = 0;
    for (let i = 0; i < u.length; i++) c += u[i] * v[i];
    if (Math.abs(c) > SAME_DIRECTION) return false;
  }
  return true;
}

/** Gauss–Newton steps per direction at most (most converge in a few; Kernels.polish). */
const POLISH_STEPS = 12;

/** Unit vectors of length k, one after the other (count×k). */
function packed(us: Float64Array[], k: number): Float64Array {
  const U = new Float64Array(us.length * k);
  us.forEach((u, c) => U.set(u, c * k));
  return U;
}

/**
 * Picks k distinct pure directions from the candidate pool and polishes them.
 *
 * Every candidate is scored by the non-linearized detector f(u) = ‖T̂ svec(uuᵀ)‖², which is
 * zero exactly at the pure directions; candidates are taken in increasing f, skipping any
 * that repeat a chosen direction, then polished. A polished direction that has converged onto
 * one already chosen is replaced by the next candidate. Returns undefined when the pool holds
 * fewer than k distinct directions. The scoring and the polish are kernels (Kernels
 * .detectorObjectives, .polish): compiled code, where these loops ran cold in JS in a fresh process.
 */
export function selectAndPolish(kernels: Kernels, candidates: Float64Array[], G: Float64Array, k: number, budget = Infinity, cap = budget + k): Float64Array[] | undefined {
  const fs = kernels.detectorObjectives(G, k, packed(candidates, k), candidates.length);
  const scored = candidates.map((u, i) => ({ u, f: fs[i] })).sort((a, b) => a.f - b.f);
  // The starts: candidates in increasing f, each distinct from the starts before it, at most
  // `cap` of them. They do not depend on the polish, so `budget` of them are polished in one
  // call, and more one at a time only while the polished ones hold fewer than k distinct
  // directions.
  const starts: Float64Array[] = [];
  for (const { u } of scored) {
    if (starts.length >= cap) break; // bounded work: fill up below instead
    if (isNew(u, starts)) starts.push(u);
  }
  const polished: { u: Float64Array; f: number }[] = [];
  const polishStarts = (from: number, to: number) => {
    const U = packed(starts.slice(from, to), k);
    const f = kernels.polish(G, k, U, to - from, POLISH_STEPS);
    for (let c = 0; c < to - from; c++) polished.push({ u: U.slice(c * k, (c + 1) * k), f: f[c] });
  };
  const pick = (pool: { u: Float64Array; f: number }[]) => {
    const chosen: Float64Array[] = [];
    for (const { u } of [...pool].sort((a, b) => a.f - b.f)) {
      if (chosen.length === k) break;
      if (isNew(u, chosen)) chosen.push(u);
    }
    return chosen;
  };
  let chosen: Float64Array[] = [];
  polishStarts(0, Math.min(budget, starts.length));
  for (;;) {
    if (polished.length >= budget && (chosen = pick(polished)).length === k) return chosen;
    if (polished.length >= starts.length) break;
    polishStarts(polished.length, polished.length + 1);
  }
  chosen = pick(polished);
  if (chosen.length === k) return chosen;
  // Polishing merged some starts into the same direction: fill up with distinct unpolished
  // candidates rather than fail (the fit is then rough, and the diagnostics say so).
  for (const { u } of scored) {
    if (chosen.length === k) break;
    if (isNew(u, chosen)) chosen.push(u);
  }
  return chosen.length === k ? chosen : undefined;
}
