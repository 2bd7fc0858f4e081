/**
 * Property-based fuzzing of the two places where untrusted input enters the library: the file
 * parsers (raw f64/f32, .npy, .csv, through fileSource and a full pass of chunks()) and the
 * learn() boundary (shapes, lengths, option objects, non-finite values, degenerate data).
 *
 * The contract checked everywhere: a call either succeeds with the right shape and only finite
 * values (files: bit-exact where an oracle knows the values; learn: a model with all-finite W
 * and A of the right shape and unit rows), or it throws a *documented* error — a
 * PureneuronError with a code from src/errors.ts, or a TypeError/RangeError for argument
 * shapes and types. Never another exception (a stack overflow is a RangeError too, so messages
 * are checked as well), never a hang (every case runs under a timeout), never NaN in a chunk.
 * Where the outcome is fully determined by the input (sizes, truncation, injected defects,
 * validated options) the test computes the expected outcome independently and demands it.
 *
 * Reproducible: every property runs with a fixed seed (PURENEURON_FUZZ_SEED overrides it;
 * PURENEURON_FUZZ_RUNS scales the number of runs, e.g. 10 for a long soak). A failure prints
 * the seed, the path and the shrunk counterexample.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PureneuronError, type ErrorCode } from '../src/errors.js';
import { generate, DISTRIBUTIONS } from '../src/api/generate.js';
import { encodeNpy } from '../src/io/npy.js';
import { learn, type LearnOptions } from '../src/api/learn.js';
import { Model } from '../src/api/model.js';
import { fileSource, type FileFormat } from '../src/sources/index.js';
import type { ArrayInput } from '../src/types.js';
import { sameBits } from './helpers/bits.js';

const SEED = Number(process.env.PURENEURON_FUZZ_SEED ?? 20250611);
const RUNS_SCALE = Number(process.env.PURENEURON_FUZZ_RUNS ?? 1);
const runs = (n: number): number => Math.max(1, Math.round(n * RUNS_SCALE));
/** fast-check parameters: fixed seed, n runs (scaled), a readable report on failure. */
const params = (n: number): fc.Parameters<unknown> => ({ seed: SEED, numRuns: runs(n), verbose: 1 });

/** Every code of src/errors.ts; `satisfies` makes the compiler flag a code added there and not here. */
const CODES = {
  BAD_SHAPE: true,
  BAD_VALUE: true,
  BAD_OPTION: true,
  TOO_FEW_SAMPLES: true,
  RANK_DEFICIENT: true,
  BAD_FILE: true,
  BAD_MODEL: true,
  BACKEND_UNAVAILABLE: true,
  NUMERICAL_FAILURE: true,
  ABORTED: true,
  SHARD_FAILED: true,
  UNREACHABLE: true,
} satisfies Record<ErrorCode, true>;

/** Messages of engine failures that happen to be RangeError/TypeError but are never a documented answer. */
const ENGINE_FAILURE = /Maximum call stack|Invalid array length|Array buffer allocation failed|Invalid typed array length|out of memory|is not a function|Cannot read properties|undefined is not|is not iterable/i;

/**
 * Asserts `e` is a documented error: a PureneuronError with a known code (from `codes` when
 * given), or — when `platform` is true — a TypeError/RangeError that states an argument
 * problem. Messages are one non-empty line.
 */
function expectDocumented(e: unknown, codes?: readonly ErrorCode[], platform = true): void {
  const err = e as Error;
  const desc = `${err?.name}: ${err?.message}\n${err?.stack ?? ''}`;
  if (err instanceof PureneuronError) {
    expect(Object.hasOwn(CODES, err.code), desc).toBe(true);
    if (codes) expect(codes, desc).toContain(err.code);
  } else {
    expect(platform && (err instanceof TypeError || err instanceof RangeError), `undocumented error ${desc}`).toBe(true);
    expect(err.message, desc).not.toMatch(ENGINE_FAILURE);
  }
  expect(typeof err.message).toBe('string');
  expect(err.message.length, desc).toBeGreaterThan(0);
  expect(err.message, desc).not.toMatch(/\n/);
}

/** Rejects if `p` does not settle within `ms` (an async hang fails the case instead of the suite). */
async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: ${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const CASE_MS = 10_000;

// ---- files ------------------------------------------------------------------------------

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pureneuron-fuzz-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const enc = new TextEncoder();
const bytesOf = (a: Float64Array | Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const cat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

/** Little-endian values of `bytes` (itemBytes 8 or 4), independent of the library's decoder. */
function decodeLE(bytes: Uint8Array, itemBytes: number): Float64Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array(Math.floor(bytes.length / itemBytes));
  for (let i = 0; i < out.length; i++) out[i] = itemBytes === 8 ? dv.getFloat64(8 * i, true) : dv.getFloat32(4 * i, true);
  return out;
}

const allFinite = (a: ArrayLike<number>): boolean => {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return false;
  return true;
};

interface Read {
  d: number;
  l: number;
  n: number;
  x: Float64Array;
  y: Float64Array;
}

type Outcome = { ok: true; read: Read } | { ok: false; error: unknown };

/**
 * fileSource(opts) and two complete passes of chunks() with different chunk sizes. Every chunk
 * is checked as it arrives (rows in [1, maxRows], lengths rows·d and rows·l, finite values); the
 * two passes must agree bit for bit and with n. Returns the data or the error thrown.
 */
async function readFiles(
  files: { x: string; y: string },
  opts: { format?: FileFormat; d?: number; l?: number; blockBytes?: number },
  maxRows: [number, number],
): Promise<Outcome> {
  return within(CASE_MS, 'fileSource + chunks()', (async (): Promise<Outcome> => {
    try {
      const src = await fileSource({ x: files.x, y: files.y, ...opts });
      expect(Number.isInteger(src.d) && src.d >= 1).toBe(true);
      expect(Number.isInteger(src.l) && src.l >= 1).toBe(true);
      const passes: Read[] = [];
      for (const mr of maxRows) {
        const xs: Float64Array[] = [];
        const ys: Float64Array[] = [];
        let rows = 0;
        for await (const c of src.chunks(mr)) {
          expect(Number.isInteger(c.rows) && c.rows >= 1 && c.rows <= mr, `chunk of ${c.rows} rows for maxRows ${mr}`).toBe(true);
          expect(c.x.length).toBe(c.rows * src.d);
          expect(c.y.length).toBe(c.rows * src.l);
          expect(allFinite(c.x), 'non-finite value in a yielded x chunk').toBe(true);
          expect(allFinite(c.y), 'non-finite value in a yielded y chunk').toBe(true);
          xs.push(Float64Array.from(c.x));
          ys.push(Float64Array.from(c.y));
          rows += c.rows;
        }
        expect(rows).toBeGreaterThan(0);
        expect(src.n).toBe(rows);
        const flat = (parts: Float64Array[]) => {
          const out = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
          let o = 0;
          for (const p of parts) {
            out.set(p, o);
            o += p.length;
          }
          return out;
        };
        passes.push({ d: src.d, l: src.l, n: rows, x: flat(xs), y: flat(ys) });
      }
      expect(sameBits(passes[0]!.x, passes[1]!.x), 'two passes gave different x').toBe(true);
      expect(sameBits(passes[0]!.y, passes[1]!.y), 'two passes gave different y').toBe(true);
      return { ok: true, read: passes[0]! };
    } catch (e) {
      // Assertion failures of the checks above are test failures, not outcomes.
      if ((e as Error)?.name === 'AssertionError') throw e;
      return { ok: false, error: e };
    }
  })());
}

/** Errors a file's contents can cause (no argument is ever wrong in these properties). */
const FILE_CODES: readonly ErrorCode[] = ['BAD_FILE', 'BAD_VALUE', 'BAD_SHAPE'];

/** The outcome must be `expected`: 'ok' (then `check` the data) or an error with that code. */
function expectOutcome(out: Outcome, expected: 'ok' | ErrorCode, check?: (r: Read) => void): void {
  if (out.ok) {
    expect(expected, `succeeded but expected ${expected}`).toBe('ok');
    check?.(out.read);
  } else {
    expectDocumented(out.error, FILE_CODES, false);
    expect((out.error as PureneuronError).code, (out.error as Error).message).toBe(expected);
  }
}

/** Succeeds with finite data of a consistent shape, or fails with a file error. */
function expectSafe(out: Outcome): void {
  if (!out.ok) expectDocumented(out.error, FILE_CODES, false);
}

let fileCounter = 0;
/** Writes the files under fresh names (so a failing case's files can be inspected) and returns the paths. */
async function put(files: Record<'x' | 'y', { ext: string; data: Uint8Array | string }>): Promise<{ x: string; y: string }> {
  const id = ++fileCounter;
  const x = join(dir, `c${id}-x.${files.x.ext}`);
  const y = join(dir, `c${id}-y.${files.y.ext}`);
  await writeFile(x, files.x.data);
  await writeFile(y, files.y.data);
  return { x, y };
}

/** Removes a case's files (they are small, but thousands of cases add up). */
async function drop(p: { x: string; y: string }): Promise<void> {
  await rm(p.x, { force: true });
  await rm(p.y, { force: true });
}

/**
 * Read-block sizes: tiny ones put every value and line end across block boundaries (one byte
 * per read is slow, so it is rarer); undefined is the 1 MiB default.
 */
const blockBytesArb = fc.oneof(
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 9 }) },
  { weight: 3, arbitrary: fc.integer({ min: 10, max: 256 }) },
  { weight: 2, arbitrary: fc.constant(undefined) },
);
const maxRowsArb = fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 100 })) as fc.Arbitrary<[number, number]>;
/** Any float64, special values included (NaN, ±Infinity, −0, subnormals, extremes). */
const anyDouble = fc.double();
const finiteDouble = fc.double({ noNaN: true, noDefaultInfinity: true });

