/** What every pass module of this folder provides, and the split of chunks into halves they share. */
import type { Kernels, RowWeights } from '../kernels/types.js';
import type { Chunk } from '../types.js';
import type { PassState } from './state.js';

export interface PassDef<Params, Sums> {
  /**
   * The pass over one chunk whose first sample is sample `start` of the data: fresh sums,
   * returned as the PassState workers post and state files store. The same function runs on
   * the calling thread and in worker threads; the caller merges states in chunk order.
   */
  run(kernels: Kernels, params: Params, chunk: Chunk, start: number): PassState;
  /** A (merged) state as the sums the method reads: views of its arrays, no copies. */
  read(state: PassState): Sums;
  /**
   * Groups of fields (by name prefix) that must be finite after the pass, and what it means
   * when they are not although every value of the data is: the sums overflowed.
   */
  finite: { fields: string[]; overflow: { what: string; scale: string; fix: string } }[];
}

/**
 * A 32-bit hash of row `row` of x (width d) that does not change when the row changes sign: the
 * 64 bits of each value, every sign bit flipped when the row's first nonzero value is negative,
 * mixed word by word by murmur3's body (each word multiplied and rotated before it enters), then
 * by murmur3's finalizer. So x and −x hash alike — a sample augmented with its negations keeps
 * each pair in one half (see halves()) — while rows that differ otherwise hash apart, ±1 and
 * small-integer rows included: their words differ only in the top bits, which a multiply
 * alone (FNV-1a, used before) carries to bit 31 only — every ±1 row then hashed to one of two
 * values, in the same half, and the half-sample estimate failed on such data. `words` is x
 * viewed as 32-bit words (wordsOf).
 */
