/**
 * Streaming generation (issue #5): generateStream() yields generate()'s samples block by block,
 * and `pureneuron generate` writes its files from those blocks (writeSampleFiles). What must
 * hold:
 *
 *   - the concatenated blocks equal generate()'s x and y bit for bit, for every distribution,
 *     with and without noise and symmetrize, and for every block size — including awkward ones
 *     (1, 7, n − 1, odd sizes that split an antithetic pair, sizes beyond n);
 *   - the files written from the blocks hold exactly generate()'s bytes (so the command writes
 *     what it wrote when it built the whole data set in memory);
 *   - memory is one block: the block buffers are sized by the block, not by n;
 *   - an abort between blocks leaves neither file (complete or partial) nor a temporary file.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultBlockRows, writeSampleFiles } from '../src/cli/generate.js';
import { DISTRIBUTIONS, generate, generateStream, type GenerateOptions } from '../src/api/generate.js';
import { listDir, makeTempDir, removeTempDir } from './helpers/cli.js';

/** The bytes of a Float64Array (the host is little-endian, as the raw files are). */
const bytesOf = (a: Float64Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Bitwise equality (distinguishes −0 from +0, unlike toEqual on numbers). */
function expectSameBits(got: Float64Array, want: Float64Array, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  expect(bytesOf(got).equals(bytesOf(want)), `${what}: bits differ`).toBe(true);
}

/** All blocks of a stream concatenated (copied, since the stream reuses its buffers). */
function concatBlocks(options: GenerateOptions, blockRows: number): { x: Float64Array; y: Float64Array; starts: number[] } {
  const s = generateStream(options);
  const x = new Float64Array(s.n * s.d);
  const y = new Float64Array(s.n * s.l);
  const starts: number[] = [];
  let next = 0;
  for (const b of s.blocks(blockRows)) {
    expect(b.start).toBe(next);
    expect(b.rows).toBe(Math.min(blockRows, s.n - b.start));
    expect(b.x.length).toBe(b.rows * s.d);
    expect(b.y.length).toBe(b.rows * s.l);
    x.set(b.x, b.start * s.d);
    y.set(b.y, b.start * s.l);
    starts.push(b.start);
    next += b.rows;
  }
  expect(next).toBe(s.n);
  return { x, y, starts };
}

/** Odd n (no symmetrize) and even n (symmetrize: antithetic pairs). */
const N_PLAIN = 61;
const N_SYM = 62;

describe('generateStream: the blocks are generate() bit for bit', () => {
  for (const distribution of DISTRIBUTIONS) {
    for (const symmetrize of [false, true]) {
      it(`${distribution}${symmetrize ? ', symmetrize' : ''}: every block size, with and without noise`, () => {
        const n = symmetrize ? N_SYM : N_PLAIN;
        // k = 5 and l = 7 exercise the 4-wide blocking of units and outputs and their remainders.
        for (const noise of [0, 0.1]) {
          const options: GenerateOptions = { distribution, n, d: 6, k: 5, l: 7, noise, seed: 11, symmetrize, condX: 20, components: 3, df: 3.5 };
          const whole = generate(options);
          for (const blockRows of [1, 2, 3, 7, 8, 31, n - 1, n, n + 5]) {
            const got = concatBlocks(options, blockRows);
            expectSameBits(got.x, whole.x, `x, ${distribution}, noise ${noise}, blockRows ${blockRows}`);
            expectSameBits(got.y, whole.y, `y, ${distribution}, noise ${noise}, blockRows ${blockRows}`);
          }
          const s = generateStream(options);
          expectSameBits(s.truth.W, whole.truth.W, 'W');
          expectSameBits(s.truth.A, whole.truth.A, 'A');
          expect([s.n, s.d, s.l, s.truth.k]).toEqual([whole.n, whole.d, whole.l, whole.truth.k]);
        }
      });
    }
  }

  it('planted with condW / condA, and a larger problem (d = l = 32, k = 16) split at 1000 rows', () => {
    const options: GenerateOptions = { n: 5001, d: 32, k: 16, l: 32, noise: 0.05, seed: 3, condW: 5, condA: 3 };
    const whole = generate(options);
    const got = concatBlocks(options, 1000);
    expect(got.starts).toEqual([0, 1000, 2000, 3000, 4000, 5000]);
    expectSameBits(got.x, whole.x, 'x');
    expectSameBits(got.y, whole.y, 'y');
  });

  it('each blocks() call starts again at sample 0; buffers are one block, reused', () => {
    const s = generateStream({ n: 1000, d: 4, k: 2, l: 3, seed: 2 });
    const first = [...s.blocks(100)].length;
    expect(first).toBe(10);
    const a = s.blocks(64).next().value!;
    const x0 = Float64Array.from(a.x);
    const b = s.blocks(64).next().value!;
    expectSameBits(b.x, x0, 'first block of a second iteration');
    // Memory is one block whatever n: the buffers hold blockRows rows, not n.
    expect(b.x.buffer.byteLength).toBe(64 * 4 * 8);
    expect(b.y.buffer.byteLength).toBe(64 * 3 * 8);
    const it2 = s.blocks(64);
    const b0 = it2.next().value!;
    const b1 = it2.next().value!;
    expect(b1.x.buffer).toBe(b0.x.buffer);
  });

  it('validates like generate(), and rejects a bad block size', () => {
    expect(() => generateStream({ n: 0, d: 2, k: 1, l: 1 })).toThrow(/n must be a positive integer, got 0/);
    expect(() => generateStream({ n: 3, d: 2, k: 1, l: 1, symmetrize: true })).toThrow(/odd/);
    const s = generateStream({ n: 10, d: 2, k: 1, l: 1 });
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => s.blocks(bad).next()).toThrow(RangeError);
  });
});