describe('fuzz: raw .f64 / .f32 files', () => {
  it('size vs d, non-finite values, row-count mismatch: the exact documented outcome', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          format: fc.constantFrom<'f64' | 'f32'>('f64', 'f32'),
          d: fc.integer({ min: 1, max: 7 }),
          l: fc.integer({ min: 1, max: 4 }),
          xValues: fc.array(fc.oneof({ weight: 8, arbitrary: finiteDouble.map((v) => v % 1e30) }, { weight: 1, arbitrary: anyDouble }), { maxLength: 60 }),
          yValues: fc.array(fc.oneof({ weight: 8, arbitrary: finiteDouble.map((v) => v % 1e30) }, { weight: 1, arbitrary: anyDouble }), { maxLength: 40 }),
          xExtra: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 11 }) }),
          blockBytes: blockBytesArb,
          maxRows: maxRowsArb,
        }),
        async (c) => {
          const item = c.format === 'f64' ? 8 : 4;
          const arr = (v: number[]) => (c.format === 'f64' ? Float64Array.from(v) : Float32Array.from(v));
          const xb = cat(bytesOf(arr(c.xValues)), new Uint8Array(c.xExtra).fill(0x3f));
          const yb = bytesOf(arr(c.yValues));
          const files = await put({ x: { ext: c.format, data: xb }, y: { ext: c.format, data: yb } });
          const out = await readFiles(files, { d: c.d, l: c.l, blockBytes: c.blockBytes }, c.maxRows);
          // The oracle: sizes first (checked when the source opens), then values (during the pass).
          let expected: 'ok' | ErrorCode = 'ok';
          const xv = decodeLE(xb, item);
          const yv = decodeLE(yb, item);
          if (xb.length === 0 || xb.length % (item * c.d) !== 0) expected = 'BAD_FILE';
          else if (yb.length === 0 || yb.length % (item * c.l) !== 0) expected = 'BAD_FILE';
          else if (xb.length / (item * c.d) !== yb.length / (item * c.l)) expected = 'BAD_FILE';
          else if (!allFinite(xv) || !allFinite(yv)) expected = 'BAD_VALUE';
          expectOutcome(out, expected, (r) => {
            expect(r.d).toBe(c.d);
            expect(r.l).toBe(c.l);
            expect(sameBits(r.x, xv)).toBe(true);
            expect(sameBits(r.y, yv)).toBe(true);
          });
          await drop(files);
        },
      ),
      params(250),
    );
  });

  it('random bytes of random length: finite data or a file error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 200 }),
        fc.uint8Array({ maxLength: 200 }),
        fc.constantFrom<'f64' | 'f32'>('f64', 'f32'),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 9 }),
        blockBytesArb,
        maxRowsArb,
        async (xb, yb, format, d, l, blockBytes, maxRows) => {
          const files = await put({ x: { ext: format, data: xb }, y: { ext: format, data: yb } });
          expectSafe(await readFiles(files, { d, l, blockBytes }, maxRows));
          await drop(files);
        },
      ),
      params(150),
    );
  });
});

// ---- .npy -------------------------------------------------------------------------------

/** A .npy file with the given preamble version and header text verbatim (padded as numpy does unless `pad` is false). */
function npyBytes(version: number, dict: string, data: Uint8Array, pad = true, extraPad = 0): Uint8Array {
  const pre = version === 1 ? 10 : 12;
  const body = enc.encode(dict); // ASCII for every generated dict, so latin-1 and UTF-8 agree
  let headerLen = body.length + 1 + extraPad;
  if (pad) headerLen = Math.ceil((pre + headerLen) / 64) * 64 - pre;
  const out = new Uint8Array(pre + headerLen + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0], 0);
  const dv = new DataView(out.buffer);
  if (pre === 10) dv.setUint16(8, headerLen, true);
  else dv.setUint32(8, headerLen, true);
  out.fill(0x20, pre, pre + headerLen - 1);
  out.set(body, pre);
  out[pre + headerLen - 1] = 0x0a;
  out.set(data, pre + headerLen);
  return out;
}

/** A Python literal written in one of the ways numpy (or a hand-editing user) may write it. */
interface PyTuple {
  tuple: (number | string)[];
}
type DictValue = string | boolean | null | number | PyTuple | (number | string)[] | { raw: string };

function renderValue(v: DictValue, quote: string, longInts: boolean): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return `${v}${longInts && Number.isInteger(v) && v >= 0 ? 'L' : ''}`;
  if (typeof v === 'string') return `${quote}${v}${quote}`;
  if (Array.isArray(v)) return `[${v.map((e) => renderValue(e as DictValue, quote, longInts)).join(', ')}]`;
  if ('raw' in v) return v.raw;
  const items = v.tuple.map((e) => renderValue(e as DictValue, quote, longInts));
  return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
}

interface NpyCase {
  entries: [string, DictValue][];
  quote: string;
  longInts: boolean;
  trailingComma: boolean;
  spaces: string;
  version: number;
  dataBytes: number;
  data: Uint8Array;
  pad: boolean;
  extraPad: number;
}

