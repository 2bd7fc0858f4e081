/**
 * How a wasm kernel call moves its data: each kernel states its buffers once, as a table
 * `{ name: Buffer | null }` in layout order (kernels.ts), and the one runner here does the rest.
 *
 * Roles (a table entry):
 *   data(n, src?, dst?)   n doubles. `src`: its first n doubles are copied in once, before the
 *                         first wasm call (constants; accumulators such as sums and T). `dst`:
 *                         receives them once, after the last call. Neither: scratch.
 *                         acc(a, n) = data(n, a, a); input(a, n) = data(n, a);
 *                         output(a, n) = data(n, undefined, a); scratch(n) = data(n).
 *   rows(a, width)        a row-major array with `width` columns streamed in batches: rows
 *                         [r0, r0 + nb) are copied in before each batch's call (BATCH_ROWS·width).
 *   rowsOut(a, width)     the same the other way: after each batch's call, its first nb rows are
 *                         copied out to rows [r0, r0 + nb) of `a` (rows past nb are never copied).
 *   packed(of, rows, cols)  packWT of the data buffer `of` (rows×cols → ceil(rows/4) panels of
 *                         4×cols, pad4(rows)·cols doubles), written once per call, after the copies in.
 *   weights(rho, x)       the batch's sample weights ρ (BATCH_ROWS doubles): a given ρ is copied in
 *                         per batch; a RobustWeighting's ρ is computed in wasm (robustWeightsBatch)
 *                         from the batch's rows of the rows buffer `x`, already in memory, and copied
 *                         out to rho.out — so the data cross into wasm memory once per call. The
 *                         kernel writes up to 8·ceil(nb/8) ≤ BATCH_ROWS values (junk past nb, never
 *                         copied out); a RobustWeighting also reserves its invScale (d doubles).
 *   null                  an absent optional buffer: pointer 0, nothing reserved.
 * A kernel receives the byte pointers of its buffers as `p.name`. Buffers are laid out in table
 * order; offsets do not change results, but a copy's destination offset can change its speed
 * by a few percent, so a kernel's table keeps its order once measured.
 *
 * Memory:
 * - ONE persistent scratch block (exported `alloc`/`free`, TLSF) holds every buffer of a call, each
 *   at a 64-byte-aligned offset with 64 bytes of slack after it (kernels may read up to 32 B past
 *   a row). The block is regrown (free + alloc, ×1.5) only when a call needs more than it has, so
 *   memory is bounded by the largest call ever made, not by the number of calls.
 * - `memory.grow` (inside alloc) detaches the old ArrayBuffer: the Float64Array view is re-created
 *   whenever `view.buffer !== memory.buffer`, and only after the call's single allocation, so a
 *   view is never used across a grow (the kernels themselves never allocate).
 * - Everything that does not depend on the batch (offsets, pointers, the lists of rows buffers) is
 *   worked out once per call. A batch costs one wasm call and one TypedArray.set per rows and
 *   rowsOut buffer (and per given or robust ρ), each through a subarray view (the only objects
 *   made per batch).
 */
import { PureneuronError } from '../../errors.js';
import { BATCH_ROWS, WASM_BLOCK_BYTES, type RobustWeighting } from '../types.js';
import type { WasmMemory } from './api.js';

/** One buffer of a kernel call (see the module comment for the roles). */
export type Buffer =
  | { readonly role: 'data'; readonly doubles: number; readonly src?: Float64Array; readonly dst?: Float64Array }
  | { readonly role: 'rows'; readonly src: Float64Array; readonly width: number }
  | { readonly role: 'rowsOut'; readonly dst: Float64Array; readonly width: number }
  | { readonly role: 'packed'; readonly of: string; readonly rows: number; readonly cols: number }
  | { readonly role: 'weights'; readonly rho: Float64Array | RobustWeighting; readonly x: string };

/** A kernel call's buffers in layout order; null entries get pointer 0. */
export type Table<K extends string> = { readonly [name in K]: Buffer | null };
/** Byte pointers into wasm memory, one per table entry (0 for a null entry). */
export type Pointers<K extends string> = { readonly [name in K]: number };

export const data = (doubles: number, src?: Float64Array, dst?: Float64Array): Buffer => ({ role: 'data', doubles, src, dst });
export const acc = (a: Float64Array, doubles: number): Buffer => data(doubles, a, a);
export const input = (a: Float64Array, doubles: number): Buffer => data(doubles, a);
export const output = (a: Float64Array, doubles: number): Buffer => data(doubles, undefined, a);
export const scratch = (doubles: number): Buffer => data(doubles);
export const rows = (src: Float64Array, width: number): Buffer => ({ role: 'rows', src, width });
export const rowsOut = (dst: Float64Array, width: number): Buffer => ({ role: 'rowsOut', dst, width });
export const packed = (of: string, rows: number, cols: number): Buffer => ({ role: 'packed', of, rows, cols });
/** ρ of each batch, from the rows buffer named `x`; null without weights. */
export const weights = (rho: Float64Array | RobustWeighting | null | undefined, x: string): Buffer | null =>
  rho ? { role: 'weights', rho, x } : null;

