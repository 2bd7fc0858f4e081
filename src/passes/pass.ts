/** What every pass module of this folder provides, and the chunk halves they share. */
import type { Kernels, RowWeights } from '../kernels/types.js';
import { weightRows } from '../method/weights.js';
import type { Chunk } from '../types.js';
import { rowsOf, type PassState } from './state.js';

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
 * Calls add(0, first half of the chunk) and add(1, second half), with their weights (views, no
 * copies). A one-row chunk goes wholly to the half given by the parity of its index `start`,
 * so that even chunkRows = 1 fills both halves.
 */
export function halves(c: Chunk, rho: RowWeights | undefined, d: number, l: number, start: number, add: (h: 0 | 1, part: Chunk, rho?: RowWeights) => void): void {
  if (c.rows === 1) return add((start & 1) as 0 | 1, c, rho);
  const h = c.rows >> 1;
  if (h > 0) add(0, rowsOf(c, 0, h, d, l), weightRows(rho, 0, h));
  add(1, rowsOf(c, h, c.rows, d, l), weightRows(rho, h, c.rows));
}