const dims = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 2 ** 53, 2 ** 40, 1e21) },
);
const descrArb: fc.Arbitrary<DictValue> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('<f8', '<f4') },
  { weight: 3, arbitrary: fc.constantFrom('>f8', '>f4', '|u1', '<i4', '<i8', '<f2', 'f8', '<c16', '=f8', '<f16', '', 'float64') },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }).filter((s) => !/['"\\]/.test(s)) },
  { weight: 1, arbitrary: fc.constant([{ tuple: ['a', '<f8'] }] as unknown as DictValue) },
  { weight: 1, arbitrary: fc.constantFrom<DictValue>(null, 8, true) },
);
const fortranArb: fc.Arbitrary<DictValue> = fc.oneof(
  { weight: 8, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constantFrom<DictValue>(null, 0, 1, 'False') },
);
const shapeArb: fc.Arbitrary<DictValue> = fc.oneof(
  { weight: 10, arbitrary: fc.array(dims, { minLength: 1, maxLength: 2 }).map((t) => ({ tuple: t })) },
  { weight: 1, arbitrary: fc.array(dims, { minLength: 0, maxLength: 4 }).map((t) => ({ tuple: t })) },
  { weight: 1, arbitrary: fc.array(dims, { minLength: 1, maxLength: 2 }) },
  { weight: 1, arbitrary: fc.constantFrom<DictValue>(5, null, '(3, 2)', { tuple: ['3', 2] }, { tuple: [{ tuple: [3] } as unknown as number] }) },
);

/** A random header dict (keys may be missing, duplicated or extra) and data of a random length near what it promises. */
const npyCaseArb: fc.Arbitrary<NpyCase> = fc
  .record({
    descr: descrArb,
    fortran: fortranArb,
    shape: shapeArb,
    drop: fc.oneof({ weight: 8, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 }) }),
    extra: fc.array(fc.tuple(fc.constantFrom('extra', 'descr2', 'x'), fc.constantFrom<DictValue>(1, 'a', null, { tuple: [] })), { maxLength: 1 }),
    order: fc.array(fc.nat(), { minLength: 3, maxLength: 3 }),
    quote: fc.constantFrom("'", '"'),
    longInts: fc.boolean(),
    trailingComma: fc.boolean(),
    spaces: fc.constantFrom('', ' ', '  ', '\t'),
    version: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(1, 2, 3) }, { weight: 1, arbitrary: fc.constantFrom(0, 4, 255) }),
    dataDelta: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -9, max: 9 }) }),
    pad: fc.boolean(),
    extraPad: fc.integer({ min: 0, max: 70 }),
    fill: fc.oneof({ weight: 6, arbitrary: fc.constant('values' as const) }, { weight: 1, arbitrary: fc.constant('bytes' as const) }),
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
  })
  .map((r) => {
    let entries: [string, DictValue][] = [
      ['descr', r.descr],
      ['fortran_order', r.fortran],
      ['shape', r.shape],
    ];
    if (r.drop >= 0) entries.splice(r.drop, 1);
    entries = entries.map((e, i) => [e, r.order[i]!] as const).sort((a, b) => a[1] - b[1]).map(([e]) => e);
    entries.push(...r.extra);
    // What the header promises, when it is well formed enough to say (else a small size).
    const shape = r.shape as PyTuple;
    const count = shape && typeof shape === 'object' && 'tuple' in shape && shape.tuple.every((v) => typeof v === 'number' && v >= 0 && v <= 64)
      ? (shape.tuple as number[]).reduce((a, b) => a * b, 1)
      : 3;
    const item = r.descr === '<f4' || r.descr === '>f4' ? 4 : 8;
    const dataBytes = Math.max(0, count * item + r.dataDelta);
    // Finite values (so the header decides the outcome), or raw random bytes (NaNs possible).
    const data = new Uint8Array(dataBytes);
    let s = r.seed >>> 0;
    const dv = new DataView(data.buffer);
    for (let i = 0; i < dataBytes; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      data[i] = s >>> 24;
    }
    if (r.fill === 'values') {
      for (let i = 0; i + item <= dataBytes; i += item) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        const v = (s / 2 ** 32 - 0.5) * 100;
        if (item === 8) dv.setFloat64(i, v, r.descr !== '>f8');
        else dv.setFloat32(i, v, r.descr !== '>f4');
      }
    }
    return { entries, quote: r.quote, longInts: r.longInts, trailingComma: r.trailingComma, spaces: r.spaces, version: r.version, dataBytes, data, pad: r.pad, extraPad: r.extraPad };
  });

function renderDict(c: NpyCase): string {
  const sp = c.spaces;
  const items = c.entries.map(([k, v]) => `${c.quote}${k}${c.quote}:${sp}${renderValue(v, c.quote, c.longInts)}`);
  return `{${sp}${items.join(`,${sp}`)}${c.trailingComma && items.length > 0 ? ',' : ''}${sp}}`;
}

/**
 * The outcome of reading an .npy x file (y: a valid raw f64 file of `yRows` rows, l = 1),
 * computed from the case description alone: the reference for what the reader must do.
 */
function expectedNpy(c: NpyCase, d: number | undefined): { outcome: 'ok' | ErrorCode; n?: number; w?: number; values?: Float64Array } {
  if (![1, 2, 3].includes(c.version)) return { outcome: 'BAD_FILE' };
  const dict = new Map<string, DictValue>();
  for (const [k, v] of c.entries) dict.set(k, v); // a repeated key: the last one wins, as in Python
  const descr = dict.get('descr');
  const fo = dict.get('fortran_order');
  const shape = dict.get('shape');
  if (!dict.has('descr') || !dict.has('fortran_order') || !dict.has('shape')) return { outcome: 'BAD_FILE' };
  if (descr !== '<f8' && descr !== '<f4') return { outcome: 'BAD_FILE' };
  if (typeof fo !== 'boolean') return { outcome: 'BAD_FILE' };
  if (shape === null || typeof shape !== 'object' || !('tuple' in shape)) return { outcome: 'BAD_FILE' };
  const t = shape.tuple;
  if (!t.every((v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0)) return { outcome: 'BAD_FILE' };
  const s = t as number[];
  if (fo && s.filter((v) => v > 1).length > 1) return { outcome: 'BAD_FILE' };
  if (s.length < 1 || s.length > 2) return { outcome: 'BAD_FILE' };
  const n = s[0]!;
  const w = s.length === 2 ? s[1]! : 1;
  if (n === 0 || w === 0) return { outcome: 'BAD_FILE' };
  const item = descr === '<f8' ? 8 : 4;
  if (n * w * item !== c.dataBytes) return { outcome: 'BAD_FILE' };
  if (d !== undefined && d !== w) return { outcome: 'BAD_SHAPE' };
  const values = decodeLE(c.data, item);
  if (!allFinite(values)) return { outcome: 'BAD_VALUE', n, w };
  return { outcome: 'ok', n, w, values };
}

/** A valid raw f64 y file with `rows` rows of one value. */
const yColumn = (rows: number): Uint8Array => bytesOf(Float64Array.from({ length: rows }, (_, i) => i - rows / 2));

describe('fuzz: .npy files', () => {
  it('random header dicts, dtypes, shapes, versions and data lengths: the exact documented outcome', async () => {
    await fc.assert(
      fc.asyncProperty(npyCaseArb, fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }), blockBytesArb, maxRowsArb, async (c, d, blockBytes, maxRows) => {
        const dict = renderDict(c);
        const file = npyBytes(c.version, dict, c.data, c.pad, c.extraPad);
        const exp = expectedNpy(c, d);
        const files = await put({ x: { ext: 'npy', data: file }, y: { ext: 'f64', data: yColumn(exp.n ?? 1) } });
        const out = await readFiles(files, { d, l: 1, blockBytes }, maxRows);
        expectOutcome(out, exp.outcome, (r) => {
          expect(r.n).toBe(exp.n);
          expect(r.d).toBe(exp.w);
          expect(sameBits(r.x, exp.values!)).toBe(true);
        });
        await drop(files);
      }),
      params(400),
    );
  });

  it('a valid file cut at every offset is BAD_FILE; with trailing bytes it is BAD_FILE; whole it reads back exactly', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom<'f8' | 'f4'>('f8', 'f4'),
        fc.integer({ min: 1, max: 40 }),
        async (n, w, dtype, trailing) => {
          const vals = Float64Array.from({ length: n * w }, (_, i) => (i * 0.37 - 1) * 3);
          const arr = dtype === 'f8' ? vals : Float32Array.from(vals);
          const file = encodeNpy(arr, [n, w]);
          const y = yColumn(n);
          for (let cut = 0; cut < file.length; cut++) {
            const files = await put({ x: { ext: 'npy', data: file.subarray(0, cut) }, y: { ext: 'f64', data: y } });
            expectOutcome(await readFiles(files, { l: 1 }, [1, 3]), 'BAD_FILE');
            await drop(files);
          }
          const longer = cat(file, new Uint8Array(trailing));
          let files = await put({ x: { ext: 'npy', data: longer }, y: { ext: 'f64', data: y } });
          expectOutcome(await readFiles(files, { l: 1 }, [1, 3]), 'BAD_FILE');
          await drop(files);
          files = await put({ x: { ext: 'npy', data: file }, y: { ext: 'f64', data: y } });
          expectOutcome(await readFiles(files, { l: 1, blockBytes: 7 }, [1, 3]), 'ok', (r) => {
            expect(sameBits(r.x, Float64Array.from(arr))).toBe(true);
          });
          await drop(files);
        },
      ),
      params(6),
    );
  });

  it('wrong magic or version bytes are BAD_FILE', async () => {
    const good = encodeNpy(Float64Array.from([1, 2, 3, 4]), [2, 2]);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 255 }), async (at, byte) => {
        fc.pre(good[at] !== byte && !(at === 6 && (byte === 2 || byte === 3)));
        const bad = Uint8Array.from(good);
        bad[at] = byte;
        const files = await put({ x: { ext: 'npy', data: bad }, y: { ext: 'f64', data: yColumn(2) } });
        // Version 2/3 read a 4-byte length: also wrong, but still a documented error; see the property above.
        expectOutcome(await readFiles(files, { l: 1 }, [1, 2]), 'BAD_FILE');
        await drop(files);
      }),
      params(60),
    );
  });

  it('random byte mutations of a valid file: finite data of a consistent shape, or a file error', async () => {
    const vals = Float64Array.from({ length: 5 * 3 }, (_, i) => i / 7 - 1);
    const good = encodeNpy(vals, [5, 3]);
    const headerEnd = good.length - vals.byteLength;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: headerEnd + 16 }), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'delete')), { minLength: 1, maxLength: 4 }),
        blockBytesArb,
        async (edits, blockBytes) => {
          const b = Array.from(good);
          for (const [at, byte, op] of edits) {
            const i = Math.min(at, b.length);
            if (op === 'set' && i < b.length) b[i] = byte;
            else if (op === 'insert') b.splice(i, 0, byte);
            else if (op === 'delete') b.splice(i, 1);
          }
          const files = await put({ x: { ext: 'npy', data: Uint8Array.from(b) }, y: { ext: 'f64', data: yColumn(5) } });
          expectSafe(await readFiles(files, { l: 1, blockBytes }, [2, 5]));
          await drop(files);
        },
      ),
      params(250),
    );
  });

  it('hostile headers (deep nesting, long tokens, 1 MiB length field) fail cleanly', async () => {
    const cases: [string, Uint8Array][] = [
      ['deeply nested tuple', npyBytes(1, '('.repeat(60_000), new Uint8Array(0))],
      ['deeply nested list in a valid dict', npyBytes(2, `{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1), 'x': ${'['.repeat(100_000)}}`, new Uint8Array(8))],
      ['a huge integer', npyBytes(1, `{'descr': '<f8', 'fortran_order': False, 'shape': (${'9'.repeat(400)}, 1), }`, new Uint8Array(8))],
      ['an unterminated string', npyBytes(1, `{'descr': '<f8, 'fortran_order': False, 'shape': (1, 1), }`, new Uint8Array(8))],
      ['a dtype with a line break and control characters', npyBytes(1, `{'descr': '<f8\n\u0007\u001b[2J', 'fortran_order': False, 'shape': (1, 1), }`, new Uint8Array(8))],
      ['a 100 000-character dtype', npyBytes(2, `{'descr': '${'x'.repeat(100_000)}', 'fortran_order': False, 'shape': (1, 1), }`, new Uint8Array(8))],
      ['a 100 000-character malformed header', npyBytes(2, `{'descr': '<f8', 'fortran_order': False, 'shape': (1, ${'1 '.repeat(50_000)}), }`, new Uint8Array(8))],
      ['a header length beyond the file', (() => {
        const b = encodeNpy(Float64Array.from([1]), [1, 1]);
        b[8] = 0xff;
        b[9] = 0xff;
        return b;
      })()],
      ['a v2 header length of 2^32 − 1', (() => {
        const b = npyBytes(2, `{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1), }`, new Uint8Array(8));
        b.fill(0xff, 8, 12);
        return b;
      })()],
    ];
    for (const [what, data] of cases) {
      const files = await put({ x: { ext: 'npy', data }, y: { ext: 'f64', data: yColumn(1) } });
      const out = await readFiles(files, { l: 1 }, [1, 1]);
      expect(out.ok, what).toBe(false);
      if (!out.ok) {
        expectDocumented(out.error, ['BAD_FILE'], false);
        // One readable line: a hostile header is quoted in part, never whole.
        expect((out.error as Error).message.length, what).toBeLessThan(600);
      }
      await drop(files);
    }
  });
});

