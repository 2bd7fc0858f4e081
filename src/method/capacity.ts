/**
 * What the spectral steps need for k hidden units, known before any data are read, and the
 * refusal of what cannot fit (never a wasm abort, never after the pass that would have been
 * wasted).
 *
 * The two large objects grow as k⁴ (mz = triLen(k), mh = triLen(hDim), hDim = k when x is reduced,
 * else up to d):
 * - the detector T of pass 2, mh×mz doubles, accumulated by the detector kernel;
 * - the extraction's eigenproblem G = T̂ᵀT̂, mz×mz (method/nullspace.ts), whose symEig holds the
 *   matrix, its work copy and the eigenvectors: 3·mz² doubles.
 * A wasm kernel call holds all its buffers in one block, at most WASM_BLOCK_BYTES (about 1 GiB;
 * kernels/types.ts). Both backends accept the same problems, so that one answer never depends on
 * the backend; the JS backend would need as much memory and far more time there.
 */
import { PureneuronError } from '../errors.js';
import { BATCH_ROWS, WASM_BLOCK_BYTES } from '../kernels/types.js';
import { triLen } from '../math/symcoords.js';

export interface StageNeed {
  stage: string;
  /** What the stage holds, in words ("a 6 670 × 6 670 eigenproblem"). */
  what: string;
  bytes: number;
}

/** The two k⁴ stages' needs in one wasm block: their dominant buffers (the detector's feature panels hold BATCH_ROWS rows). */
export function spectralNeeds(k: number, hDim: number): StageNeed[] {
  const mz = triLen(k);
  const mh = triLen(hDim);
  return [
    { stage: 'pass 2', what: `a ${grouped(mh)} × ${grouped(mz)} detector`, bytes: 8 * (mh * mz + BATCH_ROWS * (mh + mz + 8)) },
    { stage: 'extraction', what: `a ${grouped(mz)} × ${grouped(mz)} eigenproblem`, bytes: 8 * (3 * mz * mz + 2 * mz) },
  ];
}

/** The largest k whose stages fit (hDim = k, or a fixed hDim when x is not reduced). */
export function largestK(hDim: (k: number) => number, limit = WASM_BLOCK_BYTES): number {
  let k = 0;
  while (spectralNeeds(k + 1, hDim(k + 1)).every((s) => s.bytes <= limit)) k++;
  return k;
}

/** Whether checkSpectralFits passes. */
export const spectralFits = (k: number, d: number, reduceX: boolean): boolean => spectralNeeds(k, reduceX ? k : d).every((s) => s.bytes <= WASM_BLOCK_BYTES);

/**
 * Refuses k whose detector or eigenproblem would not fit in one wasm block: a PureneuronError
 * (BAD_OPTION) naming the stage, its need, the limit and the largest k that fits.
 * `reduceX` false: the detector's input side is x itself, up to d wide. `chosen`: k is what
 * k 'auto' chose from pass 1, and the message says so.
 */
export function checkSpectralFits(k: number, d: number, reduceX: boolean, chosen = false): void {
  const hDim = (kk: number) => (reduceX ? kk : d);
  const over = spectralNeeds(k, hDim(k)).find((s) => s.bytes > WASM_BLOCK_BYTES);
  if (!over) return;
  const kMax = largestK(hDim);
  const fix = kMax < 1 ? 'reduce x (reduceX: true)' : chosen ? `give k ≤ ${kMax}` : `use k ≤ ${kMax}`;
  throw new PureneuronError(
    'BAD_OPTION',
    `${chosen ? `k 'auto' chose k = ${k} (the rank of the linear part), which` : `k = ${k}`} needs ${over.what} in ${over.stage}: ${gb(over.bytes)} of memory in one block; the limit is ${gb(WASM_BLOCK_BYTES)} (a wasm kernel's largest allocation, kept for both backends); ${fix}`,
  );
}

const gb = (bytes: number): string => `${(bytes / 1e9).toFixed(2)} GB`;
/** 20100 → "20 100": thin-space groups of three, as the numbers in messages read. */
const grouped = (v: number): string => String(v).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');

/**
 * Rates of the dominant stages, measured on the development machine (AMD EPYC, one core, wasm;
 * the JS backend is ~4× slower): the detector's GEMM ~18 GFLOP/s per worker (pass 2 of the
 * README's benchmark), the eigensolver of the extraction ~1e9·m³/s on detector Gram matrices
 * (m = 1035 … 2016), the rest of an extraction (Jennrich and the polish, in JS) ~k·mz²/1.1e7 s
 * (0.8 s at k = 32), the refinement's Cholesky factor and inverse (2·p³/3) ~7 GFLOP/s. Estimates
 * from them are good to a factor ~2: enough to warn before a run of minutes.
 */
const RATES = { gemm: 18e9, eig: 1e9, polish: 1.1e7, factor: 7e9, jsSlowdown: 4 } as const;

/** The long stages' run time in seconds for n samples at k (pass 2, the three extractions, the refinement's factorizations). */
export function runTimeEstimate(o: { n: number; k: number; d: number; reduceX: boolean; workers: number; wasm: boolean; refine: boolean }): { stage: string; seconds: number }[] {
  const mz = triLen(o.k);
  const mh = triLen(o.reduceX ? o.k : o.d);
  const slow = o.wasm ? 1 : RATES.jsSlowdown;
  const lanes = Math.max(1, o.workers);
  const p = o.k * o.d;
  return [
    { stage: 'pass 2', seconds: (o.n * 2 * mh * mz * slow) / RATES.gemm / lanes },
    // Three extractions (the full fit and the error estimate's halves), up to three at once.
    { stage: 'extraction', seconds: (3 * ((mz ** 3 * slow) / RATES.eig + (2 * mh * mz * mz * slow) / RATES.gemm + (o.k * mz * mz) / RATES.polish)) / Math.min(3, lanes) },
    { stage: 'refinement', seconds: o.refine ? (((2 * p ** 3) / 3) * slow) / RATES.factor : 0 },
  ];
}
