/**
 * Long runs: 1000 consecutive learn() calls in one process must not grow wasm memory (the glue
 * reuses one scratch block) nor the JS heap (no per-call caches, pools closed). A leak of even
 * 100 kB per call would show as 100 MB here; the bound leaves room for GC timing noise.
 */
import { describe, expect, it } from 'vitest';
import { generate } from '../src/api/generate.js';
import { learn } from '../src/api/learn.js';
import { wasmKernelsSync } from '../src/kernels/wasm/index.js';

describe('1000 consecutive learn() calls', () => {
  it('grow neither wasm memory nor the JS heap', async () => {
    const g = generate({ distribution: 'gaussian', n: 3000, d: 5, k: 2, l: 3, seed: 1 });
    const input = { x: g.x, y: g.y, d: 5, l: 3 };
    const wasm = wasmKernelsSync() as unknown as { memoryBytes(): number };
    for (let i = 0; i < 20; i++) await learn(input, { k: 2, backend: 'wasm' }); // warm up
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const mem0 = wasm.memoryBytes();
    const heap0 = process.memoryUsage().heapUsed;
    for (let i = 0; i < 1000; i++) await learn(input, { k: 2, backend: 'wasm', seed: i + 1 });
    gc?.();
    expect(wasm.memoryBytes()).toBe(mem0);
    expect(process.memoryUsage().heapUsed - heap0).toBeLessThan(64 * 2 ** 20);
  }, 240_000);
});