// ---- .csv -------------------------------------------------------------------------------

/** A number token for `v`, in one of several spellings; its value is Number(token). */
const numberToken = (v: number, style: number): string => {
  switch (style) {
    case 0:
      return String(v);
    case 1:
      return v.toExponential(Math.min(20, Math.abs(Math.round(v * 7)) % 21));
    case 2:
      return Math.abs(v) < 1e20 ? v.toFixed(Math.abs(Math.round(v * 3)) % 8) : String(v);
    case 3:
      return v >= 0 ? `+${v}` : String(v);
    default:
      return String(v).toUpperCase(); // 1E+300
  }
};

interface CsvCase {
  rows: string[][];
  header?: string[];
  crlf: boolean;
  bom: boolean;
  trailingNewline: boolean;
  trailingBlank: string[];
  pad: [string, string];
}

function renderCsv(c: CsvCase): string {
  const nl = c.crlf ? '\r\n' : '\n';
  const lines = (c.header ? [c.header] : []).concat(c.rows).map((r) => r.map((t) => `${c.pad[0]}${t}${c.pad[1]}`).join(','));
  let text = (c.bom ? '\uFEFF' : '') + lines.join(nl);
  if (c.trailingNewline || c.trailingBlank.length > 0) text += nl;
  if (c.trailingBlank.length > 0) text += c.trailingBlank.join(nl) + (c.trailingNewline ? nl : '');
  return text;
}

/** A well-formed CSV of n rows × w numbers with every accepted variation; the values are Number(token). */
const csvArb = (n: fc.Arbitrary<number>, w: number): fc.Arbitrary<CsvCase> =>
  fc.record({
    rows: n.chain((rows) =>
      fc.array(fc.array(fc.tuple(finiteDouble.filter((v) => Math.abs(v) < 1e300), fc.integer({ min: 0, max: 4 })).map(([v, s]) => numberToken(v, s)), { minLength: w, maxLength: w }), {
        minLength: rows,
        maxLength: rows,
      }),
    ),
    header: fc.option(fc.array(fc.stringMatching(/^[a-z_][a-z0-9_ ]{0,6}$/).map((s) => `col_${s}`), { minLength: w, maxLength: w }), { nil: undefined }),
    crlf: fc.boolean(),
    bom: fc.boolean(),
    trailingNewline: fc.boolean(),
    trailingBlank: fc.array(fc.constantFrom('', ' ', '\t', '  '), { maxLength: 3 }),
    pad: fc.tuple(fc.constantFrom('', ' ', '\t', ' \t'), fc.constantFrom('', ' ', '\t')),
  });

const csvValues = (c: CsvCase): Float64Array => Float64Array.from(c.rows.flat().map((t) => Number(t)));

