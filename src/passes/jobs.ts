/**
 * Per-chunk pass jobs: given a chunk, build fresh accumulators for one pass, add the chunk and
 * return their sums as a PassState. The same function runs on the calling thread (workers: 0)
 * and in worker threads, and the caller merges states in chunk order, so the result is the same
 * bits whatever the number of workers.
 *
 * Every pass keeps the sums of the first and second half of each chunk apart where the error
 * estimate needs them (suffix 0 and 1; see errorEstimate.ts).
 */
import type { DetectorPlan, Kernels, RowWeights } from '../kernels/types.js';
import { DetectorAccumulator } from './detector.js';
import { Moments1Accumulator } from './moments1.js';
import { ReadoutAccumulator } from './readout.js';
import { HessianAccumulator, VarProAccumulator } from '../method/refine.js';
import { SymmetryAccumulator } from '../method/symmetry.js';
import type { Chunk } from '../types.js';
import { robustWeighting, weightRows, type Weighting } from '../method/weights.js';
import type { PassState } from './state.js';

export type JobKind = 'pass1' | 'pass2' | 'pass3' | 'refine';

export interface Pass1Params { d: number; l: number; weighting?: Weighting }
export interface Pass2Params { plan: DetectorPlan; weighting?: Weighting }
export interface Pass3Params { W: Float64Array; k: number; d: number; l: number; weighting?: Weighting }
export interface RefineParams { W: Float64Array; k: number; d: number; l: number; weighting?: Weighting; hessianRows: number }

/**
 * Calls add(0, first half of the chunk) and add(1, second half), with their weights (views, no
 * copies). A one-row chunk goes wholly to the half given by the parity of its index `start`,
 * so that even chunkRows = 1 fills both halves.
 */
export function halves(c: Chunk, rho: RowWeights | undefined, d: number, l: number, start: number, add: (i: 0 | 1, part: Chunk, rho?: RowWeights) => void): void {
  if (c.rows === 1) return add((start & 1) as 0 | 1, c, rho);
  const h = c.rows >> 1;
  const part = (from: number, to: number): Chunk => ({ x: c.x.subarray(from * d, to * d), y: c.y.subarray(from * l, to * l), rows: to - from });
  if (h > 0) add(0, part(0, h), weightRows(rho, 0, h));
  add(1, part(h, c.rows), weightRows(rho, h, c.rows));
}

/** Rows [0, m) of a chunk, as views. */
function head(c: Chunk, m: number, d: number, l: number): Chunk {
  return { x: c.x.subarray(0, m * d), y: c.y.subarray(0, m * l), rows: m };
}

/** Rows [m, rows) of a chunk, as views. */
function rest(c: Chunk, m: number, d: number, l: number): Chunk {
  return { x: c.x.subarray(m * d), y: c.y.subarray(m * l), rows: c.rows - m };
}

/** Moments1Accumulator ⇄ state fields with a suffix. */
export function moments1State(m: Moments1Accumulator, s: string, out: PassState): void {
  const { xx, yx, yy, xs, ys } = m.sums;
  Object.assign(out, { ['xx' + s]: xx, ['yx' + s]: yx, ['yy' + s]: yy, ['xs' + s]: xs, ['ys' + s]: ys, ['n' + s]: m.n, ['w' + s]: m.weight });
}
export function absorbMoments1(m: Moments1Accumulator, st: PassState, s: string): void {
  for (const key of ['xx', 'yx', 'yy', 'xs', 'ys'] as const) m.sums[key].set(st[key + s] as Float64Array);
  m.n = st['n' + s] as number;
  m.weight = st['w' + s] as number;
}

