/**
 * A source read once per run: its first complete pass is kept in shared memory (x n×d, y n×l
 * row-major), and the later passes read from there — the same chunks, so the same sums and the
 * same bits, and chunks that the workers read in place (no copy into their slots). learn()
 * wraps sources that are not in memory already (files), when their samples fit its cacheBytes.
 */
import { throwIfAborted } from '../errors.js';
import type { Chunk, SampleSource } from '../types.js';
import { readsInto } from '../sources/index.js';
import { sharedF64 } from './sharedMemory.js';

/** Bytes the cache would hold for `source`; undefined when n is not known before reading. */
export const cacheNeed = (source: SampleSource): number | undefined => (source.n === undefined ? undefined : 8 * source.n * (source.d + source.l));

/** The sources cachedSource wrapped, by wrapper. */
const origins = new WeakMap<SampleSource, SampleSource>();

/**
 * The source a cache wraps (`s` itself otherwise): a rescan for a bad value reads the files
 * again, so that the error names the file and line (the cache's first pass does not check values).
 */
export const uncached = (s: SampleSource): SampleSource => origins.get(s) ?? s;

export function cachedSource(source: SampleSource): SampleSource {
  const { d, l } = source;
  const n = source.n!;
  let x: Float64Array | undefined;
  let y: Float64Array | undefined;
  // The first complete pass: its maxRows and the rows of each chunk it yielded (replayed as is).
  let kept: { maxRows: number; rows: number[] } | undefined;
  const view = (start: number, rows: number): Chunk => ({ x: x!.subarray(start * d, (start + rows) * d), y: y!.subarray(start * l, (start + rows) * l), rows });
  const cached: SampleSource = {
    d,
    l,
    n,
    async *chunks(maxRows: number, signal?: AbortSignal): AsyncGenerator<Chunk> {
      if (kept && kept.maxRows === maxRows) {
        let start = 0;
        for (const rows of kept.rows) {
          throwIfAborted(signal, 'reading samples');
          yield view(start, rows);
          start += rows;
        }
        return;
      }
      x ??= sharedF64(n * d);
      y ??= sharedF64(n * l);
      const rowsOf: number[] = [];
      let start = 0;
      let whole = true;
      // A file source reads straight into the cache (its chunks are views at their rows there).
      const direct = readsInto(source);
      const first = direct ? source.chunksInto(maxRows, { x, y }, signal) : source.chunks(maxRows, signal);
      for await (const c of first) {
        if (direct) {
          rowsOf.push(c.rows);
          yield c;
          start += c.rows;
          continue;
        }
        if (start + c.rows > n || !(c.x.length >= c.rows * d && c.y.length >= c.rows * l)) {
          // More samples than announced, or a chunk shorter than its rows: passed on as is, for
          // the checks downstream to name it; nothing is kept from this pass.
          whole = false;
          yield c;
          start += c.rows;
          continue;
        }
        x.set(c.x.subarray(0, c.rows * d), start * d);
        y.set(c.y.subarray(0, c.rows * l), start * l);
        rowsOf.push(c.rows);
        yield view(start, c.rows);
        start += c.rows;
      }
      if (whole && start === n && rowsOf.length > 0) kept = { maxRows, rows: rowsOf };
    },
  };
  origins.set(cached, source);
  return cached;
}