export function rowHash(words: Uint32Array, row: number, d: number): number {
  const start = 2 * row * d + HIGH;
  const end = start + 2 * d;
  let flip = 0;
  for (let i = start; i < end; i += 2) {
    const w = words[i];
    if ((w & 0x7fffffff) !== 0 || words[i - HIGH + LOW] !== 0) {
      flip = w & 0x80000000;
      break;
    }
  }
  let h = 0x811c9dc5;
  for (let i = start; i < end; i += 2) h = mixWord(mixWord(h, words[i] ^ flip), words[i - HIGH + LOW]);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** murmur3's body for one 32-bit word k: k scrambled (multiply, rotate, multiply) into h, then h rotated and stepped. */
function mixWord(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** The 32-bit words of x (the low word of each double first, whatever the host's byte order). */
export const wordsOf = (x: Float64Array): Uint32Array => new Uint32Array(x.buffer, x.byteOffset, 2 * x.length);
const [LOW, HIGH] = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? [0, 1] : [1, 0];

/** A chunk's arrays must hold its rows (as the kernels check): the rows are read here first. */
function checkChunk(c: Chunk, d: number, l: number): void {
  if (c.x.length < c.rows * d) throw new RangeError(`x has length ${c.x.length}, expected at least ${c.rows * d}`);
  if (c.y.length < c.rows * l) throw new RangeError(`y has length ${c.y.length}, expected at least ${c.rows * l}`);
}

/** Gather buffers and row lists, one set per use, reused chunk after chunk (kernels are synchronous, never re-entered). */
const buffers = [0, 1, 2].map(() => ({ x: new Float64Array(0), y: new Float64Array(0), rho: new Float64Array(0), rows: new Int32Array(0) }));
type Buffers = (typeof buffers)[number];

/** The rowHash of every row of a chunk, reused chunk after chunk (as the buffers above). */
let hashes = new Uint32Array(0);

/**
 * rowHash of each row of chunk c (its arrays checked first), in a buffer the next call reuses:
 * computed once per chunk for both of its uses in pass 2 (halves and subsample).
 */
export function hashRows(c: Chunk, d: number, l: number): Uint32Array {
  checkChunk(c, d, l);
  if (hashes.length < c.rows) hashes = new Uint32Array(c.rows);
  const words = wordsOf(c.x);
  for (let r = 0; r < c.rows; r++) hashes[r] = rowHash(words, r, d);
  return hashes;
}

/**
 * Rows `list[0..count)` of chunk c, copied into `g` (with their given weights). Robust weights
 * computed by the kernel are written over the front of the chunk's own `out`: the parts of a
 * chunk are used one after the other, and the whole chunk's weights no longer.
 */
function gather(c: Chunk, rho: RowWeights | undefined, d: number, l: number, g: Buffers, count: number): { part: Chunk; rho?: RowWeights } {
  if (g.x.length < count * d) g.x = new Float64Array(count * d);
  if (g.y.length < count * l) g.y = new Float64Array(count * l);
  const { x, y, rows: list } = g;
  const cx = c.x, cy = c.y;
  for (let t = 0; t < count; t++) {
    const r = list[t];
    for (let j = 0, a = r * d, b = t * d; j < d; j++) x[b + j] = cx[a + j];
    for (let j = 0, a = r * l, b = t * l; j < l; j++) y[b + j] = cy[a + j];
  }
  let w: RowWeights | undefined;
  if (rho instanceof Float64Array) {
    if (g.rho.length < count) g.rho = new Float64Array(count);
    for (let t = 0; t < count; t++) g.rho[t] = rho[list[t]];
    w = g.rho.subarray(0, count);
  } else if (rho) w = { ...rho, out: rho.out.subarray(0, count) };
  return { part: { x: x.subarray(0, count * d), y: y.subarray(0, count * l), rows: count }, rho: w };
}

/**
 * The error estimate's two halves of a chunk: add(h, rows of half h, their weights) for h = 0, 1.
 * A row's half is the top bit of its rowHash (`hash`, from hashRows): a random split for
 * independent samples, and one that keeps x and −x together, so that each half of a sample
 * augmented with its negations is exactly symmetric as the whole is (the first and second half
 * of a block [X; −X] are not, and fits of them are biased where the whole fit is exact). Rows
 * are gathered (copied) into one buffer per half; weights given per row are gathered with them,
 * robust weights are computed by the kernel per half.
 */
export function halves(c: Chunk, hash: Uint32Array, rho: RowWeights | undefined, d: number, l: number, add: (h: 0 | 1, part: Chunk, rho?: RowWeights) => void): void {
  for (const g of buffers) if (g.rows.length < c.rows) g.rows = new Int32Array(c.rows);
  const count = [0, 0];
  for (let r = 0; r < c.rows; r++) {
    const h = hash[r] >>> 31;
    buffers[h].rows[count[h]++] = r;
  }
  for (const h of [0, 1] as const) {
    if (count[h] === 0) continue;
    if (count[h] === c.rows) return add(h, c, rho);
    const g = gather(c, rho, d, l, buffers[h], count[h]);
    add(h, g.part, g.rho);
  }
}

/**
 * The rows of a chunk in a subsample of the data (a fraction `fraction` of all rows, whichever
 * chunk they are in): those whose rowHash, without its top bit (the halves' bit), falls below
 * fraction·2³¹. The rows in the thread's gather buffer (copy what must outlive the next
 * call); undefined when none is selected. Like the halves, the subsample keeps x and −x
 * together, and it is the same whatever the chunking.
 */
export function subsample(c: Chunk, hash: Uint32Array, d: number, l: number, fraction: number): Chunk | undefined {
  const g = buffers[2];
  if (g.rows.length < c.rows) g.rows = new Int32Array(c.rows);
  const limit = fraction * 2 ** 31;
  let count = 0;
  for (let r = 0; r < c.rows; r++) if ((hash[r] & 0x7fffffff) < limit) g.rows[count++] = r;
  return count === 0 ? undefined : gather(c, undefined, d, l, g, count).part;
}