describe('fuzz: .csv files', () => {
  it('well-formed files with BOM, CRLF, headers, padding, trailing blank lines, many spellings: exact values', async () => {
    const pair = fc
      .tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 15 }))
      .chain(([d, l, n]) => fc.tuple(fc.constant(d), fc.constant(l), csvArb(fc.constant(n), d), csvArb(fc.constant(n), l)));
    await fc.assert(
      fc.asyncProperty(pair, blockBytesArb, maxRowsArb, async ([d, l, cx, cy], blockBytes, maxRows) => {
        const files = await put({ x: { ext: 'csv', data: renderCsv(cx) }, y: { ext: 'csv', data: renderCsv(cy) } });
        const out = await readFiles(files, { blockBytes }, maxRows);
        expectOutcome(out, 'ok', (r) => {
          expect(r.d).toBe(d);
          expect(r.l).toBe(l);
          expect(r.n).toBe(cx.rows.length);
          expect(sameBits(r.x, csvValues(cx)), renderCsv(cx)).toBe(true);
          expect(sameBits(r.y, csvValues(cy))).toBe(true);
        });
        await drop(files);
      }),
      params(150),
    );
  });

  type Defect =
    | { kind: 'ragged'; row: number; add: boolean }
    | { kind: 'blank'; row: number; text: string }
    | { kind: 'token'; row: number; col: number; token: string }
    | { kind: 'nonfinite'; row: number; col: number; token: string }
    | { kind: 'rows'; delta: number };

  const NOT_NUMBERS = ['abc', '0x10', '1_000', '"1"', "'2'", '1.2.3', '--1', '1e', '.', '-', 'e5e', '1,5'.replace(',', ';'), 'NaNa', 'infinit', '∞', '１', '1 2', '\u00a0', '\u00001'];
  const NON_FINITE = ['nan', 'NaN', '-nan', '+NAN', 'inf', '-inf', '+Inf', 'Infinity', '-infinity', '1e309', '-1e400', '9'.repeat(400)];

  const defectArb: fc.Arbitrary<Defect> = fc.oneof(
    fc.record({ kind: fc.constant('ragged' as const), row: fc.nat(), add: fc.boolean() }),
    fc.record({ kind: fc.constant('blank' as const), row: fc.nat(), text: fc.constantFrom('', ' ', '\t', '\r') }),
    fc.record({ kind: fc.constant('token' as const), row: fc.nat(), col: fc.nat(), token: fc.constantFrom(...NOT_NUMBERS, '') }),
    fc.record({ kind: fc.constant('nonfinite' as const), row: fc.nat(), col: fc.nat(), token: fc.constantFrom(...NON_FINITE) }),
    fc.record({ kind: fc.constant('rows' as const), delta: fc.constantFrom(-2, -1, 1, 3) }),
  );

  it('one injected defect (ragged row, inner blank line, non-number, nan/inf/overflow, row-count mismatch): the exact documented error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }).chain((w) => fc.tuple(fc.constant(w), csvArb(fc.integer({ min: 2, max: 10 }), w))),
        defectArb,
        blockBytesArb,
        maxRowsArb,
        async ([w, cx], defect, blockBytes, maxRows) => {
          const c: CsvCase = { ...cx, rows: cx.rows.map((r) => [...r]) };
          const n = c.rows.length;
          let yRows = n;
          let expected: ErrorCode = 'BAD_FILE';
          let text: string;
          switch (defect.kind) {
            case 'ragged': {
              const r = defect.row % n;
              if (defect.add) c.rows[r]!.push('1');
              else if (w > 1) c.rows[r]!.pop();
              else c.rows[r]!.push('2'); // one column: a row can only grow
              text = renderCsv(c);
              break;
            }
            case 'blank': {
              // Anywhere before the last data row: a blank line followed by data.
              const lines = renderCsv({ ...c, bom: false, trailingBlank: [], trailingNewline: false }).split(c.crlf ? '\r\n' : '\n');
              const at = defect.row % (lines.length - 1 + 1); // 0 … lines.length − 1: before line `at`
              const pos = Math.min(at, lines.length - 1);
              lines.splice(pos, 0, defect.text);
              text = (c.bom ? '\uFEFF' : '') + lines.join(c.crlf ? '\r\n' : '\n') + '\n';
              break;
            }
            case 'token': {
              // In a data row that cannot be taken for the header: not the first line of a header-less file.
              const r = c.header ? defect.row % n : 1 + (defect.row % (n - 1));
              c.rows[r]![defect.col % w] = defect.token;
              text = renderCsv(c);
              break;
            }
            case 'nonfinite': {
              c.rows[defect.row % n]![defect.col % w] = defect.token;
              expected = 'BAD_VALUE';
              text = renderCsv(c);
              break;
            }
            case 'rows':
              yRows = Math.max(1, n + defect.delta);
              if (yRows === n) yRows = n + 1;
              text = renderCsv(c);
              break;
          }
          const y = Float64Array.from({ length: yRows }, (_, i) => i);
          const files = await put({ x: { ext: 'csv', data: text }, y: { ext: 'f64', data: bytesOf(y) } });
          const out = await readFiles(files, { l: 1, blockBytes }, maxRows);
          expectOutcome(out, expected);
          // The message names the file (and, for a row-count mismatch, both files).
          if (!out.ok) expect((out.error as Error).message).toContain(files.x);
          await drop(files);
        },
      ),
      params(200),
    );
  });

  /** Pieces of CSV-like text: separators, line ends, numbers, special literals, junk, multi-byte characters. */
  const csvPiece = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('1', '-2.5', '3e4', '0', '1e-300', '.5', '7.', ',', ',', '\n', '\n', '\r\n', ' ', '\t') },
    { weight: 2, arbitrary: fc.constantFrom('nan', 'inf', '-Infinity', '1e999', '"', 'x', 'é', '€', '\uFEFF', '\u0000', '\r', '\n\n', '#', ';') },
    { weight: 1, arbitrary: fc.string({ maxLength: 4, unit: 'grapheme' }) },
    { weight: 1, arbitrary: finiteDouble.map(String) },
  );
  const csvText = fc.array(csvPiece, { maxLength: 80 }).map((p) => p.join(''));
  const csvOrBytes = fc.oneof({ weight: 5, arbitrary: csvText }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 120 }) });

  it('random text and bytes for x and y: finite data of a consistent shape, or a file error', async () => {
    await fc.assert(
      fc.asyncProperty(csvOrBytes, fc.oneof(csvOrBytes, fc.constant('1\n2\n3\n')), fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }), blockBytesArb, maxRowsArb, async (xt, yt, d, blockBytes, maxRows) => {
        const files = await put({ x: { ext: 'csv', data: xt }, y: { ext: 'csv', data: yt } });
        expectSafe(await readFiles(files, { d, blockBytes }, maxRows));
        await drop(files);
      }),
      params(300),
    );
  });

  it('mixed formats: x in one format, y in another, random sizes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom<FileFormat>('f64', 'f32', 'npy', 'csv'),
        fc.constantFrom<FileFormat>('f64', 'f32', 'npy', 'csv'),
        blockBytesArb,
        maxRowsArb,
        async (nx, ny, d, l, fx, fy, blockBytes, maxRows) => {
          const make = (f: FileFormat, n: number, w: number, seed: number): Uint8Array | string => {
            const v = Float64Array.from({ length: n * w }, (_, i) => ((i * 7919 + seed) % 97) / 8 - 6);
            if (f === 'f64') return bytesOf(v);
            if (f === 'f32') return bytesOf(Float32Array.from(v));
            if (f === 'npy') return encodeNpy(v, [n, w]);
            return Array.from({ length: n }, (_, r) => Array.from(v.subarray(r * w, (r + 1) * w)).join(',')).join('\n') + '\n';
          };
          const files = await put({ x: { ext: fx, data: make(fx, nx, d, 1) }, y: { ext: fy, data: make(fy, ny, l, 2) } });
          const out = await readFiles(files, { d: fx === 'f64' || fx === 'f32' ? d : undefined, l: fy === 'f64' || fy === 'f32' ? l : undefined, blockBytes }, maxRows);
          expectOutcome(out, nx === ny ? 'ok' : 'BAD_FILE', (r) => {
            expect([r.n, r.d, r.l]).toEqual([nx, d, l]);
          });
          await drop(files);
        },
      ),
      params(200),
    );
  });
});

// ---- learn() ----------------------------------------------------------------------------

/** Checks a learned model: shapes, finite W and A, unit rows of W. */
function expectGoodModel(m: Model, d: number, l: number, k?: number): void {
  expect(m).toBeInstanceOf(Model);
  expect(m.d).toBe(d);
  expect(m.l).toBe(l);
  if (k !== undefined) expect(m.k).toBe(k);
  expect(m.k).toBeGreaterThanOrEqual(1);
  expect(m.k).toBeLessThanOrEqual(Math.min(d, l));
  expect(m.W.length).toBe(m.k * d);
  expect(m.A.length).toBe(l * m.k);
  expect(allFinite(m.W), `W has a non-finite value: ${Array.from(m.W)}`).toBe(true);
  expect(allFinite(m.A), `A has a non-finite value: ${Array.from(m.A)}`).toBe(true);
  for (let i = 0; i < m.k; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += m.W[i * d + j]! ** 2;
    expect(Math.abs(Math.sqrt(s) - 1), `row ${i} of W has norm ${Math.sqrt(s)}`).toBeLessThan(1e-6);
  }
}

type LearnOutcome = { ok: true; model: Model } | { ok: false; error: unknown };

async function tryLearn(input: ArrayInput, options: LearnOptions): Promise<LearnOutcome> {
  return within(CASE_MS, 'learn()', (async (): Promise<LearnOutcome> => {
    try {
      return { ok: true, model: await learn(input, options) };
    } catch (e) {
      return { ok: false, error: e };
    }
  })());
}