export function varProState(v: VarProAccumulator, s: string, out: PassState): void {
  Object.assign(out, { ['S1' + s]: v.S1, ['S2' + s]: v.S2, ['rr' + s]: v.rr, ['ry' + s]: v.ry, ['yy' + s]: v.yy, ['w' + s]: v.weight });
}
export function absorbVarPro(v: VarProAccumulator, st: PassState, s: string): void {
  v.S1.set(st['S1' + s] as Float64Array);
  v.S2.set(st['S2' + s] as Float64Array);
  v.rr.set(st['rr' + s] as Float64Array);
  v.ry.set(st['ry' + s] as Float64Array);
  v.yy = st['yy' + s] as number;
  v.weight = st['w' + s] as number;
}

/**
 * Runs one pass over one chunk. `start` is the index of the chunk's first sample in the data
 * (the refinement's Gauss–Newton matrix uses the first `hessianRows` samples only).
 */
export function runChunkJob(kernels: Kernels, kind: JobKind, params: unknown, chunk: Chunk, start: number): PassState {
  const out: PassState = {};
  switch (kind) {
    case 'pass1': {
      // Weights, second moments and the symmetry test's odd moments from one kernel call per half.
      const { d, l, weighting } = params as Pass1Params;
      const rho = weighting ? robustWeighting(weighting, d, chunk.rows) : undefined;
      const sym = new SymmetryAccumulator(d);
      const m = [new Moments1Accumulator(kernels, d, l, sym.sums), new Moments1Accumulator(kernels, d, l, sym.sums)];
      halves(chunk, rho, d, l, start, (i, part, w) => m[i].add(part, w));
      moments1State(m[0], '0', out);
      moments1State(m[1], '1', out);
      // Own arrays (the accumulator's four are views of one buffer, which a clone would keep whole).
      Object.assign(out, { s1: sym.s1.slice(), v1: sym.v1.slice(), s3: sym.s3.slice(), v3: sym.v3.slice() });
      return out;
    }
    case 'pass2': {
      const { plan, weighting } = params as Pass2Params;
      const rho = weighting ? robustWeighting(weighting, plan.d, chunk.rows) : undefined;
      const det = [new DetectorAccumulator(kernels, plan), new DetectorAccumulator(kernels, plan)];
      halves(chunk, rho, plan.d, plan.l, start, (i, part, w) => det[i].add(part, w));
      det.forEach((a, i) => Object.assign(out, { ['T' + i]: a.T, ['n' + i]: a.n, ['w' + i]: a.weight }));
      return out;
    }
    case 'pass3': {
      const { W, k, d, l, weighting } = params as Pass3Params;
      const ro = new ReadoutAccumulator(kernels, W, k, d, l);
      ro.add(chunk, weighting ? robustWeighting(weighting, d, chunk.rows) : undefined);
      return { rr: ro.sums.rr, ry: ro.sums.ry, n: ro.n, w: ro.weight };
    }
    case 'refine': {
      const { W, k, d, l, weighting, hessianRows } = params as RefineParams;
      const rho = weighting ? robustWeighting(weighting, d, chunk.rows) : undefined;
      // The Gauss–Newton matrix and its Schur pieces ('H' sums) from the first hessianRows
      // samples only; the full sums continue from the 'H' sums over the rest of the chunk, so
      // the head rows are read once.
      const m = Math.max(0, Math.min(chunk.rows, hessianRows - start));
      const hes = new HessianAccumulator(W, k, d, kernels);
      const vpH = new VarProAccumulator(W, k, d, l, kernels);
      const vp = new VarProAccumulator(W, k, d, l, kernels);
      if (m > 0) {
        // The first call computes the head's ρ (into rho.out); the second reuses them.
        hes.add(head(chunk, m, d, l), weightRows(rho, 0, m));
        vpH.add(head(chunk, m, d, l), rho?.out.subarray(0, m));
        vp.copyFrom(vpH);
      }
      if (m < chunk.rows) vp.add(rest(chunk, m, d, l), weightRows(rho, m, chunk.rows));
      varProState(vp, '', out);
      Object.assign(out, { M: hes.M, wM: hes.weight });
      varProState(vpH, 'H', out);
      return out;
    }
  }
}
