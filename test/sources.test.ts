import { existsSync, readdirSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PureneuronError, type ErrorCode } from '../src/errors.js';
import { encodeNpy } from '../src/io/npy.js';
import { arraySource, fileSource, formatFromPath, isSampleSource, readsInto, toSampleSource, type DirectSource } from '../src/sources/index.js';
import type { Chunk, SampleSource } from '../src/types.js';
import { sameBits } from './helpers/bits.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pureneuron-src-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// ---- helpers ---------------------------------------------------------------------------

/** Deterministic values with signed zero, subnormals and extremes for bit-exact checks. */
function tricky(n: number, seed = 1): Float64Array {
  const specials = [-0, 5e-324, 1.7976931348623157e308, -2.2250738585072014e-308, 0.1, 1 / 3];
  const out = new Float64Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = i % 11 < specials.length && i < 40 ? specials[i % 11]! : (s / 2 ** 32 - 0.5) * 10 ** ((i % 9) - 4);
  }
  return out;
}

/** tricky() without the values that overflow float32 (they would rightly fail the value check). */
function f32Safe(a: Float64Array): Float64Array {
  return a.map((v) => (Math.abs(v) > 3e38 ? 1e38 : v));
}

interface Collected {
  x: Float64Array;
  y: Float64Array;
  rows: number[];
  chunks: Chunk[];
}

async function collect(src: SampleSource, maxRows: number, signal?: AbortSignal): Promise<Collected> {
  const chunks: Chunk[] = [];
  for await (const c of src.chunks(maxRows, signal)) {
    expect(c.x.length).toBe(c.rows * src.d);
    expect(c.y.length).toBe(c.rows * src.l);
    // Copies: a source may refill a chunk's arrays for the next one (SampleSource's contract).
    chunks.push({ x: c.x.slice(), y: c.y.slice(), rows: c.rows });
  }
  const cat = (parts: Float64Array[]): Float64Array => {
    const out = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  };
  return { x: cat(chunks.map((c) => c.x)), y: cat(chunks.map((c) => c.y)), rows: chunks.map((c) => c.rows), chunks };
}

function expectedRows(n: number, maxRows: number): number[] {
  const out: number[] = [];
  for (let s = 0; s < n; s += maxRows) out.push(Math.min(maxRows, n - s));
  return out;
}