/** The codes a fit of well-formed, finite data with valid options may end in. */
const FIT_CODES: readonly ErrorCode[] = ['TOO_FEW_SAMPLES', 'RANK_DEFICIENT', 'NUMERICAL_FAILURE'];

/**
 * Known defects outside this file's scope: error signatures the properties accept (and count)
 * while a fix is pending, each with an `it.fails` repro. Empty now — the defects found so far
 * were fixed and their repros are regression tests at the end of this file.
 */
const KNOWN_DEFECTS: { id: string; matches: (e: unknown) => boolean }[] = [
  // none known today: the defects this file found were fixed and are regression tests below.
];
const defectsSeen = new Map<string, number>();
function knownDefect(e: unknown): boolean {
  const hit = KNOWN_DEFECTS.find((k) => k.matches(e));
  if (hit) defectsSeen.set(hit.id, (defectsSeen.get(hit.id) ?? 0) + 1);
  return hit !== undefined;
}
afterAll(() => {
  if (defectsSeen.size > 0) console.warn(`fuzz: known defects hit (pinned by it.fails): ${[...defectsSeen].map(([id, c]) => `${id} ×${c}`).join(', ')}`);
});

/** A small planted problem, fixed for the options property. */
const small = (() => {
  const g = generate({ n: 600, d: 4, k: 2, l: 3, noise: 0.01, seed: 3 });
  return { x: g.x, y: g.y, d: 4, l: 3 };
})();

/** Values any option might be given by mistake. */
const junk = fc.oneof(
  fc.constantFrom<unknown>(null, true, false, 0, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 53, 1e-300, '', 'js', '3', 'true', [], {}, [1], () => 1, Symbol('s'), 10n, new Date(0), { aborted: false }),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 5 }),
);

/** For each option: a generator of valid values (kept cheap) and the validity rule the README states. */
const OPTION_SPECS: Record<Exclude<keyof LearnOptions, 'k'>, { valid: fc.Arbitrary<unknown>; ok: (v: unknown) => boolean }> = {
  backend: { valid: fc.constantFrom('auto', 'js', 'wasm'), ok: (v) => v === 'auto' || v === 'js' || v === 'wasm' },
  detector: { valid: fc.constantFrom('even', 'literal'), ok: (v) => v === 'even' || v === 'literal' },
  whitenY: { valid: fc.boolean(), ok: (v) => typeof v === 'boolean' },
  reduceX: { valid: fc.boolean(), ok: (v) => typeof v === 'boolean' },
  polish: { valid: fc.boolean(), ok: (v) => typeof v === 'boolean' },
  jennrichPairs: { valid: fc.integer({ min: 1, max: 12 }), ok: (v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 1000 },
  seed: { valid: fc.integer(), ok: (v) => Number.isInteger(v) },
  weighting: { valid: fc.constantFrom('robust', 'none'), ok: (v) => v === 'robust' || v === 'none' },
  robustScale: { valid: fc.double({ min: 0.01, max: 1e6, noNaN: true }), ok: (v) => typeof v === 'number' && v > 0 && Number.isFinite(v) },
  refine: { valid: fc.integer({ min: 0, max: 2 }), ok: (v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 1000 },
  refineSamples: { valid: fc.integer({ min: 1, max: 10_000 }), ok: (v) => Number.isInteger(v) && (v as number) >= 1 },
  errorEstimate: { valid: fc.boolean(), ok: (v) => typeof v === 'boolean' },
  chunkRows: { valid: fc.integer({ min: 2, max: 100_000 }), ok: (v) => Number.isInteger(v) && (v as number) >= 1 },
  workers: { valid: fc.constantFrom('auto', 0, 1, 2), ok: (v) => v === 'auto' || (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 256) },
  cacheBytes: { valid: fc.constantFrom('auto', 0, 1 << 20), ok: (v) => v === 'auto' || (Number.isInteger(v) && (v as number) >= 0) },
  signal: { valid: fc.constant(new AbortController().signal), ok: (v) => v instanceof AbortSignal },
  onProgress: { valid: fc.constant(() => undefined), ok: (v) => typeof v === 'function' },
};
const KEYS = Object.keys(OPTION_SPECS) as (keyof typeof OPTION_SPECS)[];

/** An option object: k (valid or not), some known options with valid or junk values, maybe unknown keys. */
const optionsArb = fc.record({
  k: fc.oneof({ weight: 6, arbitrary: fc.constantFrom<unknown>(1, 2, 3, 'auto') }, { weight: 1, arbitrary: fc.constantFrom<unknown>(0, 4, -1, 2.5, '2', 'AUTO', null, undefined, NaN) }),
  known: fc.uniqueArray(fc.tuple(fc.constantFrom(...KEYS), fc.boolean()), { selector: ([key]) => key, maxLength: 6 }),
  junkValues: fc.array(junk, { minLength: 6, maxLength: 6 }),
  validValues: fc.tuple(...KEYS.map((key) => OPTION_SPECS[key].valid)),
  unknown: fc.oneof({ weight: 5, arbitrary: fc.constant([] as string[]) }, { weight: 1, arbitrary: fc.array(fc.constantFrom('K', 'polsh', 'chunk_rows', 'verbose', 'toString', 'constructor', ''), { minLength: 1, maxLength: 2 }) }),
});

function describeOptions(o: Record<string, unknown>): string {
  return `{ ${Object.entries(o)
    .map(([k, v]) => `${k}: ${typeof v === 'function' ? 'function' : typeof v === 'symbol' || typeof v === 'bigint' ? String(v) : JSON.stringify(v)}`)
    .join(', ')} }`;
}

/** Data for the data property: planted, degenerate or scaled, optionally float32, with non-finite values sprinkled. */
const dataArb = fc.record({
  d: fc.integer({ min: 1, max: 6 }),
  l: fc.integer({ min: 1, max: 6 }),
  kTrue: fc.integer({ min: 1, max: 6 }),
  n: fc.oneof({ weight: 1, arbitrary: fc.integer({ min: 1, max: 12 }) }, { weight: 4, arbitrary: fc.integer({ min: 13, max: 700 }) }),
  distribution: fc.constantFrom(...DISTRIBUTIONS),
  noise: fc.constantFrom(0, 0.01, 0.3, 3),
  seed: fc.integer({ min: 1, max: 1000 }),
  symmetrize: fc.boolean(),
  shape: fc.constantFrom('planted', 'planted', 'planted', 'zeros-x', 'zeros-y', 'constant-x', 'duplicate-rows', 'one-hot-x', 'y-linear'),
  // Powers of ten the data are scaled by. y below ~1e-307 (subnormal) makes ml-matrix's SVD
  // loop forever — a known defect pinned by a child-process test below, kept out of here
  // because a synchronous hang cannot be timed out in-process.
  scaleX: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -320, max: 308 }) }),
  scaleY: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -300, max: 308 }) }),
  float32: fc.boolean(),
  sprinkle: fc.oneof(
    { weight: 4, arbitrary: fc.constant([] as [boolean, number, number][]) },
    { weight: 1, arbitrary: fc.array(fc.tuple(fc.boolean(), fc.nat(), fc.constantFrom(NaN, Infinity, -Infinity)), { minLength: 1, maxLength: 3 }) },
  ),
  lengthDelta: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -3, max: 3 }) }),
  giveN: fc.constantFrom('no' as const, 'right' as const, 'wrong' as const),
  kDelta: fc.constantFrom<number | 'auto'>(-2, -1, 0, 0, 1, 'auto'),
  backend: fc.constantFrom<'js' | 'wasm'>('js', 'wasm'),
  chunkRows: fc.constantFrom(1, 7, 64, 65536),
  weighting: fc.constantFrom<'robust' | 'none'>('robust', 'none'),
  refine: fc.constantFrom(0, 0, 0, 1),
  errorEstimate: fc.boolean(),
  workers: fc.constantFrom<number | 'auto'>(0, 0, 2, 'auto'),
});
type DataCase = typeof dataArb extends fc.Arbitrary<infer T> ? T : never;

