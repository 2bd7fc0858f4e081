/**
 * Capacity: problems whose detector or eigenproblem cannot fit are refused before any data are
 * read (k given) or right after pass 1 (k 'auto'), with a PureneuronError naming the stage, the
 * need, the limit and the largest k that fits — never a wasm abort after a pass.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../src/api/generate.js';
import { learn } from '../src/api/learn.js';
import { planShards } from '../src/api/shard.js';
import { checkSpectralFits, largestK, spectralNeeds } from '../src/method/capacity.js';
import { WASM_BLOCK_BYTES } from '../src/kernels/types.js';
import type { Chunk, SampleSource } from '../src/types.js';
import { cliBuilt, makeTempDir, removeTempDir } from './helpers/cli.js';
import { startCli, waitFor } from './helpers/interrupt.js';

/** A source of d×l zeros that counts the rows it hands out. */
function countingSource(d: number, l: number, n: number): SampleSource & { read: number } {
  const s = {
    d,
    l,
    n,
    read: 0,
    async *chunks(maxRows: number): AsyncIterable<Chunk> {
      for (let r = 0; r < n; r += maxRows) {
        const rows = Math.min(maxRows, n - r);
        s.read += rows;
        yield { x: new Float64Array(rows * d), y: new Float64Array(rows * l), rows };
      }
    },
  };
  return s;
}

describe('capacity', () => {
  it('the largest k: its eigenproblem (3·mz² doubles, mz = k(k+1)/2) just fits one wasm block, k + 1 does not', () => {
    const k = largestK((kk) => kk);
    expect(k).toBe(115);
    expect(Math.max(...spectralNeeds(k, k).map((s) => s.bytes))).toBeLessThanOrEqual(WASM_BLOCK_BYTES);
    expect(spectralNeeds(k + 1, k + 1)[1].bytes).toBeGreaterThan(WASM_BLOCK_BYTES);
    expect(() => checkSpectralFits(115, 115, true)).not.toThrow();
  });

  it.each([
    [200, /^k = 200 needs a 20 100 × 20 100 detector in pass 2: 3\.31 GB of memory in one block; the limit is 1\.07 GB .*; use k ≤ 115$/],
    [116, /^k = 116 needs a 6 786 × 6 786 eigenproblem in extraction: 1\.11 GB .*; use k ≤ 115$/],
  ])('learn() with k = %i is refused before reading a sample', async (k, message) => {
    const src = countingSource(k, k, 4096);
    await expect(learn(src, { k, workers: 0 })).rejects.toMatchObject({ name: 'PureneuronError', code: 'BAD_OPTION', message });
    expect(src.read).toBe(0);
  });

  it('planShards refuses the same k up front', async () => {
    await expect(planShards(countingSource(200, 200, 4096), { k: 200 })).rejects.toMatchObject({ code: 'BAD_OPTION', message: /use k ≤ 115/ });
  });

  it('without the reduction of x the detector is d-wide: refused with the way out', () => {
    expect(() => checkSpectralFits(10, 2000, false)).toThrow(/k = 10 needs a 2 001 000 × 55 detector in pass 2: .*; reduce x \(reduceX: true\)$/);
    expect(() => checkSpectralFits(10, 40, false)).not.toThrow();
  });

  it("k 'auto' is checked once pass 1 has chosen it, before pass 2", async () => {
    // Exactly symmetric, noiseless, cond(W) = cond(A) = 1: the linear part (A·W/2 on the odd
    // part of y) has rank 140 with a gap that sampling cannot blur, so 'auto' chooses k = 140.
    const g = generate({ distribution: 'gaussian', n: 3000, d: 140, k: 140, l: 140, seed: 1, symmetrize: true, condW: 1, condA: 1 });
    const phases: string[] = [];
    await expect(learn(g, { k: 'auto', workers: 0, onProgress: (p) => void phases.push(p.phase) })).rejects.toMatchObject({
      code: 'BAD_OPTION',
      message: /^k 'auto' chose k = 140 \(the rank of the linear part\), which needs a 9 870 × 9 870 eigenproblem in extraction: .*; give k ≤ 115$/,
    });
    expect(new Set(phases)).toEqual(new Set(['pass1']));
  });

  describe.skipIf(!cliBuilt())('pureneuron learn', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await makeTempDir();
    });
    afterAll(() => removeTempDir(dir));

    it('says before a long run how long it will take, stage by stage', async () => {
      // k = 90: ~3 min of pass 2 and ~5 min of extractions here (method/capacity.ts); the note
      // comes before the first sample is read, then the run is stopped.
      const n = 20_000;
      const bytes = new Float64Array(n * 90).map((_, i) => Math.sin(i));
      await writeFile(join(dir, 'x.f64'), new Uint8Array(bytes.buffer));
      await writeFile(join(dir, 'y.f64'), new Uint8Array(bytes.buffer));
      const p = startCli(['learn', '--x', 'x.f64', '--y', 'y.f64', '--d', '90', '--l', '90', '--k', '90', '--out', 'model.json'], dir);
      try {
        await waitFor(p, 'the run-time note', () => /will take about/.test(p.stderr()));
        expect(p.stderr()).toMatch(/^pureneuron: k = 90 on 20000 samples will take about \d+ min here \(pass 2 ~\d+ (s|min), extraction ~\d+ min\); the detector grows as k⁴$/m);
      } finally {
        p.child.kill('SIGKILL');
        await p.exited;
      }
    });
  });
});