async function caught(f: () => unknown): Promise<unknown> {
  try {
    await f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error, none was thrown');
}

/** Asserts a PureneuronError with `code` whose message contains every part. */
async function expectCode(f: () => unknown, code: ErrorCode, ...parts: string[]): Promise<string> {
  const e = await caught(f);
  expect(e).toBeInstanceOf(PureneuronError);
  expect((e as PureneuronError).code).toBe(code);
  const msg = (e as Error).message;
  for (const p of parts) expect(msg).toContain(p);
  return msg;
}

async function drain(src: SampleSource, maxRows = 4, signal?: AbortSignal): Promise<void> {
  for await (const _ of src.chunks(maxRows, signal)) void _;
}

let fileCounter = 0;
async function file(name: string, content: string | Uint8Array): Promise<string> {
  const sub = join(dir, `f${fileCounter++}`);
  await mkdir(sub);
  const p = join(sub, name);
  await writeFile(p, content);
  return p;
}

function f64Bytes(a: Float64Array): Uint8Array {
  const out = new Uint8Array(a.length * 8);
  const dv = new DataView(out.buffer);
  a.forEach((v, i) => dv.setFloat64(8 * i, v, true));
  return out;
}

function f32Bytes(a: Float64Array): Uint8Array {
  const out = new Uint8Array(a.length * 4);
  const dv = new DataView(out.buffer);
  a.forEach((v, i) => dv.setFloat32(4 * i, v, true));
  return out;
}

/** Exact CSV text: JS's shortest round-trip formatting; -0 spelled out so the sign survives. */
function csvText(a: Float64Array, width: number, opts: { header?: string; eol?: string; pad?: boolean } = {}): string {
  const eol = opts.eol ?? '\n';
  const lines: string[] = opts.header ? [opts.header] : [];
  for (let r = 0; r < a.length / width; r++) {
    const f: string[] = [];
    for (let j = 0; j < width; j++) {
      const v = a[r * width + j]!;
      const s = Object.is(v, -0) ? '-0' : String(v);
      f.push(opts.pad ? ` ${s}\t` : s);
    }
    lines.push(f.join(','));
  }
  return lines.join(eol) + eol;
}

function openFds(): number | undefined {
  return existsSync('/proc/self/fd') ? readdirSync('/proc/self/fd').length : undefined;
}

// ---- array source ----------------------------------------------------------------------

describe('arraySource', () => {
  const n = 7;
  const d = 3;
  const l = 2;
  const x = tricky(n * d, 1);
  const y = tricky(n * l, 2);

  it('yields zero-copy Float64Array chunks in order, the same on every pass', async () => {
    const src = arraySource({ x, y, d, l });
    expect(src.n).toBe(7);
    const a = await collect(src, 3);
    expect(a.rows).toEqual([3, 3, 1]);
    let i = 0;
    for await (const c of src.chunks(3)) {
      if (i++ !== 1) continue;
      expect(c.x.buffer).toBe(x.buffer); // a view of the input, not a copy
      expect(c.x.byteOffset).toBe(3 * d * 8);
    }
    expect(sameBits(a.x, x)).toBe(true);
    expect(sameBits(a.y, y)).toBe(true);
    const b = await collect(src, 3);
    expect(b.rows).toEqual(a.rows);
    expect(sameBits(b.x, a.x) && sameBits(b.y, a.y)).toBe(true);
    expect((await collect(src, 100)).rows).toEqual([7]);
  });

  it('widens Float32Array per chunk (values equal Math.fround of the originals)', async () => {
    const xs = f32Safe(x);
    const ys = f32Safe(y);
    const src = arraySource({ x: Float32Array.from(xs), y: Float32Array.from(ys), d, l, n });
    const a = await collect(src, 2);
    expect(a.rows).toEqual([2, 2, 2, 1]);
    expect(a.chunks[0]!.x).toBeInstanceOf(Float64Array);
    expect(sameBits(a.x, Float64Array.from(xs, Math.fround))).toBe(true);
    expect(sameBits(a.y, Float64Array.from(ys, Math.fround))).toBe(true);
  });

  it('validates shapes and types with the platform errors', () => {
    expect(() => arraySource({ x: new Float64Array(999), y: new Float64Array(100), n: 100, d: 10, l: 1 })).toThrow(
      new RangeError('x has 999 values, expected n·d = 1000'),
    );
    expect(() => arraySource({ x: new Float64Array(1000), y: new Float64Array(99), n: 100, d: 10, l: 1 })).toThrow(
      new RangeError('y has 99 values, expected n·l = 100'),
    );
    expect(() => arraySource({ x: new Float64Array(1000), y: new Float64Array(99), d: 10, l: 1 })).toThrow(
      new RangeError('y has 99 values, expected n·l = 100'),
    );
    expect(() => arraySource({ x: new Float64Array(999), y: new Float64Array(99), d: 10, l: 1 })).toThrow(/not a multiple of d = 10/);
    expect(() => arraySource({ x: new Float64Array(0), y: new Float64Array(0), d: 1, l: 1 })).toThrow(RangeError);
    expect(() => arraySource({ x: new Float64Array(4), y: new Float64Array(4), d: 1.5, l: 1 })).toThrow(/d must be a positive integer, got 1.5/);
    expect(() => arraySource({ x: new Float64Array(4), y: new Float64Array(4), d: 1, l: 0 })).toThrow(/l must be a positive integer/);
    expect(() => arraySource({ x: new Float64Array(4), y: new Float64Array(4), n: 0, d: 1, l: 1 })).toThrow(/n must be a positive integer/);
    expect(() => arraySource({ x: [1, 2] as unknown as Float64Array, y: new Float64Array(2), d: 1, l: 1 })).toThrow(
      new TypeError('x must be a Float64Array or Float32Array, got Array'),
    );
    expect(() => arraySource({ x: new Float64Array(2), y: new Int32Array(2) as unknown as Float64Array, d: 1, l: 1 })).toThrow(TypeError);
  });

  it('rejects a bad maxRows', async () => {
    const src = arraySource({ x, y, d, l });
    await expect(drain(src, 0)).rejects.toThrow(RangeError);
    await expect(drain(src, 2.5)).rejects.toThrow(/maxRows must be a positive integer/);
  });

  it('reports NaN/Infinity with the sample counted from the start, the column, and the fix', async () => {
    const bx = new Float64Array(20 * 4);
    bx[17 * 4 + 3] = NaN;
    const src = arraySource({ x: bx, y: new Float64Array(20), d: 4, l: 1 });
    const msg = await expectCode(async () => drain(src, 5), 'BAD_VALUE', 'x has NaN at sample 17, column 3 (0-based)', 'remove or impute');
    expect(msg).not.toContain(' in ');
    const by = new Float64Array(40);
    by[2 * 2 + 1] = -Infinity;
    await expectCode(
      () => drain(arraySource({ x: new Float32Array(20), y: by, d: 1, l: 2 }), 3),
      'BAD_VALUE',
      'y has -Infinity at sample 2, column 1',
    );
    const f32 = new Float32Array(6);
    f32[5] = Infinity;
    await expectCode(async () => drain(arraySource({ x: f32, y: new Float64Array(6), d: 1, l: 1 }), 4), 'BAD_VALUE', 'x has Infinity at sample 5, column 0');
  });

  it('stops with ABORTED when the signal fires', async () => {
    const src = arraySource({ x, y, d, l });
    const pre = new AbortController();
    pre.abort();
    await expectCode(async () => drain(src, 2, pre.signal), 'ABORTED', 'aborted');
    const ac = new AbortController();
    let seen = 0;
    const e = await caught(async () => {
      for await (const _ of src.chunks(2, ac.signal)) {
        void _;
        seen++;
        ac.abort();
      }
    });
    expect(seen).toBe(1);
    expect((e as PureneuronError).code).toBe('ABORTED');
    expect((e as Error).message).toContain('before sample 2');
  });

  it('toSampleSource wraps arrays and passes sources through', () => {
    const src = arraySource({ x, y, d, l });
    expect(toSampleSource(src)).toBe(src);
    expect(isSampleSource({ x, y, d, l })).toBe(false);
    expect(toSampleSource({ x, y, d, l }).n).toBe(7);
  });
});

// ---- file sources: round trips ----------------------------------------------------------

describe('fileSource round trips', () => {
  const n = 23;
  const d = 5;
  const l = 3;
  const x = tricky(n * d, 3);
  const y = tricky(n * l, 4);
  // float32 files hold f32Safe(x): values rounded with Math.fround on the way in.
  const xs = f32Safe(x);
  const ys = f32Safe(y);
  const x32 = Float64Array.from(xs, Math.fround);
  const y32 = Float64Array.from(ys, Math.fround);

  // Block sizes chosen to split values, rows and UTF-8 characters at every possible offset.
  const blocks = [1, 7, 13, 1 << 20];
  const maxRowsList = [1, 4, 64];

  async function checkSource(
    make: (blockBytes: number) => Promise<SampleSource>,
    ex: Float64Array,
    ey: Float64Array,
    knownN: boolean,
  ): Promise<void> {
    for (const blockBytes of blocks) {
      const src = await make(blockBytes);
      expect(src.d).toBe(d);
      expect(src.l).toBe(l);
      expect(src.n).toBe(knownN ? n : undefined);
      let first: Collected | undefined;
      for (const maxRows of maxRowsList) {
        const a = await collect(src, maxRows);
        expect(a.rows).toEqual(expectedRows(n, maxRows));
        expect(sameBits(a.x, ex)).toBe(true);
        expect(sameBits(a.y, ey)).toBe(true);
        expect(src.n).toBe(n);
        // A second pass with the same maxRows gives identical chunks.
        const b = await collect(src, maxRows);
        expect(b.rows).toEqual(a.rows);
        b.chunks.forEach((c, i) => {
          expect(sameBits(c.x, a.chunks[i]!.x)).toBe(true);
          expect(sameBits(c.y, a.chunks[i]!.y)).toBe(true);
        });
        first ??= a;
        // The cache's pass (chunksInto): the same values, read into the caller's arrays, each
        // chunk the view of its own rows there.
        expect(readsInto(src)).toBe(true);
        const into = { x: new Float64Array(n * d), y: new Float64Array(n * l) };
        let start = 0;
        for await (const c of (src as DirectSource).chunksInto(maxRows, into)) {
          expect(c.x.buffer).toBe(into.x.buffer);
          expect(c.x.byteOffset).toBe(start * d * 8);
          expect(c.y.byteOffset).toBe(start * l * 8);
          start += c.rows;
        }
        expect(start).toBe(n);
        expect(sameBits(into.x, ex)).toBe(true);
        expect(sameBits(into.y, ey)).toBe(true);
      }
    }
  }

  it('f64 (bit for bit), format from the extension', async () => {
    const px = await file('x.f64', f64Bytes(x));
    const py = await file('y.f64', f64Bytes(y));
    await checkSource((blockBytes) => fileSource({ x: px, y: py, d, l, blockBytes }), x, y, true);
    const src = await fileSource({ x: px, y: py, d, l });
    expect(src.formats).toEqual({ x: 'f64', y: 'f64' });
    // One pair of buffers per pass, refilled for every chunk (bounded memory, no garbage per
    // chunk), and a fresh pair for the next pass.
    const seen: ArrayBufferLike[] = [];
    for (let pass = 0; pass < 2; pass++) {
      for await (const c of src.chunks(4)) {
        if (seen.length === pass) seen.push(c.x.buffer);
        expect(c.x.buffer).toBe(seen[pass]);
        expect(c.x.buffer).not.toBeInstanceOf(SharedArrayBuffer); // workers get copies, so refilling is safe
      }
    }
    expect(seen[1]).not.toBe(seen[0]);
    // chunksInto needs room for every sample.
    expect(() => src.chunksInto(4, { x: new Float64Array(n * d - 1), y: new Float64Array(n * l) })).toThrow(RangeError);
  });

  it('f32 (values equal Math.fround)', async () => {
    const px = await file('x.f32', f32Bytes(xs));
    const py = await file('y.f32', f32Bytes(ys));
    await checkSource((blockBytes) => fileSource({ x: px, y: py, d, l, blockBytes }), x32, y32, true);
  });

  it('explicit format overrides the extension (.bin)', async () => {
    const px = await file('x.bin', f32Bytes(xs));
    const py = await file('y.bin', f32Bytes(ys));
    const a = await collect(await fileSource({ x: px, y: py, d, l, format: 'f32' }), 10);
    expect(sameBits(a.x, x32)).toBe(true);
  });

  it('npy <f8 and <f4, d/l from the header', async () => {
    const px = await file('x.npy', encodeNpy(x, [n, d]));
    const py = await file('y.npy', encodeNpy(y, [n, l]));
    await checkSource((blockBytes) => fileSource({ x: px, y: py, blockBytes }), x, y, true);
    const qx = await file('x.npy', encodeNpy(Float32Array.from(xs), [n, d]));
    const qy = await file('y.npy', encodeNpy(Float32Array.from(ys), [n, l]));
    await checkSource((blockBytes) => fileSource({ x: qx, y: qy, d, l, blockBytes }), x32, y32, true);
  });

  it('npy with shape (n,) has width 1', async () => {
    const y1 = tricky(n, 9);
    const px = await file('x.npy', encodeNpy(x, [n, d]));
    const py = await file('y.npy', encodeNpy(y1, [n]));
    const src = await fileSource({ x: px, y: py });
    expect(src.l).toBe(1);
    const a = await collect(src, 5);
    expect(sameBits(a.y, y1)).toBe(true);
  });

  it('csv (exact decimal round trip), n learned on the first pass', async () => {
    const px = await file('x.csv', csvText(x, d));
    const py = await file('y.csv', csvText(y, l));
    await checkSource((blockBytes) => fileSource({ x: px, y: py, blockBytes }), x, y, false);
  });

  it('csv with header, BOM, CRLF, spaces/tabs around fields, trailing blank lines', async () => {
    const px = await file('x.csv', '\ufeff' + csvText(x, d, { header: 'α0, β1,x2,x3,x4', eol: '\r\n', pad: true }) + '\r\n \r\n');
    const py = await file('y.csv', csvText(y, l, { header: '"y0","y1","y2"' }) + '\n\n');
    await checkSource((blockBytes) => fileSource({ x: px, y: py, d, l, blockBytes }), x, y, false);
  });

  it('csv without a final newline, and nan/inf literals parse (then fail the value check)', async () => {
    const px = await file('x.csv', '\ufeff1,2\n3,4');
    const py = await file('y.csv', '5\n6');
    const a = await collect(await fileSource({ x: px, y: py, blockBytes: 3 }), 10);
    expect(Array.from(a.x)).toEqual([1, 2, 3, 4]);
    expect(Array.from(a.y)).toEqual([5, 6]);
  });

  it('mixed formats: x npy, y csv', async () => {
    const px = await file('x.npy', encodeNpy(x, [n, d]));
    const py = await file('y.csv', csvText(y, l));
    // n comes from the npy header.
    await checkSource((blockBytes) => fileSource({ x: px, y: py, blockBytes }), x, y, true);
  });

  // Counts this process's open descriptors in /proc (Linux); skipped, visibly, elsewhere.
  it.runIf(openFds() !== undefined)('closes its files after a pass, an early break and an error', async () => {
    const before = openFds()!;
    const px = await file('x.csv', csvText(x, d));
    const py = await file('y.f64', f64Bytes(y));
    const src = await fileSource({ x: px, y: py, l });
    await drain(src, 4);
    for await (const _ of src.chunks(4)) {
      void _;
      break;
    }
    const ac = new AbortController();
    ac.abort();
    await caught(() => drain(src, 4, ac.signal));
    expect(openFds()).toBe(before);
  });

  it('formatFromPath', () => {
    expect(formatFromPath('a/b.F64')).toBe('f64');
    expect(formatFromPath('a.f32')).toBe('f32');
    expect(formatFromPath('a.csv')).toBe('csv');
    expect(formatFromPath('a.npy')).toBe('npy');
    expect(formatFromPath('a.bin')).toBeUndefined();
    expect(formatFromPath('f64')).toBeUndefined();
  });
});

// ---- file sources: errors -----------------------------------------------------------------

describe('fileSource errors', () => {
  const ok = f64Bytes(new Float64Array(8));

  it('unknown extension without format, and a bad format', async () => {
    const px = await file('x.dat', ok);
    const py = await file('y.f64', ok);
    await expectCode(async () => fileSource({ x: px, y: py, d: 2, l: 2 }), 'BAD_OPTION', px, 'format', '--format');
    await expectCode(async () => fileSource({ x: px, y: py, d: 2, l: 2, format: 'txt' as 'csv' }), 'BAD_OPTION', "'f64'", '"txt"');
    await expect(fileSource({ x: 3 as unknown as string, y: py })).rejects.toThrow(TypeError);
    await expect(fileSource({ x: px, y: py, d: 0 })).rejects.toThrow(RangeError);
  });

  it('raw files need d and l', async () => {
    const px = await file('x.f64', ok);
    const py = await file('y.f32', ok);
    await expectCode(async () => fileSource({ x: px, y: py, l: 1 }), 'BAD_OPTION', px, 'pass d', '--d');
    await expectCode(async () => fileSource({ x: px, y: py, d: 1 }), 'BAD_OPTION', py, 'pass l', '--l');
  });

  it('raw file size not a multiple of the row size', async () => {
    const px = await file('x.f64', new Uint8Array(1000004));
    const py = await file('y.f64', new Uint8Array(100000));
    await expectCode(
      () => fileSource({ x: px, y: py, d: 10, l: 1 }),
      'BAD_FILE',
      `${px} is truncated: 1000004 bytes is not a multiple of the row size 8·d = 80 bytes`,
    );
    const qy = await file('y.f32', new Uint8Array(10));
    await expectCode(async () => fileSource({ x: py, y: qy, d: 1, l: 2, format: 'f32' }), 'BAD_FILE', qy, '10 bytes', '4·l = 8 bytes');
  });

  it('x and y row counts must agree (both named, both counts)', async () => {
    const px = await file('x.f64', f64Bytes(new Float64Array(20)));
    const py = await file('y.f64', f64Bytes(new Float64Array(9)));
    await expectCode(async () => fileSource({ x: px, y: py, d: 2, l: 1 }), 'BAD_FILE', `${px} has 10 samples but ${py} has 9 samples`);
    // CSV: only discovered while reading; the longer side is counted to the end.
    const cx = await file('x.csv', '1\n2\n3\n4\n5\n');
    const cy = await file('y.csv', '1\n2\n3\n');
    const src = await fileSource({ x: cx, y: cy, blockBytes: 2 });
    await expectCode(async () => drain(src, 2), 'BAD_FILE', `${cx} has 5 samples but ${cy} has 3 samples`, 'same number of rows');
    await expectCode(async () => drain(await fileSource({ x: cy, y: cx }), 10), 'BAD_FILE', `${cy} has 3 samples but ${cx} has 5 samples`);
    // Known n (npy) against a longer CSV partner: detected after the last row.
    const nx = await file('x.npy', encodeNpy(new Float64Array(3), [3, 1]));
    await expectCode(async () => drain(await fileSource({ x: nx, y: cx }), 3), 'BAD_FILE', `${nx} has 3 samples but ${cx} has 5 samples`);
    await expectCode(async () => drain(await fileSource({ x: nx, y: cx }), 2), 'BAD_FILE', `${nx} has 3 samples but ${cx} has 5 samples`);
    const sx = await file('x.npy', encodeNpy(new Float64Array(7), [7, 1]));
    await expectCode(async () => drain(await fileSource({ x: sx, y: cx }), 4), 'BAD_FILE', `${sx} has 7 samples but ${cx} has 5 samples`);
  });

  it('missing, empty and directory paths name the path', async () => {
    const py = await file('y.f64', ok);
    const missing = join(dir, 'nope', 'x.f64');
    await expectCode(async () => fileSource({ x: missing, y: py, d: 1, l: 1 }), 'BAD_FILE', `cannot open ${missing}: no such file`);
    for (const name of ['x.f64', 'x.npy', 'x.csv']) {
      const empty = await file(name, '');
      await expectCode(async () => fileSource({ x: empty, y: py, d: 1, l: 1 }), 'BAD_FILE', `${empty} is empty`);
    }
    await expectCode(async () => fileSource({ x: dir, y: py, d: 1, l: 1, format: 'f64' }), 'BAD_FILE', dir, 'directory');
  });

  it('a file that changes size between passes is reported', async () => {
    const px = await file('x.f64', f64Bytes(new Float64Array(4)));
    const py = await file('y.f64', f64Bytes(new Float64Array(4)));
    const src = await fileSource({ x: px, y: py, d: 1, l: 1 });
    await drain(src);
    await appendFile(px, f64Bytes(new Float64Array(1)));
    await expectCode(async () => drain(src), 'BAD_FILE', px, 'changed size', 'was 32 bytes, now 40');
  });

  describe('npy', () => {
    const y4 = async (): Promise<string> => file('y.npy', encodeNpy(new Float64Array(4), [4]));

    function withHeader(dict: string, dataBytes: number): Uint8Array {
      const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
      const out = new Uint8Array(total + dataBytes);
      out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, (total - 10) & 255, (total - 10) >> 8]);
      const text = dict.padEnd(total - 11, ' ') + '\n';
      for (let i = 0; i < text.length; i++) out[10 + i] = text.charCodeAt(i);
      return out;
    }

    it.each([
      ["{'descr': '<f8', 'fortran_order': True, 'shape': (4, 2), }", 64, 'Fortran'],
      ["{'descr': '<i8', 'fortran_order': False, 'shape': (4, 2), }", 64, "dtype '<i8'"],
      ["{'descr': '>f8', 'fortran_order': False, 'shape': (4, 2), }", 64, 'big-endian'],
      ["{'descr': '|u1', 'fortran_order': False, 'shape': (4, 2), }", 8, "'|u1'"],
      ["{'descr': '<f8', 'fortran_order': False, 'shape': (4, 2), ", 64, 'malformed header'],
      ["{'descr': '<f8', 'fortran_order': False, 'shape': (4, 2, 1), }", 64, 'shape (4, 2, 1)'],
      ["{'descr': '<f8', 'fortran_order': False, 'shape': (0, 2), }", 0, 'no data'],
      ["{'descr': '<f8', 'fortran_order': False, 'shape': (4, 2), }", 60, 'truncated: its header says shape (4, 2)'],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (4, 2), }", 40, '8 unexpected bytes'],
    ])('%s with %i data bytes → BAD_FILE naming the problem', async (dict, bytes, part) => {
      const px = await file('x.npy', withHeader(dict, bytes));
      await expectCode(async () => fileSource({ x: px, y: await y4() }), 'BAD_FILE', px, part);
    });

    it('bad magic and truncated header', async () => {
      const good = encodeNpy(new Float64Array(8), [4, 2]);
      const bad = good.slice();
      bad[1] = 0x4f;
      const px = await file('x.npy', bad);
      await expectCode(async () => fileSource({ x: px, y: await y4() }), 'BAD_FILE', px, 'magic');
      const short = await file('x.npy', good.subarray(0, 50));
      await expectCode(async () => fileSource({ x: short, y: await y4() }), 'BAD_FILE', short, 'truncated header');
      const tiny = await file('x.npy', good.subarray(0, 5));
      await expectCode(async () => fileSource({ x: tiny, y: await y4() }), 'BAD_FILE', tiny, 'too short');
    });

    it('d/l given that disagree with the header → BAD_SHAPE', async () => {
      const px = await file('x.npy', encodeNpy(new Float64Array(8), [4, 2]));
      await expectCode(async () => fileSource({ x: px, y: await y4(), d: 3 }), 'BAD_SHAPE', px, 'd = 2, but d = 3 was given');
      await expectCode(async () => fileSource({ x: px, y: await y4(), l: 2 }), 'BAD_SHAPE', 'l = 1, but l = 2 was given');
      const src = await fileSource({ x: px, y: await y4(), d: 2, l: 1 });
      expect(src.n).toBe(4);
    });
  });

  describe('csv', () => {
    const y3 = async (): Promise<string> => file('y.csv', '1\n2\n3\n');

    it('ragged rows name the file, line and both column counts', async () => {
      const px = await file('x.csv', 'a,b,c\n1,2,3\n4,5,6\n7,8\n');
      const src = await fileSource({ x: px, y: await y3(), blockBytes: 5 });
      await expectCode(async () => drain(src, 2), 'BAD_FILE', `${px} line 4 has 2 columns but the first data row (line 2) has 3`);
    });

    it('non-numeric and empty fields name line and column', async () => {
      const px = await file('x.csv', '1,2,3\n4,abc,6\n7,8,9\n');
      await expectCode(async () => drain(await fileSource({ x: px, y: await y3() })), 'BAD_FILE', `${px} line 2, column 2: "abc" is not a number`);
      const qx = await file('x.csv', '1,2,3\n4,5,6\n7,8,\n');
      await expectCode(async () => drain(await fileSource({ x: qx, y: await y3() })), 'BAD_FILE', `${qx} line 3, column 3: empty field`);
      for (const bad of ['0x10', '1e', '1.2.3', '--1', '1_0', '"1"']) {
        const rx = await file('x.csv', `1\n${bad}\n3\n`);
        await expectCode(async () => drain(await fileSource({ x: rx, y: await y3() })), 'BAD_FILE', `line 2, column 1`);
      }
    });

    it('header with a different column count', async () => {
      const px = await file('x.csv', 'a,b\n1,2,3\n');
      await expectCode(async () => fileSource({ x: px, y: await y3() }), 'BAD_FILE', `${px} line 1 (the header) has 2 columns but line 2 (the first data row) has 3`);
    });

    it('blank lines in the middle are rejected, trailing ones are fine', async () => {
      const px = await file('x.csv', '1\n2\n\n3\n');
      await expectCode(async () => drain(await fileSource({ x: px, y: await y3() })), 'BAD_FILE', `${px} line 3 is blank but data follows on line 4`);
    });

    it('no data rows', async () => {
      const px = await file('x.csv', 'a,b,c\n\n');
      await expectCode(async () => fileSource({ x: px, y: await y3() }), 'BAD_FILE', `${px} has no data rows`, 'header');
      const qx = await file('x.csv', '\n \n');
      await expectCode(async () => fileSource({ x: qx, y: await y3() }), 'BAD_FILE', `${qx} has no data rows`);
    });

    it('d given that disagrees with the first row → BAD_SHAPE', async () => {
      const px = await file('x.csv', 'h1,h2\n1,2\n3,4\n5,6\n');
      await expectCode(async () => fileSource({ x: px, y: await y3(), d: 3 }), 'BAD_SHAPE', px, 'line 2', 'd = 2, but d = 3 was given');
    });
  });

  describe('non-finite values', () => {
    it('csv nan literal: sample, column, file line', async () => {
      const rows = Array.from({ length: 30 }, (_, i) => `${i},${i},${i},${i}`);
      rows[17] = '1,2,3,NaN';
      const px = await file('x.csv', 'h,h,h,h\n' + rows.join('\n') + '\n');
      const py = await file('y.csv', Array.from({ length: 30 }, (_, i) => `${i}`).join('\n'));
      const src = await fileSource({ x: px, y: py, blockBytes: 16 });
      await expectCode(async () => drain(src, 5), 'BAD_VALUE', 'x has NaN at sample 17, column 3 (0-based)', `in ${px} line 19`, 'remove or impute');
      const qy = await file('y.csv', Array.from({ length: 30 }, (_, i) => (i === 29 ? '-inf' : `${i}`)).join('\n'));
      await expectCode(async () => drain(await fileSource({ x: px, y: qy }), 100), 'BAD_VALUE');
    });

    it('binary: the sample is counted from the start of the file across chunks', async () => {
      const xs = new Float64Array(30 * 2);
      xs[23 * 2 + 1] = Infinity;
      const px = await file('x.f64', f64Bytes(xs));
      const py = await file('y.f32', f32Bytes(new Float64Array(30)));
      const src = await fileSource({ x: px, y: py, d: 2, l: 1, blockBytes: 9 });
      await expectCode(async () => drain(src, 4), 'BAD_VALUE', 'x has Infinity at sample 23, column 1 (0-based)', `in ${px}`);
      const ys = new Float64Array(30);
      ys[0] = NaN;
      const qy = await file('y.npy', encodeNpy(ys, [30, 1]));
      await expectCode(async () => drain(await fileSource({ x: px, y: qy, d: 2 }), 4), 'BAD_VALUE', 'y has NaN at sample 0, column 0');
    });
  });

  describe('abort', () => {
    it('an aborted signal stops a file pass promptly with ABORTED', async () => {
      const n = 2000;
      const px = await file('x.csv', csvText(tricky(n * 2), 2));
      const py = await file('y.f64', f64Bytes(tricky(n)));
      const src = await fileSource({ x: px, y: py, l: 1, blockBytes: 64 });
      const pre = new AbortController();
      pre.abort();
      await expectCode(async () => drain(src, 100, pre.signal), 'ABORTED');
      // Abort after the first chunk: the next chunk is never produced.
      const ac = new AbortController();
      let seen = 0;
      const e = await caught(async () => {
        for await (const _ of src.chunks(100, ac.signal)) {
          void _;
          seen++;
          ac.abort(new Error('user pressed Ctrl-C'));
        }
      });
      expect(seen).toBe(1);
      expect((e as PureneuronError).code).toBe('ABORTED');
      expect((e as Error).message).toContain('user pressed Ctrl-C');
      // Abort while a (large) chunk is being read: the block reader checks between blocks.
      const mid = new AbortController();
      setImmediate(() => mid.abort());
      await expectCode(async () => drain(src, n, mid.signal), 'ABORTED', 'aborted while reading');
    });
  });
});