/** The arrays and options of a data case. */
function buildCase(c: DataCase): { input: ArrayInput; options: LearnOptions; k: number | 'auto' } {
  const kPlant = Math.min(c.kTrue, c.d, c.l);
  const g = generate({ distribution: c.distribution, n: c.n, d: c.d, k: kPlant, l: c.l, noise: c.noise, seed: c.seed, symmetrize: c.symmetrize && c.n % 2 === 0 });
  let x = Float64Array.from(g.x);
  let y = Float64Array.from(g.y);
  const { d, l, n } = c;
  switch (c.shape) {
    case 'zeros-x':
      x.fill(0);
      break;
    case 'zeros-y':
      y.fill(0);
      break;
    case 'constant-x':
      x.fill(1.5);
      break;
    case 'duplicate-rows':
      for (let i = 1; i < n; i++) x.copyWithin(i * d, 0, d);
      break;
    case 'one-hot-x':
      x.fill(0);
      for (let i = 0; i < n; i++) x[i * d + (i % d)] = i % 2 ? 1 : -1;
      break;
    case 'y-linear':
      for (let i = 0; i < n; i++) for (let j = 0; j < l; j++) y[i * l + j] = x[i * d + (j % d)]!;
      break;
  }
  if (c.scaleX !== 0) x = x.map((v) => v * 10 ** c.scaleX);
  if (c.scaleY !== 0) y = y.map((v) => v * 10 ** c.scaleY);
  for (const [inX, at, v] of c.sprinkle) {
    const a = inX ? x : y;
    a[at % a.length] = v;
  }
  const xs = c.float32 ? Float32Array.from(x) : x;
  const ys = c.float32 ? Float32Array.from(y) : y;
  let xl = xs;
  if (c.lengthDelta !== 0) {
    xl = c.float32 ? new Float32Array(Math.max(0, xs.length + c.lengthDelta)) : new Float64Array(Math.max(0, xs.length + c.lengthDelta));
    xl.set(xs.subarray(0, Math.min(xs.length, xl.length)));
  }
  const input: ArrayInput = { x: xl, y: ys, d, l };
  if (c.giveN === 'right') input.n = n;
  if (c.giveN === 'wrong') input.n = n + 1;
  const k = c.kDelta === 'auto' ? 'auto' : Math.max(1, Math.min(d, l) + c.kDelta);
  const options: LearnOptions = { k, backend: c.backend, chunkRows: c.chunkRows, weighting: c.weighting, refine: c.refine, errorEstimate: c.errorEstimate, workers: c.workers };
  return { input, options, k };
}

describe('fuzz: learn()', () => {
  it('random option objects: a finite model only when every option is valid, else a documented error', async () => {
    await fc.assert(
      fc.asyncProperty(optionsArb, async (r) => {
        const options: Record<string, unknown> = { k: r.k };
        let allValid = true;
        r.known.forEach(([key, useValid], i) => {
          let v = useValid ? r.validValues[KEYS.indexOf(key)] : r.junkValues[i];
          // A valid but large worker count would start that many threads: same check, less time.
          if (key === 'workers' && Number.isInteger(v) && (v as number) > 2 && (v as number) <= 256) v = 2;
          options[key] = v;
          // undefined means "the default", as for any optional property.
          if (v !== undefined && !OPTION_SPECS[key].ok(v)) allValid = false;
        });
        for (const u of r.unknown) options[u] = 1;
        const kValid = r.k === 'auto' || (Number.isInteger(r.k) && (r.k as number) >= 1 && (r.k as number) <= 3);
        const what = describeOptions(options);
        const out = await tryLearn(small, options as unknown as LearnOptions);
        if (r.unknown.length > 0) {
          // Unknown names are rejected first, whatever else is wrong.
          expect(out.ok, `accepted unknown option names: ${what}`).toBe(false);
          if (!out.ok) expectDocumented(out.error, ['BAD_OPTION'], false);
          return;
        }
        if (out.ok) {
          expect(kValid && allValid, `accepted invalid options ${what}`).toBe(true);
          expectGoodModel(out.model, 4, 3, r.k === 'auto' ? undefined : (r.k as number));
          return;
        }
        if (knownDefect(out.error)) return;
        expectDocumented(out.error);
        if (kValid && allValid) {
          // Valid options on good data may only fail for a documented data or fit reason.
          expectDocumented(out.error, [...FIT_CODES, 'BACKEND_UNAVAILABLE'], false);
        } else if (out.error instanceof PureneuronError) {
          // An invalid option: BAD_OPTION, unless a value in range made the fit fail first
          // (a 1e-300 robustScale weights every sample ~0: RANK_DEFICIENT).
          expect([...FIT_CODES, 'BAD_OPTION'], `${what}: ${out.error.message}`).toContain(out.error.code);
        }
      }),
      params(300),
    );
  });

  it('random shapes, lengths, tiny n, k around min(d, l), degenerate and extreme data, NaN/Inf: a finite model or the documented error', async () => {
    await fc.assert(
      fc.asyncProperty(dataArb, async (c) => {
        const { input, options, k } = buildCase(c);
        const { d, l } = c;
        const out = await tryLearn(input, options);
        // The reference outcome, in the order the README gives the checks: shapes, k, values, fit.
        const shapeOk = c.lengthDelta === 0 && c.giveN !== 'wrong';
        const kOk = k === 'auto' || k <= Math.min(d, l);
        const finite = allFinite(input.x) && allFinite(input.y);
        const what = `${c.shape} (n, d, l, k) = (${c.n}, ${d}, ${l}, ${k}) scale 1e${c.scaleX}/1e${c.scaleY}${c.float32 ? ' float32' : ''}`;
        if (!shapeOk || !kOk) {
          expect(out.ok, `${what}: wrong shape or k accepted`).toBe(false);
          if (!out.ok) {
            expect(out.error, `${what}: ${(out.error as Error).message}`).toBeInstanceOf(RangeError);
            expectDocumented(out.error);
          }
          return;
        }
        if (!finite) {
          expect(out.ok, `${what}: non-finite data accepted`).toBe(false);
          if (!out.ok) expectDocumented(out.error, ['BAD_VALUE'], false);
          return;
        }
        if (out.ok) expectGoodModel(out.model, d, l, k === 'auto' ? undefined : k);
        // Magnitudes ≳ 1e150 overflow the second moments: a BAD_VALUE that says to rescale.
        else if (!knownDefect(out.error)) expectDocumented(out.error, Math.max(c.scaleX, c.scaleY) >= 140 ? [...FIT_CODES, 'BAD_VALUE'] : FIT_CODES, false);
      }),
      params(200),
    );
  });

  it('a source whose chunks() throws, yields junk or stops early: the error passes through or is documented', async () => {
    // A hand-written SampleSource is part of the public API; learn() must not turn its failures
    // into a model or an undocumented error.
    const g = generate({ n: 400, d: 3, k: 2, l: 3, seed: 5 });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('throws', 'nan', 'short-x', 'rows-lie', 'zero-rows', 'fewer-second-pass', 'more-second-pass'),
        fc.integer({ min: 0, max: 3 }),
        async (mode, failAt) => {
          let pass = 0;
          const boom = new Error('disk on fire');
          const source = {
            d: 3,
            l: 3,
            n: 400,
            async *chunks(maxRows: number) {
              pass++;
              const total = mode === 'fewer-second-pass' && pass > 1 ? 300 : mode === 'more-second-pass' && pass > 1 ? 400 : 400;
              let i = 0;
              for (let start = 0; start < total; start += maxRows, i++) {
                const rows = Math.min(maxRows, total - start);
                const x = g.x.slice(start * 3, (start + rows) * 3);
                const y = g.y.slice(start * 3, (start + rows) * 3);
                if (i === failAt) {
                  if (mode === 'throws') throw boom;
                  if (mode === 'nan') x[0] = NaN;
                  if (mode === 'short-x') {
                    yield { x: x.subarray(0, x.length - 1), y, rows };
                    continue;
                  }
                  if (mode === 'rows-lie') {
                    yield { x, y, rows: rows + 1 };
                    continue;
                  }
                  if (mode === 'zero-rows') {
                    yield { x: new Float64Array(0), y: new Float64Array(0), rows: 0 };
                  }
                }
                yield { x, y, rows };
              }
            },
          };
          // workers: 0 — with a worker pool a failing job leaves unhandled rejections behind
          // (known defect, pinned below in a child process, where it cannot take the runner down).
          const out = await within(CASE_MS, 'learn(custom source)', learn(source, { k: 2, chunkRows: 100, backend: 'js', workers: 0 }).then(
            (model) => ({ ok: true as const, model }),
            (error: unknown) => ({ ok: false as const, error }),
          ));
          if (mode === 'throws') {
            expect(out.ok).toBe(false);
            if (!out.ok) expect(out.error).toBe(boom);
            return;
          }
          if (out.ok) {
            // A source that lies may still yield a model (learn() does not compare the sample
            // counts of its passes), but never a non-finite one.
            expect(['zero-rows', 'more-second-pass', 'fewer-second-pass'], `${mode}: accepted`).toContain(mode);
            expectGoodModel(out.model, 3, 3, 2);
          } else if (!knownDefect(out.error)) {
            expectDocumented(out.error);
          }
        },
      ),
      params(40),
    );
  });
});