export const pad4 = (n: number): number => (n + 3) & ~3;
/** Doubles of the packed panels of one batch with `cols` columns (assembly/gemm.ts packPanels). */
export const panels = (cols: number): number => pad4(cols) * BATCH_ROWS;

/** Bytes a buffer of `doubles` doubles takes in the block: whole 64-byte lines plus one line of slack. */
const footprint = (doubles: number): number => (Math.ceil(doubles / 8) + 1) * 64;

/** The exports the runner itself uses (ABI: assembly/index.ts). */
export interface RunnerExports {
  memory: WasmMemory;
  alloc(bytes: number): number;
  free(ptr: number): void;
  packWT(dst: number, M: number, rows: number, cols: number): void;
  robustWeightsBatch(out: number, X: number, nb: number, d: number, inv: number, denom: number): void;
}

export class ScratchRunner {
  private block = 0; // pointer returned by alloc (0: none)
  private capacity = 0; // usable bytes from `base`
  private base = 0; // 64-byte-aligned start of the usable region
  private view: Float64Array;
  // The current call's rows buffers (in and out) and weights, set by prepare(). Reused from
  // call to call: calls are synchronous and never re-entered.
  private readonly rowSrc: Float64Array[] = [];
  private readonly rowWidth: number[] = [];
  private readonly rowAt: number[] = []; // element index
  private readonly outDst: Float64Array[] = [];
  private readonly outWidth: number[] = [];
  private readonly outAt: number[] = []; // element index
  private rho: Float64Array | RobustWeighting | undefined;
  private pRho = 0;
  private pX = 0;
  private pInv = 0;
  private d = 0;

  constructor(private readonly ex: RunnerExports) {
    this.view = new Float64Array(ex.memory.buffer);
  }

  /** Bytes of wasm memory currently reserved (for tests of bounded growth). */
  memoryBytes(): number {
    return this.ex.memory.buffer.byteLength;
  }

  /**
   * A batched kernel over `rows` ≥ 1 rows: lays out `table`, copies in, calls `batch(p, nb)` once
   * per batch of nb ≤ BATCH_ROWS rows (its rows and weights in memory), then copies out.
   */
  batches<K extends string>(rows: number, table: Table<K>, batch: (p: Pointers<K>, nb: number) => void): void {
    const p = this.prepare(table);
    const m = this.view; // valid until the call ends: nothing allocates in wasm from here on
    const { ex, rowSrc, rowWidth, rowAt, outDst, outWidth, outAt, rho, pRho } = this;
    const nRows = rowSrc.length, nOut = outDst.length;
    const given = rho instanceof Float64Array ? rho : undefined;
    const robust = rho && !given ? (rho as RobustWeighting) : undefined;
    const atRho = pRho / 8;
    try {
      for (let r0 = 0; r0 < rows; r0 += BATCH_ROWS) {
        const nb = Math.min(rows - r0, BATCH_ROWS);
        for (let i = 0; i < nRows; i++) {
          const w = rowWidth[i];
          m.set(rowSrc[i].subarray(r0 * w, (r0 + nb) * w), rowAt[i]);
        }
        if (given) {
          m.set(given.subarray(r0, r0 + nb), atRho);
        } else if (robust) {
          ex.robustWeightsBatch(pRho, this.pX, nb, this.d, this.pInv, robust.denom);
          robust.out.set(m.subarray(atRho, atRho + nb), r0);
        }
        batch(p, nb);
        for (let i = 0; i < nOut; i++) {
          const w = outWidth[i], at = outAt[i];
          outDst[i].set(m.subarray(at, at + nb * w), r0 * w);
        }
      }
    } finally {
      this.release();
    }
    this.copyOut(table, p);
  }

  /**
   * A kernel called once: lays out `table`, copies in, runs `body` (which gets the pointers and
   * the memory view, valid throughout: nothing allocates in between), then copies out — unless
   * `body` throws.
   */
  once<K extends string, R>(table: Table<K>, body: (p: Pointers<K>, m: Float64Array) => R): R {
    const p = this.prepare(table);
    let result: R;
    try {
      result = body(p, this.view);
    } finally {
      this.release();
    }
    this.copyOut(table, p);
    return result;
  }

