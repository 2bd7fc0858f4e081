/**
 * The wasm glue's runner (src/kernels/wasm/layout.ts) on a fake module whose "memory" is a plain
 * ArrayBuffer, so the layout, the copies and the batch loop are checked exactly, including a
 * memory.grow that detaches the old buffer; and the worker bundle, which must not embed the
 * wasm bytes (workers instantiate the calling thread's compiled module).
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { BATCH_ROWS } from '../src/kernels/types.js';
import { acc, data, input, output, packed, rows, rowsOut, scratch, ScratchRunner, weights, type RunnerExports } from '../src/kernels/wasm/layout.js';
import { WASM_BASE64 } from '../src/kernels/wasm/bytes.generated.js';
import { wasmModule } from '../src/kernels/wasm/index.js';
import { WORKER_SOURCE } from '../src/parallel/worker.generated.js';

const MiB = 1 << 20;

/** A fake module: alloc hands out `at`, and the first alloc "grows" memory (a new buffer, the old one dropped). */
function fakeExports(at = 1000) {
  const log: string[] = [];
  const ex: RunnerExports & { log: string[]; batches: { nb: number; x: number[]; rho: number[] }[] } = {
    memory: { buffer: new ArrayBuffer(64) },
    log,
    batches: [],
    alloc(bytes: number) {
      log.push(`alloc ${bytes}`);
      ex.memory = { buffer: new ArrayBuffer(at + bytes) };
      return at;
    },
    free(ptr: number) {
      log.push(`free ${ptr}`);
    },
    packWT(dst: number, M: number, r: number, c: number) {
      log.push(`packWT ${dst} ${M} ${r} ${c}`);
    },
    robustWeightsBatch(out: number, X: number, nb: number, d: number, inv: number, denom: number) {
      const m = new Float64Array(ex.memory.buffer);
      // ρ_r = denom · x_r0 · inv_0, enough to see which rows and constants it read.
      for (let r = 0; r < nb; r++) m[out / 8 + r] = denom * m[X / 8 + r * d] * m[inv / 8];
      log.push(`robust ${out} ${X} ${nb} ${d} ${inv} ${denom}`);
    },
  };
  return ex;
}

