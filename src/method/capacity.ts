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