describe('writeSampleFiles (what `pureneuron generate` runs)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir('pureneuron-genstream-');
  });
  afterAll(async () => {
    await removeTempDir(dir);
  });

  /**
   * With fingerprints (first 16 hex digits of the SHA-256 of x.f64 and y.f64) of the files the
   * command wrote before it streamed (commit 8a03993, whole arrays from generate()): the streamed
   * files must be those same files. A deliberate change of the generator's random draws changes
   * them; then update them and say so (same seed → different data sets).
   */
  const cases: [string, GenerateOptions, string, string][] = [
    ['gaussian, noise', { distribution: 'gaussian', n: 1001, d: 9, k: 4, l: 5, noise: 0.05, seed: 1 }, '686abbc58dc99464', '9aa2168c27b2dc6a'],
    ['mixture', { distribution: 'mixture', n: 777, d: 5, k: 3, l: 4, seed: 4, components: 2, separation: 2 }, '2c01ca0f2ff77fac', 'bc2301467218a7bc'],
    ['student-t, symmetrize, noise', { distribution: 'student-t', n: 500, d: 3, k: 2, l: 6, noise: 0.2, seed: 9, symmetrize: true }, '256719aa25175d45', 'c9025a524025ebe9'],
  ];
  const fingerprint = (b: Buffer): string => createHash('sha256').update(b).digest('hex').slice(0, 16);
  for (const [name, options, xPrint, yPrint] of cases) {
    it(`${name}: the files hold generate()'s bytes for block sizes 1, 7, n − 1 and the default`, async () => {
      const whole = generate(options);
      expect([fingerprint(bytesOf(whole.x)), fingerprint(bytesOf(whole.y))], 'the data set of this seed changed').toEqual([xPrint, yPrint]);
      for (const blockRows of [1, 7, options.n - 1, undefined]) {
        const out = join(dir, `${name.replace(/\W+/g, '-')}-${blockRows ?? 'default'}`);
        await mkdir(out);
        await writeSampleFiles(join(out, 'x.f64'), join(out, 'y.f64'), generateStream(options), { blockRows });
        expect(await listDir(out)).toEqual(['x.f64', 'y.f64']);
        expect((await readFile(join(out, 'x.f64'))).equals(bytesOf(whole.x)), `x.f64, blockRows ${blockRows}`).toBe(true);
        expect((await readFile(join(out, 'y.f64'))).equals(bytesOf(whole.y)), `y.f64, blockRows ${blockRows}`).toBe(true);
      }
    });
  }

  it('the default block is ~16 MiB of x and y, at least one row', () => {
    expect(defaultBlockRows(32, 32)).toBe(32768);
    expect(defaultBlockRows(10, 10)).toBe(104857);
    expect(defaultBlockRows(2 ** 22, 2 ** 22)).toBe(1);
  });

  it('an abort between blocks: ABORTED, neither file nor a temporary file left', async () => {
    const out = join(dir, 'aborted');
    await mkdir(out);
    const ac = new AbortController();
    const options: GenerateOptions = { n: 10_000, d: 8, k: 4, l: 8, seed: 1 };
    const s = generateStream(options);
    // Abort once the third block has been produced.
    const blocks = s.blocks.bind(s);
    let seen = 0;
    s.blocks = function* (rows: number) {
      for (const b of blocks(rows)) {
        if (++seen === 3) ac.abort(new Error('interrupted by SIGINT'));
        yield b;
      }
    };
    const e = await writeSampleFiles(join(out, 'x.f64'), join(out, 'y.f64'), s, { blockRows: 100, signal: ac.signal }).then(
      () => undefined,
      (err: unknown) => err as Error & { code?: string },
    );
    expect(e?.code).toBe('ABORTED');
    expect(e?.message).toMatch(/^aborted while writing .*x\.f64.*interrupted by SIGINT/);
    expect(seen).toBe(3);
    expect(await listDir(out)).toEqual([]);
    expect(existsSync(join(out, 'x.f64'))).toBe(false);
  });
});