describe('the wasm glue runner', () => {
  it('lays out in table order at 64-byte-aligned offsets with a line of slack, null entries at pointer 0', () => {
    const ex = fakeExports(1000); // base rounds up to 1024
    const R = new ScratchRunner(ex);
    const a = Float64Array.from([1, 2, 3]);
    const seen = R.once({ A: input(a, 3), none: null, B: scratch(8), C: scratch(9), D: packed('A', 3, 1) }, (p) => ({ ...p }));
    // A: 3 doubles → one line + slack; B: 8 → 1 + 1; C: 9 → 2 + 1; D: pad4(3)·1 = 4 → 1 + 1.
    expect(seen).toEqual({ A: 1024, none: 0, B: 1024 + 128, C: 1024 + 256, D: 1024 + 448 });
    // One allocation of at least 1 MiB (+ 64 for alignment); packWT after the copy in, from A into D.
    expect(ex.log).toEqual([`alloc ${MiB + 64}`, `packWT ${1024 + 448} 1024 3 1`]);
  });

  it('copies in once, streams rows per batch, computes robust weights per batch, copies out once, across a memory grow', () => {
    const ex = fakeExports();
    const R = new ScratchRunner(ex);
    const n = 2 * BATCH_ROWS + 3, d = 2;
    const x = Float64Array.from({ length: n * d }, (_, i) => i);
    const sums = Float64Array.from([10, 20]);
    const out = new Float64Array(n);
    const seen: { nb: number; first: number; sum: number; rho0: number }[] = [];
    R.batches(n, {
      S: acc(sums, 2),
      X: rows(x, d),
      rho: weights({ invScale: Float64Array.from([0.5, 9]), denom: 2, out }, 'X'),
    }, (p, nb) => {
      const m = new Float64Array(ex.memory.buffer); // the buffer after the grow
      seen.push({ nb, first: m[p.X / 8], sum: m[p.S / 8], rho0: m[p.rho / 8] });
      m[p.S / 8] += nb; // accumulate in wasm memory
    });
    expect(seen).toEqual([
      { nb: BATCH_ROWS, first: 0, sum: 10, rho0: 0 },
      { nb: BATCH_ROWS, first: BATCH_ROWS * d, sum: 10 + BATCH_ROWS, rho0: BATCH_ROWS * d },
      { nb: 3, first: 2 * BATCH_ROWS * d, sum: 10 + 2 * BATCH_ROWS, rho0: 2 * BATCH_ROWS * d },
    ]);
    expect(Array.from(sums)).toEqual([10 + n, 20]);
    expect(Array.from(out)).toEqual(Array.from({ length: n }, (_, r) => 2 * (r * d) * 0.5));
    expect(ex.log.filter((s) => s.startsWith('alloc'))).toHaveLength(1);
  });

  it('copies given weights per batch; outputs and in-place buffers are copied out, not in', () => {
    const R = new ScratchRunner(fakeExports());
    const rho = Float64Array.from({ length: 300 }, (_, i) => i + 0.5);
    const x = new Float64Array(300);
    const got: number[] = [];
    R.batches(300, { X: rows(x, 1), rho: weights(rho, 'X') }, (p, nb) => {
      got.push(...new Float64Array((R as unknown as { ex: RunnerExports }).ex.memory.buffer, p.rho, nb));
    });
    expect(got).toEqual(Array.from(rho));
    const dst = new Float64Array(2), src = Float64Array.from([7, 8]), to = new Float64Array(2);
    R.once({ O: output(dst, 2), L: data(2, src, to) }, (p, m) => {
      expect([m[p.O / 8], m[p.O / 8 + 1]]).toEqual([0, 0]);
      m[p.O / 8] = 1;
      m[p.L / 8] *= 2;
    });
    expect(Array.from(dst)).toEqual([1, 0]);
    expect(Array.from(to)).toEqual([14, 8]);
    expect(Array.from(src)).toEqual([7, 8]);
  });

  it('copies the first nb rows of a rowsOut buffer out after each batch, to rows [r0, r0 + nb)', () => {
    const ex = fakeExports();
    const R = new ScratchRunner(ex);
    const n = BATCH_ROWS + 5, w = 2;
    const dst = new Float64Array(n * w + 1).fill(-1); // one more: must stay untouched
    let r0 = 0;
    R.batches(n, { O: rowsOut(dst, w) }, (p, nb) => {
      const m = new Float64Array(ex.memory.buffer);
      for (let i = 0; i < BATCH_ROWS * w; i++) m[p.O / 8 + i] = i < nb * w ? (r0 * w + i) * 10 : NaN; // junk past nb
      r0 += nb;
    });
    expect(Array.from(dst)).toEqual([...Array.from({ length: n * w }, (_, i) => i * 10), -1]);
  });

  it('regrows ×1.5 only when a call needs more, and copies nothing out when the kernel throws', () => {
    const ex = fakeExports();
    const R = new ScratchRunner(ex);
    R.once({ A: scratch(10) }, () => {});
    R.once({ A: scratch(MiB / 8 - 8) }, () => {}); // exactly 1 MiB with its slack line: fits
    expect(ex.log.filter((s) => s.startsWith('alloc'))).toEqual([`alloc ${MiB + 64}`]);
    R.once({ A: scratch(MiB / 8) }, () => {});
    expect(ex.log.slice(-2)).toEqual(['free 1000', `alloc ${1.5 * MiB + 64}`]);
    const dst = new Float64Array(1);
    expect(() => R.once({ A: acc(Float64Array.from([3]), 1), B: output(dst, 1) }, () => { throw new Error('no'); })).toThrow('no');
    expect(dst[0]).toBe(0);
  });

  it('rejects a table whose weights or packing name a buffer it lacks (or a packing before its source)', () => {
    const R = new ScratchRunner(fakeExports());
    expect(() => R.batches(1, { rho: weights(new Float64Array(1), 'X') }, () => {})).toThrow(/rows buffer 'X'/);
    expect(() => R.once({ WT: packed('W', 1, 1) }, () => {})).toThrow(/packs 'W', which is no data buffer before it/);
    expect(() => R.once({ WT: packed('W', 1, 1), W: input(new Float64Array(1), 1) }, () => {})).toThrow(/no data buffer before it/);
  });
});

describe('worker threads and the compiled module', () => {
  it('the worker bundle does not embed the wasm bytes', () => {
    expect(WASM_BASE64.length).toBeGreaterThan(1000);
    expect(WORKER_SOURCE.includes(WASM_BASE64.slice(200, 300))).toBe(false);
  });

  it('a worker thread instantiates the cloned module; without one, a wasm worker reports why', async () => {
    const reply = (workerData: object) =>
      new Promise<{ error?: { message: string; code?: string } }>((resolve, reject) => {
        const w = new Worker(WORKER_SOURCE, { eval: true, workerData, execArgv: [] });
        w.once('message', (r) => void w.terminate().then(() => resolve(r)));
        w.once('error', reject);
        // An unknown job kind: the reply comes after the kernels are ready, and names the kind.
        w.postMessage({ id: 0, kind: 'no-such-job', params: {}, x: new Float64Array(0), y: new Float64Array(0), rows: 0, start: 0 });
      });
    const ok = await reply({ backend: 'wasm', module: wasmModule() });
    expect(ok.error?.code).not.toBe('BACKEND_UNAVAILABLE');
    expect(ok.error?.message ?? '').not.toMatch(/module|wasm/i);
    const none = await reply({ backend: 'wasm' });
    expect(none.error).toMatchObject({ code: 'BACKEND_UNAVAILABLE', message: expect.stringMatching(/no compiled module/) });
  });
});
