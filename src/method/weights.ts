/**
 * Robust sample weights that keep the input distribution symmetric.
 *
 * The method only needs p(x) = p(−x). Reweighting every expectation by an EVEN function ρ(x)
 * gives the measure p_ρ(x) ∝ ρ(x)·p(x), which is still symmetric, under which the model
 * y = A·relu(Wx) + ξ still holds with the same A, W and independent zero-mean noise. So every
 * moment identity of the method holds with E_ρ in place of E, and the learner is unchanged
 * except that sums are weighted and divided by Σρ instead of n.
 *
 * Why: pass 2 averages fourth-order products (x⊗x times y², y ~ |x|), whose variance is
 * infinite for tails as heavy as Student-t with 3 degrees of freedom. With
 *   ρ(x) = 1 / (1 + q(x) / (c·d))²,   q(x) = Σ_j (x_j / s_j)²
 * (s_j a per-coordinate scale from the first chunk, c the `robustScale` option) every weighted
 * product stays bounded, so the estimates have finite variance whatever the tails.
 *
 * The weights are applied inside the kernels (the `rho` argument of Kernels.moments1, detector,
 * readout and the refinement's: one factor of every per-sample product is multiplied by ρ), and
 * ρ itself is computed there too, from each row as Kernels.robustWeights defines it (a
 * RobustWeighting), so no weighted copy of the data is ever made and the wasm backend copies
 * each row into its memory once per pass.
 */
import type { RobustWeighting, RowWeights } from '../kernels/types.js';
import { PureneuronError } from '../errors.js';
import type { Chunk, SampleSource } from '../types.js';

export interface Weighting {
  /** Per-coordinate scales s_j (d); 0 marks a constant-zero coordinate (ignored). */
  scales: Float64Array;
  /** The c in ρ(x) = 1/(1 + q(x)/(c·d))². */
  c: number;
}

/**
 * Samples the scales come from: the first WEIGHTING_ROWS of the data (all, if fewer), whatever
 * the chunk size, so that the chunking changes the sums in their last bits only. 8192 samples
 * give each column's RMS to ~1% (Gaussian data) — the scales only set where the weights start
 * to fall — and keep the first shard of a sharded fit (which must hold them) small.
 */
export const WEIGHTING_ROWS = 8192;

/** The weighting of a source: weightingFromChunk over its first WEIGHTING_ROWS samples (one short read). */
export async function weightingFromSource(source: SampleSource, c: number, signal?: AbortSignal): Promise<Weighting & { rows: number }> {
  for await (const chunk of source.chunks(WEIGHTING_ROWS, signal)) return { ...weightingFromChunk(chunk, source.d, c), rows: chunk.rows };
  throw new PureneuronError('TOO_FEW_SAMPLES', 'the source yielded no samples');
}

/** Robust per-coordinate scale: RMS of each column over the rows of a chunk. */
export function weightingFromChunk(chunk: Chunk, d: number, c: number): Weighting {
  const scales = new Float64Array(d);
  for (let r = 0; r < chunk.rows; r++) for (let j = 0; j < d; j++) scales[j] += chunk.x[r * d + j] ** 2;
  for (let j = 0; j < d; j++) scales[j] = Math.sqrt(scales[j] / chunk.rows);
  return { scales, c };
}

/**
 * The weights of a kernel call over `rows` rows of width d, computed by the kernel itself:
 * invScale_j = 1/s_j (0 for s_j = 0), denom = 1/(c·d), ρ written to `out`. `out` is one buffer
 * per thread, reused by the next call (a chunk job uses one weighting at a time): a fresh
 * half-megabyte array per chunk let glibc's heap creep by tens of MiB over millions of rows.
 */
export function robustWeighting(w: Weighting, d: number, rows: number): RobustWeighting {
  if (outBuffer.length < rows) outBuffer = new Float64Array(rows);
  return { invScale: Float64Array.from(w.scales, (s) => (s > 0 ? 1 / s : 0)), denom: 1 / (w.c * d), out: outBuffer.subarray(0, rows) };
}
let outBuffer = new Float64Array(0);

/** The weights of rows [from, to) of a call (views: a RobustWeighting still writes into the whole call's `out`). */
export function weightRows<W extends RowWeights | undefined>(rho: W, from: number, to: number): W {
  if (!rho) return rho;
  if (rho instanceof Float64Array) return rho.subarray(from, to) as W;
  return { ...rho, out: rho.out.subarray(from, to) } as W;
}

/** Σρ of a call's `rows` rows once its kernel ran (= rows without weights), in row order from +0. */
export function weightSum(rho: RowWeights | undefined, rows: number): number {
  if (!rho) return rows;
  const a = rho instanceof Float64Array ? rho : rho.out;
  let s = 0;
  for (let i = 0; i < rows; i++) s += a[i];
  return s;
}