// ---- pins of known defects outside this file's scope (see KNOWN_DEFECTS) -------------------


describe('regressions: defects this file found, now fixed', () => {
  /** A valid-data case that must end in a finite model or a documented fit error. */
  async function expectSound(input: ArrayInput, options: LearnOptions): Promise<void> {
    const out = await tryLearn(input, options);
    if (out.ok) expectGoodModel(out.model, input.d, input.l);
    else expectDocumented(out.error, FIT_CODES, false);
  }
  const planted = (o: Parameters<typeof generate>[0], scaleX = 1, scaleY = 1): ArrayInput => {
    const g = generate(o);
    return { x: g.x.map((v) => v * scaleX), y: g.y.map((v) => v * scaleY), d: o.d, l: o.l };
  };

  it('error estimate with chunkRows = 1: RangeError "hungarian: cost[0] = NaN" (src/learn.ts halves + src/errorEstimate.ts)', async () => {
    await expectSound(planted({ n: 13, d: 1, k: 1, l: 1, seed: 1 }), { k: 1, chunkRows: 1, backend: 'js' });
  });

  it('degenerate half-sample fit: plain Error "LU matrix is singular" (errorEstimate.halfFirstLayer → linalg.solve)', async () => {
    await expectSound(planted({ distribution: 'rademacher', n: 9, d: 6, k: 6, l: 6, noise: 3, seed: 2 }), { k: 'auto', backend: 'js', weighting: 'none' });
  });

  it('|x| ~ 1e304: the overflow of the second moments is a BAD_VALUE naming the fix (was a plain Error from the SVD)', async () => {
    const out = await tryLearn(planted({ distribution: 'student-t', n: 14, d: 1, k: 1, l: 4, noise: 0.3, seed: 993 }, 1e304), { k: 1, chunkRows: 1, backend: 'js' });
    expect(out.ok).toBe(false);
    if (!out.ok) {
      expect((out.error as PureneuronError).code).toBe('BAD_VALUE');
      expect((out.error as Error).message).toMatch(/overflow double precision.*rescale x/);
    }
  });

  it('a junk onProgress is rejected up front: PureneuronError BAD_OPTION', async () => {
    const out = await tryLearn(small, { k: 2, onProgress: 'log' as unknown as () => void });
    expect(out.ok).toBe(false);
    expect(out.ok ? undefined : out.error).toBeInstanceOf(PureneuronError);
    expect(out.ok ? undefined : (out.error as PureneuronError).code).toBe('BAD_OPTION');
  });

  it('a junk signal ({ aborted: false }, not an AbortSignal) is rejected up front: PureneuronError BAD_OPTION (was silently ignored)', async () => {
    const out = await tryLearn(small, { k: 2, signal: { aborted: false } as unknown as AbortSignal });
    const error = out.ok ? undefined : out.error;
    expect(error, 'learn() accepted a junk signal').toBeInstanceOf(PureneuronError);
    expect((error as PureneuronError).code, (error as Error).message).toBe('BAD_OPTION');
    expect((error as Error).message).toMatch(/signal must be an AbortSignal/);
  });

  it('NaN from a custom SampleSource is BAD_VALUE (today: RANK_DEFICIENT "x is identically zero")', async () => {
    const g = generate({ n: 400, d: 3, k: 2, l: 3, seed: 5 });
    const x = Float64Array.from(g.x);
    x[7] = NaN;
    const source = {
      d: 3,
      l: 3,
      n: 400,
      async *chunks(maxRows: number) {
        for (let s = 0; s < 400; s += maxRows) {
          const rows = Math.min(maxRows, 400 - s);
          yield { x: x.subarray(s * 3, (s + rows) * 3), y: g.y.subarray(s * 3, (s + rows) * 3), rows };
        }
      },
    };
    const out = await within(CASE_MS, 'learn', learn(source, { k: 2, backend: 'js' }).then(() => undefined, (e: unknown) => e));
    expect((out as PureneuronError)?.code, (out as Error)?.message).toBe('BAD_VALUE');
  });

  /** Runs an ES module script with node (in a child process, against the build) and returns its result. */
  async function runScript(name: string, body: string, timeout: number) {
    const { spawnSync } = await import('node:child_process');
    const { CLI } = await import('./helpers/cli.js');
    const path = join(dir, name);
    await writeFile(path, `const { generate, learn, closeWorkers } = await import(${JSON.stringify(CLI.replace(/cli\.js$/, 'index.js'))});\n${body}`);
    return spawnSync(process.execPath, [path], { timeout, encoding: 'utf8' });
  }

  it('a chunk that fails inside a worker job rejects learn() with no unhandled rejection left behind (src/parallel/runner.ts)', async () => {
    // Today a job can reject while the runner awaits the next chunk, before any handler is
    // attached: Node reports an unhandled rejection, which kills a plain Node process (and
    // fails a vitest run), so this runs in a child process that counts them.
    const r = await runScript(
      'worker-job-error.mjs',
      `
      const g = generate({ n: 400, d: 3, k: 2, l: 3, seed: 5 });
      let unhandled = 0;
      process.on('unhandledRejection', () => { unhandled++; });
      const errors = [];
      for (const mode of ['short-x', 'rows-lie']) for (const failAt of [0, 1, 2, 3]) for (const workers of [2, 'auto']) {
        const source = { d: 3, l: 3, n: 400, async *chunks(maxRows) {
          let i = 0;
          for (let s = 0; s < 400; s += maxRows, i++) {
            const rows = Math.min(maxRows, 400 - s);
            const x = g.x.slice(s * 3, (s + rows) * 3), y = g.y.slice(s * 3, (s + rows) * 3);
            if (i === failAt && mode === 'short-x') yield { x: x.subarray(0, x.length - 1), y, rows };
            else if (i === failAt && mode === 'rows-lie') yield { x, y, rows: rows + 1 };
            else yield { x, y, rows };
          }
        } };
        try { await learn(source, { k: 2, chunkRows: 100, workers, backend: 'js' }); errors.push('none'); } catch (e) { errors.push(e.name); }
        // Settle every job still in flight (closing the pools rejects them), then let Node's
        // rejection tracking run: an unhandled one is counted before the next case starts.
        await closeWorkers();
        await new Promise((r) => setImmediate(r));
      }
      console.log(JSON.stringify({ errors: [...new Set(errors)], unhandled }));
      `,
      // 16 learn() calls, each starting and closing a pool: ~1 s alone, and several times that
      // on a loaded machine (one full-suite run beside another job timed out at 30 s); below
      // vitest's own 120 s, so that a hang fails here, with the child's output.
      100_000,
    );
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ errors: ['RangeError'], unhandled: 0 });
  });

  it('subnormal y (|y| ~ 1e-310) returns or throws (today: ml-matrix SVD loops forever in reduce.linearPart)', async () => {
    // A synchronous infinite loop cannot be timed out in-process: a child process, killed after
    // 60 s (a normal run takes ~0.3 s, so only a hang reaches it).
    const r = await runScript(
      'subnormal-y.mjs',
      `
      const g = generate({ distribution: 'laplace', n: 260, d: 5, k: 5, l: 6, noise: 0.01, seed: 322 });
      try { await learn({ x: g.x, y: g.y.map((v) => v * 1e-310), d: 5, l: 6 }, { k: 5, backend: 'js', weighting: 'none' }); } catch {}
      `,
      60_000,
    );
    expect(r.signal, 'killed after 60 s: learn() hung').toBeNull();
    expect(r.status, r.stderr).toBe(0);
  });
});
