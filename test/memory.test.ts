/**
 * Long runs: 1000 consecutive learn() calls in one process must not grow wasm memory (the glue
 * reuses one scratch block) nor the JS heap (no per-call caches, pools closed).
 *
 * The heap is measured after a full collection, so the bound can be tight. vitest does not run
 * its workers with --expose-gc (`globalThis.gc` is undefined there), so the collector is taken
 * from a fresh context after setting the flag at run time; the test fails if that stops working
 * rather than silently measuring garbage.
 *
 * What the bound must catch: a learn() call on this problem returns a model of about 1.5 kB
 * (JS objects and small typed arrays, mostly on the V8 heap), so a leak as small as "every model
 * is kept" adds about 1.5 MB over 1000 calls. After a warm-up round, the growth measured without
 * a leak is within ±0.2 MB (JIT code and feedback settle during the first few hundred calls,
 * which is why the warm-up is a full round). HEAP_BOUND sits between the two, and the control
 * case below checks that the same measurement does exceed it when every model is kept.
 * "Heap" is heapUsed + external: typed arrays above 64 bytes keep their data outside the V8 heap.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../src/api/generate.js';
import { learn } from '../src/api/learn.js';
import { wasmKernelsSync } from '../src/kernels/wasm/index.js';

setFlagsFromString('--expose-gc');
/** V8's collector, from a context created after the flag was set. */
const gc: unknown = runInNewContext('gc');

const CALLS = 1000;
/** 0.5 MB over CALLS calls: 512 bytes per call. */
const HEAP_BOUND = 512 * 1024;

const g = generate({ distribution: 'gaussian', n: 3000, d: 5, k: 2, l: 3, seed: 1 });
const input = { x: g.x, y: g.y, d: 5, l: 3 };

function collect(): void {
  expect(typeof gc, 'no garbage collector: --expose-gc did not take effect').toBe('function');
  // Twice: the first full collection can leave objects that only die once their weak callbacks ran.
  (gc as () => void)();
  (gc as () => void)();
}

function heapBytes(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/** Bytes the heap grew by over CALLS learn() calls, each collected before and after; `keep` retains every model. */
async function heapGrowth(keep?: unknown[]): Promise<number> {
  collect();
  const before = heapBytes();
  for (let i = 0; i < CALLS; i++) {
    const model = await learn(input, { k: 2, backend: 'wasm', seed: i + 1 });
    keep?.push(model);
  }
  collect();
  return heapBytes() - before;
}

describe(`${CALLS} consecutive learn() calls`, () => {
  beforeAll(async () => {
    // Warm-up: a full round, so that JIT code and type feedback are in place before measuring.
    for (let i = 0; i < CALLS; i++) await learn(input, { k: 2, backend: 'wasm', seed: i + 1 });
  }, 240_000);

  it('grow neither wasm memory nor the JS heap', async () => {
    const wasm = wasmKernelsSync() as unknown as { memoryBytes(): number };
    const mem0 = wasm.memoryBytes();
    const growth = await heapGrowth();
    console.info(`heap growth over ${CALLS} calls: ${(growth / 1024).toFixed(0)} kB (bound ${HEAP_BOUND / 1024} kB)`);
    expect(wasm.memoryBytes()).toBe(mem0);
    expect(growth).toBeLessThan(HEAP_BOUND);
  }, 240_000);

  it('control: the same measurement exceeds the bound when every model is kept (a leak of one model per call)', async () => {
    const kept: unknown[] = [];
    const growth = await heapGrowth(kept);
    console.info(`heap growth over ${CALLS} calls keeping every model: ${(growth / 1024).toFixed(0)} kB`);
    expect(kept).toHaveLength(CALLS);
    expect(growth).toBeGreaterThan(HEAP_BOUND);
  }, 240_000);
});