  /** Layout, the call's single allocation, the view, the copies in and the packing; returns the pointers. */
  private prepare<K extends string>(table: Table<K>): Pointers<K> {
    const t = table as Record<string, Buffer | null>;
    // Byte offsets first (in p, -1 for a null entry), as the allocation depends on their total.
    const p: Record<string, number> = {};
    let bytes = 0;
    let rho: Float64Array | RobustWeighting | undefined;
    let rhoAt = 0, invAt = -1, d = 0, xName = '';
    for (const name in t) {
      const buf = t[name];
      if (!buf) {
        p[name] = -1;
        continue;
      }
      p[name] = bytes;
      switch (buf.role) {
        case 'data':
          bytes += footprint(buf.doubles);
          break;
        case 'rows':
        case 'rowsOut':
          bytes += footprint(BATCH_ROWS * buf.width);
          break;
        case 'packed':
          // Packed below in table order: its source must come first (and is then copied in).
          if (t[buf.of]?.role !== 'data' || !(buf.of in p)) throw new Error(`wasm glue: '${name}' packs '${buf.of}', which is no data buffer before it`);
          bytes += footprint(pad4(buf.rows) * buf.cols);
          break;
        case 'weights': {
          const x = t[buf.x];
          if (x?.role !== 'rows') throw new Error(`wasm glue: the weights read rows buffer '${buf.x}', which the table lacks`);
          ({ rho, x: xName } = buf);
          d = x.width;
          rhoAt = bytes;
          bytes += footprint(BATCH_ROWS);
          if (!(rho instanceof Float64Array)) {
            invAt = bytes;
            bytes += footprint(d);
          }
          break;
        }
      }
    }
    const b = this.reserve(bytes);
    const m = this.f64(); // only now: the allocation may have grown memory and detached the old view
    // b is 64-byte aligned, so every pointer is too and pointer / 8 is an exact element index.
    const { rowSrc, rowWidth, rowAt, outDst, outWidth, outAt } = this;
    rowSrc.length = rowWidth.length = rowAt.length = 0;
    outDst.length = outWidth.length = outAt.length = 0;
    for (const name in t) {
      const buf = t[name];
      if (!buf) {
        p[name] = 0;
        continue;
      }
      const ptr = (p[name] += b);
      if (buf.role === 'data') {
        if (buf.src) m.set(buf.src.subarray(0, buf.doubles), ptr / 8);
      } else if (buf.role === 'rows') {
        rowSrc.push(buf.src);
        rowWidth.push(buf.width);
        rowAt.push(ptr / 8);
      } else if (buf.role === 'rowsOut') {
        outDst.push(buf.dst);
        outWidth.push(buf.width);
        outAt.push(ptr / 8);
      } else if (buf.role === 'packed') {
        this.ex.packWT(ptr, p[buf.of], buf.rows, buf.cols);
      }
    }
    this.rho = rho;
    this.d = d;
    this.pRho = rho ? b + rhoAt : 0;
    this.pX = rho ? p[xName] : 0;
    this.pInv = invAt < 0 ? 0 : b + invAt;
    if (rho && !(rho instanceof Float64Array)) m.set(rho.invScale.subarray(0, d), this.pInv / 8);
    return p as Pointers<K>;
  }

  /** Copies out every data buffer that has a destination. */
  private copyOut<K extends string>(table: Table<K>, p: Pointers<K>): void {
    const t = table as Record<string, Buffer | null>, q = p as Record<string, number>, m = this.view;
    for (const name in t) {
      const buf = t[name];
      if (buf?.role === 'data' && buf.dst) buf.dst.set(m.subarray(q[name] / 8, q[name] / 8 + buf.doubles));
    }
  }

  /** Drops the call's references to the caller's arrays (the runner outlives them). */
  private release(): void {
    this.rowSrc.length = this.outDst.length = 0;
    this.rho = undefined;
  }

  /** Ensure the scratch block holds `bytes`; returns the base byte offset. Only place that can grow memory. */
  private reserve(bytes: number): number {
    if (bytes > this.capacity) {
      // The callers refuse larger problems up front (method/capacity.ts); this names any other.
      if (bytes > WASM_BLOCK_BYTES) throw new PureneuronError('BACKEND_UNAVAILABLE', `a wasm kernel call needs ${bytes} bytes, above its limit of ${WASM_BLOCK_BYTES}`);
      // Grown ×1.5 to keep regrowth rare, but never past what one block can be.
      const cap = Math.min(Math.max(bytes, Math.ceil(this.capacity * 1.5), 1 << 20), WASM_BLOCK_BYTES);
      if (this.block) this.ex.free(this.block);
      this.block = 0;
      this.capacity = 0;
      const ptr = this.ex.alloc(cap + 64) >>> 0;
      if (ptr === 0) throw new PureneuronError('BACKEND_UNAVAILABLE', `wasm scratch allocation of ${cap} bytes failed`);
      this.block = ptr;
      this.base = ptr + ((64 - (ptr % 64)) % 64); // arithmetic, not bit ops: pointers may pass 2³¹
      this.capacity = cap;
    }
    return this.base;
  }

  /** The Float64Array over wasm memory, re-created if memory.grow detached the old buffer. */
  private f64(): Float64Array {
    if (this.view.buffer !== this.ex.memory.buffer) this.view = new Float64Array(this.ex.memory.buffer);
    return this.view;
  }
}
