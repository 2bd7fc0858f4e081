/**
 * Pass 1: second moments Σxxᵀ, Σyxᵀ, Σyyᵀ and first moments Σx, Σy, each half of every chunk
 * apart (the half-sample error estimate refits each half), and the symmetry test's odd-moment
 * sums of x over the whole chunk.
 *
 * State fields (suffix h = 0, 1 for the first and second half of every chunk):
 *   xx{h} d×d (upper triangle), yx{h} l×d, yy{h} l×l (upper triangle), xs{h} d, ys{h} l,
 *   n{h} samples, w{h} Σρ;   s1, v1, s3, v3 (d each): the odd sums (method/symmetry.ts).
 */
import type { Kernels, Moments1Sums, RowWeights } from '../kernels/types.js';
import type { Pass1Sums, WeightedMoments } from '../method/stages.js';
import { robustWeighting, weightSum, type Weighting } from '../method/weights.js';
import type { Chunk } from '../types.js';
import { halves, hashRows, type PassDef } from './pass.js';
import type { PassState } from './state.js';

export interface Pass1Params {
  d: number;
  l: number;
  weighting?: Weighting;
}

/** Kernels.moments1 sums over the chunks added, with their sample count n and Σρ. */
class Moments1Accumulator implements WeightedMoments {
  n = 0;
  weight = 0;
  readonly sums: Moments1Sums;

  /** `odd` (4d, S1 | V1 | S3 | V3): also accumulate the symmetry test's odd sums there (Moments1Sums.odd). */
  constructor(
    private readonly kernels: Kernels,
    private readonly d: number,
    private readonly l: number,
    odd: Float64Array,
  ) {
    this.sums = { xx: new Float64Array(d * d), yx: new Float64Array(l * d), yy: new Float64Array(l * l), xs: new Float64Array(d), ys: new Float64Array(l), odd };
  }

  /** With `rho`, sample r counts with weight ρ_r (given, or computed by the kernel: see method/weights.ts). */
  add(chunk: Chunk, rho?: RowWeights): void {
    this.kernels.moments1(this.sums, chunk.x, chunk.y, chunk.rows, this.d, this.l, rho ?? null);
    this.weight += weightSum(rho, chunk.rows);
    this.n += chunk.rows;
  }
}

const MOMENTS = ['xx', 'yx', 'yy', 'xs', 'ys'] as const;
const ODD = ['s1', 'v1', 's3', 'v3'] as const;

export const pass1: PassDef<Pass1Params, Pass1Sums> = {
  run(kernels, { d, l, weighting }, chunk) {
    // Weights, second moments and the odd sums from one kernel call per half.
    const rho = weighting ? robustWeighting(weighting, d, chunk.rows) : undefined;
    const odd = new Float64Array(4 * d);
    const m = [new Moments1Accumulator(kernels, d, l, odd), new Moments1Accumulator(kernels, d, l, odd)];
    halves(chunk, hashRows(chunk, d, l), rho, d, l, (h, part, w) => m[h].add(part, w));
    const out: PassState = {};
    m.forEach((a, h) => {
      for (const key of MOMENTS) out[key + h] = a.sums[key];
      out['n' + h] = a.n;
      out['w' + h] = a.weight;
    });
    // Own arrays: views of one buffer would be cloned whole into every field.
    ODD.forEach((key, i) => (out[key] = odd.slice(i * d, (i + 1) * d)));
    return out;
  },

  read(state) {
    const half = (h: number): WeightedMoments => ({
      sums: Object.fromEntries(MOMENTS.map((key) => [key, state[key + h] as Float64Array])) as unknown as Moments1Sums,
      n: state['n' + h] as number,
      weight: state['w' + h] as number,
    });
    const d = (state.s1 as Float64Array).length;
    const odd = new Float64Array(4 * d);
    ODD.forEach((key, i) => odd.set(state[key] as Float64Array, i * d));
    return { halves: [half(0), half(1)], odd };
  },

  finite: [
    { fields: ['xx', 'xs'], overflow: { what: 'second moments of x', scale: '1e150', fix: 'x' } },
    { fields: ['yy', 'ys', 'yx'], overflow: { what: 'second moments of y', scale: '1e150', fix: 'y' } },
  ],
};
