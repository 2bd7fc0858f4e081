/**
 * Bad input at the library boundary, as a table: every row is a call that must fail, the error
 * class it must fail with (TypeError / RangeError for shapes and types, as the platform does;
 * PureneuronError with a stable code for data, options, files and fits), and a pattern the
 * message must match — the message has to name the problem (which value, sample, column, line
 * or file), not just say that something is wrong.
 *
 * Rows describe the behaviour the library SHOULD have; a failing row is a defect to fix in the
 * source, not in the table.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compare } from '../src/api/compare.js';
import { PureneuronError, type ErrorCode } from '../src/errors.js';
import { generate } from '../src/api/generate.js';
import { encodeNpy } from '../src/io/index.js';
import { learn, type LearnOptions } from '../src/api/learn.js';
import { Model } from '../src/api/model.js';
import { arraySource, fileSource } from '../src/sources/index.js';
import type { ArrayInput, SampleSource } from '../src/types.js';
import { npyDict, rawNpy } from './helpers/npy.js';

type ErrorClass = typeof TypeError | typeof RangeError | typeof PureneuronError;

interface Row {
  /** What is wrong with the input. */
  what: string;
  call: () => unknown;
  error: ErrorClass;
  /** Required for PureneuronError rows. */
  code?: ErrorCode;
  message: RegExp;
}

/** Runs `row.call` (awaiting it) and checks the error's class, code and message. */
async function expectRow(row: Row): Promise<void> {
  let thrown: unknown;
  let result: unknown;
  try {
    result = await row.call();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected ${row.error.name} but the call returned ${describeValue(result)}`).toBeDefined();
  const err = thrown as Error;
  expect(err, `${err?.name}: ${err?.message}`).toBeInstanceOf(row.error);
  if (row.error === PureneuronError) {
    expect(row.code, 'a PureneuronError row must state its code').toBeDefined();
    expect((err as PureneuronError).code, err.message).toBe(row.code);
  } else {
    // Shape and type problems are plain platform errors, not PureneuronErrors.
    expect(err, err.message).not.toBeInstanceOf(PureneuronError);
  }
  expect(err.message).toMatch(row.message);
  // One human line: no newlines, no internal function names standing in for an explanation.
  expect(err.message).not.toMatch(/\n/);
}

function describeValue(v: unknown): string {
  if (v instanceof Model) return `a Model (d = ${v.d}, k = ${v.k}, l = ${v.l})`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** Reads every chunk of a source once (file value errors surface during a pass). */
async function drain(src: SampleSource | Promise<SampleSource>): Promise<number> {
  let rows = 0;
  for await (const c of (await src).chunks(4)) rows += c.rows;
  return rows;
}

function table(name: string, rows: Row[]): void {
  describe(name, () => {
    for (const row of rows) it(row.what, () => expectRow(row));
  });
}

// ---- data -------------------------------------------------------------------------------

/** Deterministic values in (−1, 1). */
function values(count: number, seed = 1): Float64Array {
  const out = new Float64Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** n samples with d = 4, l = 3 of a planted network (learnable for k ≤ 3). */
function planted(n = 400): ArrayInput {
  const g = generate({ n, d: 4, k: 2, l: 3, seed: 9 });
  return { x: g.x, y: g.y, d: 4, l: 3 };
}

/** `planted` with one value of x or y replaced. */
/** A source that reads `p` on its first pass(es) and, from pass `from` on, has value v at (sample, column) of x or y. */
function changingSource(p: ArrayInput, from: number, which: 'x' | 'y', sample: number, column: number, v: number): SampleSource {
  const bad = withValue(which, sample, column, v);
  let pass = 0;
  const clean = arraySource(p);
  const dirty = arraySource(bad, { checkValues: false });
  return { d: p.d, l: p.l, n: clean.n, chunks: (rows, signal) => (++pass >= from ? dirty : clean).chunks(rows, signal) };
}

function withValue(which: 'x' | 'y', sample: number, column: number, v: number): ArrayInput {
  const p = planted();
  const a = Float64Array.from(p[which]);
  a[sample * (which === 'x' ? p.d : p.l) + column] = v;
  return { ...p, [which]: a };
}

/** x in a 2-dim subspace of R^5 (x = a·u + b·v), y arbitrary: rank 2 < k = 3. */
function rank2x(): ArrayInput {
  const n = 2000;
  const d = 5;
  const l = 5;
  const ab = values(2 * n, 3);
  const u = [1, 2, 0, -1, 0.5];
  const v = [0, 1, -1, 0.5, 2];
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) x[i * d + j] = ab[2 * i]! * u[j]! + ab[2 * i + 1]! * v[j]!;
  return { x, y: values(n * l, 4), d, l };
}

/** Full-rank x, but every column of y the same: y varies in 1 direction < k = 2. */
function rank1y(): ArrayInput {
  const n = 2000;
  const x = values(n * 4, 5);
  const y = new Float64Array(n * 3);
  for (let i = 0; i < n; i++) {
    const r = Math.max(0, x[i * 4]! + x[i * 4 + 1]!);
    for (let j = 0; j < 3; j++) y[i * 3 + j] = r;
  }
  return { x, y, d: 4, l: 3 };
}

const net = (d: number, k: number, l: number) => ({ d, k, l, W: values(k * d, 7), A: values(l * k, 8) });
const modelJSON = (extra: Record<string, unknown> = {}) => ({ d: 2, k: 1, l: 2, W: [[1, 0]], A: [[1], [2]], ...extra });

// ---- files ------------------------------------------------------------------------------

let dir: string;
const p = (name: string): string => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pureneuron-bad-'));
  const f64 = (a: Float64Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const files: Record<string, string | Uint8Array> = {
    'x.f64': f64(values(10 * 3)), // 10 × 3
    'y.f64': f64(values(10 * 2, 2)), // 10 × 2
    'y9.f64': f64(values(9 * 2, 2)), // 9 × 2
    'empty.f64': new Uint8Array(0),
    'empty.csv': '',
    'empty.npy': new Uint8Array(0),
    'trunc.f64': new Uint8Array(100), // not a multiple of 8·3 = 24
    'data.bin': f64(values(30)),
    'x.npy': encodeNpy(values(10 * 3), [10, 3]),
    'y.npy': encodeNpy(values(10 * 2, 2), [10, 2]),
    'int.npy': rawNpy(npyDict('<i4', [10, 3]), new Uint8Array(10 * 3 * 4)),
    'big.npy': rawNpy(npyDict('>f8', [10, 3]), new Uint8Array(10 * 3 * 8)),
    'fortran.npy': rawNpy(npyDict('<f8', [10, 3], true), new Uint8Array(10 * 3 * 8)),
    'malformed.npy': rawNpy("{'descr': '<f8', 'fortran_order': False, 'shape': (10, 3 }", new Uint8Array(10 * 3 * 8)),
    'nomagic.npy': new TextEncoder().encode('just some text, certainly not numpy\n'),
    'shortdata.npy': rawNpy(npyDict('<f8', [10, 3]), new Uint8Array(29 * 8)),
    'notnum.csv': '1,2,3\n4,5,6\n7,abc,9\n',
    'emptyfield.csv': '1,2,3\n,5,6\n',
    'ragged.csv': 'a,b,c\n1,2,3\n4,5\n',
    'blank.csv': '1,2,3\n\n4,5,6\n',
    'nan.csv': '1,2,3\n4,5,6\n7,nan,9\n',
    'y3.csv': '1,2\n3,4\n5,6\n',
    'y2.csv': '1,2\n3,4\n',
    'x3.csv': '1,2,3\n4,5,6\n7,8,9\n',
    'headeronly.csv': 'a,b,c\n',
    'trunc.f32': new Uint8Array(30), // not a multiple of 4·3 = 12
    'cube.npy': encodeNpy(values(2 * 3 * 4), [2, 3, 4]),
    // planted() (400 × 4 and 400 × 3) with a NaN at x[130][1], as files learn() reads through its cache.
    'xnan.f64': f64(Float64Array.from(withValue('x', 130, 1, NaN).x)),
    'ynan.f64': f64(Float64Array.from(planted().y)),
  };
  for (const [name, data] of Object.entries(files)) await writeFile(p(name), data);
  await mkdir(p('adir.f64'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// ---- the tables -------------------------------------------------------------------------

const k = (kk: number, extra: Partial<LearnOptions> = {}): LearnOptions => ({ k: kk, backend: 'js', ...extra });

table('learn(): array shapes', [
  {
    what: 'x length not n·d (n given)',
    call: () => learn({ x: new Float64Array(999), y: new Float64Array(500), n: 100, d: 10, l: 5 }, k(2)),
    error: RangeError,
    message: /x has 999 values, expected n·d = 1000/,
  },
  {
    what: 'x length not a multiple of d (n implied)',
    call: () => learn({ x: new Float64Array(999), y: new Float64Array(500), d: 10, l: 5 }, k(2)),
    error: RangeError,
    message: /x has 999 values, not a multiple of d = 10/,
  },
  {
    what: 'y length not n·l',
    call: () => learn({ x: new Float64Array(1000), y: new Float64Array(499), d: 10, l: 5 }, k(2)),
    error: RangeError,
    message: /y has 499 values, expected n·l = 500/,
  },
  {
    what: 'y with fewer rows than x (90 vs 100)',
    call: () => learn({ x: new Float64Array(1000), y: new Float64Array(450), d: 10, l: 5 }, k(2)),
    error: RangeError,
    message: /y has 450 values, expected n·l = 500/,
  },
  {
    what: 'empty x',
    call: () => learn({ x: new Float64Array(0), y: new Float64Array(0), d: 3, l: 2 }, k(1)),
    error: RangeError,
    message: /x is empty/,
  },
  {
    what: 'x is a plain array',
    call: () => learn({ x: [1, 2, 3] as unknown as Float64Array, y: new Float64Array(1), d: 3, l: 1 }, k(1)),
    error: TypeError,
    message: /x must be a Float64Array or Float32Array, got Array/,
  },
  {
    what: 'd = 0',
    call: () => learn({ x: new Float64Array(6), y: new Float64Array(2), d: 0, l: 1 }, k(1)),
    error: RangeError,
    message: /d must be a positive integer, got 0/,
  },
  {
    what: 'n not an integer',
    call: () => learn({ x: new Float64Array(6), y: new Float64Array(2), n: 2.5, d: 3, l: 1 }, k(1)),
    error: RangeError,
    message: /n must be a positive integer, got 2\.5/,
  },
  {
    // Forgetting `await` on fileSource() is an easy mistake; today the message is
    // "x must be a Float64Array or Float32Array, got undefined", which points nowhere near it.
    what: 'input is a Promise (fileSource() without await)',
    call: () => learn(Promise.resolve(planted()) as unknown as ArrayInput, k(1)),
    error: TypeError,
    message: /Promise.*await/,
  },
  {
    what: 'input is null',
    call: () => learn(null as unknown as ArrayInput, k(1)),
    error: TypeError,
    message: /expects \{ x, y, d, l \}, got null/,
  },
]);

table('learn(): k and the sample size', [
  { what: 'k = 0', call: () => learn(planted(), k(0)), error: PureneuronError, code: 'BAD_OPTION', message: /k must be a positive integer or 'auto', got 0/ },
  { what: 'k = -1', call: () => learn(planted(), k(-1)), error: PureneuronError, code: 'BAD_OPTION', message: /k must be a positive integer or 'auto', got -1/ },
  { what: 'k = 2.5', call: () => learn(planted(), k(2.5)), error: PureneuronError, code: 'BAD_OPTION', message: /k must be a positive integer or 'auto', got 2\.5/ },
  { what: 'k = NaN', call: () => learn(planted(), k(NaN)), error: PureneuronError, code: 'BAD_OPTION', message: /k must be a positive integer or 'auto', got NaN/ },
  { what: 'k missing', call: () => learn(planted(), {} as LearnOptions), error: PureneuronError, code: 'BAD_OPTION', message: /k must be a positive integer or 'auto', got undefined/ },
  {
    // A string k must be shown as a string: "got 3" for k = '3' reads as if 3 were rejected.
    what: "k = '3' (a string)",
    call: () => learn(planted(), { k: '3' as unknown as number }),
    error: PureneuronError,
    code: 'BAD_OPTION',
    message: /k must be a positive integer or 'auto', got "3"|k must be a number/,
  },
  {
    what: 'k > min(d, l)',
    call: () => learn(planted(), k(4)),
    error: RangeError,
    message: /k = 4 exceeds min\(d, l\) = 3/,
  },
  {
    what: 'n too small for k',
    call: () => learn({ ...planted(), x: planted().x.subarray(0, 10 * 4), y: planted().y.subarray(0, 10 * 3) }, k(3)),
    error: PureneuronError,
    code: 'TOO_FEW_SAMPLES',
    message: /10 samples are too few for k = 3.*at least 24 samples/,
  },
  {
    what: 'options missing',
    call: () => learn(planted(), undefined as unknown as LearnOptions),
    error: TypeError,
    message: /options must be an object with at least \{ k \}/,
  },
]);

table('learn(): non-finite values name the sample and the column', [
  { what: 'NaN in x', call: () => learn(withValue('x', 3, 2, NaN), k(2)), error: PureneuronError, code: 'BAD_VALUE', message: /x has NaN at sample 3, column 2 \(0-based\)/ },
  { what: '+Infinity in x', call: () => learn(withValue('x', 250, 0, Infinity), k(2)), error: PureneuronError, code: 'BAD_VALUE', message: /x has Infinity at sample 250, column 0 \(0-based\)/ },
  { what: '-Infinity in x', call: () => learn(withValue('x', 0, 3, -Infinity), k(2)), error: PureneuronError, code: 'BAD_VALUE', message: /x has -Infinity at sample 0, column 3 \(0-based\)/ },
  { what: 'NaN in y', call: () => learn(withValue('y', 7, 1, NaN), k(2)), error: PureneuronError, code: 'BAD_VALUE', message: /y has NaN at sample 7, column 1 \(0-based\)/ },
  { what: '+Infinity in y', call: () => learn(withValue('y', 399, 2, Infinity), k(2)), error: PureneuronError, code: 'BAD_VALUE', message: /y has Infinity at sample 399, column 2 \(0-based\)/ },
  { what: '-Infinity in y', call: () => learn(withValue('y', 1, 0, -Infinity), k(2)), error: PureneuronError, code: 'BAD_VALUE', message: /y has -Infinity at sample 1, column 0 \(0-based\)/ },
  {
    what: 'NaN in a Float32Array x, past the first chunk',
    call: () => {
      const p0 = withValue('x', 130, 1, NaN);
      return learn({ ...p0, x: Float32Array.from(p0.x) }, k(2, { chunkRows: 64 }));
    },
    error: PureneuronError,
    code: 'BAD_VALUE',
    message: /x has NaN at sample 130, column 1 \(0-based\)/,
  },
  {
    // Files that fit the cache are read into it without a scan of their values (the sums are
    // checked instead); the rescan that names the value reads the file, so the message names it.
    what: 'NaN in an f64 file read through the cache: the file is named',
    call: async () => learn(await fileSource({ x: p('xnan.f64'), y: p('ynan.f64'), d: 4, l: 3 }), k(2, { chunkRows: 64 })),
    error: PureneuronError,
    code: 'BAD_VALUE',
    message: /x has NaN at sample 130, column 1 \(0-based\) in .*xnan\.f64;/,
  },
  {
    // Values are not scanned one by one: every pass's sums are checked, and a non-finite sum
    // triggers a rescan that names the value, whichever pass first sees it.
    what: 'a custom source whose values turn NaN after pass 1',
    call: () => learn(changingSource(planted(), 2, 'y', 9, 0, NaN), k(2, { workers: 0 })),
    error: PureneuronError,
    code: 'BAD_VALUE',
    message: /y has NaN at sample 9, column 0 \(0-based\)/,
  },
]);

table('learn(): degenerate data', [
  {
    what: 'x of rank 2 < k = 3',
    call: () => learn(rank2x(), k(3)),
    error: PureneuronError,
    code: 'RANK_DEFICIENT',
    message: /x spans only 2 dimensions.*rank 2 < k = 3/,
  },
  {
    what: 'x identically zero',
    call: () => learn({ x: new Float64Array(400 * 4), y: values(400 * 3), d: 4, l: 3 }, k(1)),
    error: PureneuronError,
    code: 'RANK_DEFICIENT',
    message: /x is identically zero/,
  },
  {
    what: 'y varying in 1 direction < k = 2',
    call: () => learn(rank1y(), k(2)),
    error: PureneuronError,
    code: 'RANK_DEFICIENT',
    message: /y vary in fewer than k = 2 directions \(the linear part A·W has rank ≈ 1\); lower k to 1/,
  },
]);

table('learn(): options', [
  { what: 'unknown option name', call: () => learn(planted(), { k: 2, polsh: false } as LearnOptions), error: PureneuronError, code: 'BAD_OPTION', message: /unknown option "polsh" for learn\(\); valid options: .*polish/ },
  { what: "backend 'gpu'", call: () => learn(planted(), { k: 2, backend: 'gpu' as 'js' }), error: PureneuronError, code: 'BAD_OPTION', message: /backend must be 'auto', 'js' or 'wasm', got "gpu"/ },
  { what: "detector 'odd'", call: () => learn(planted(), { k: 2, detector: 'odd' as 'even' }), error: PureneuronError, code: 'BAD_OPTION', message: /detector must be 'even' or 'literal', got "odd"/ },
  { what: 'jennrichPairs 0', call: () => learn(planted(), k(2, { jennrichPairs: 0 })), error: PureneuronError, code: 'BAD_OPTION', message: /jennrichPairs must be an integer in \[1, 1000\], got 0/ },
  { what: 'chunkRows -1', call: () => learn(planted(), k(2, { chunkRows: -1 })), error: PureneuronError, code: 'BAD_OPTION', message: /chunkRows must be a positive integer or 'auto', got -1/ },
  { what: 'chunkRows 0.5', call: () => learn(planted(), k(2, { chunkRows: 0.5 })), error: PureneuronError, code: 'BAD_OPTION', message: /chunkRows must be a positive integer or 'auto', got 0\.5/ },
  { what: 'an aborted signal', call: () => learn(planted(), k(2, { signal: AbortSignal.abort() })), error: PureneuronError, code: 'ABORTED', message: /abort/ },
  { what: 'seed 1.5', call: () => learn(planted(), k(2, { seed: 1.5 })), error: PureneuronError, code: 'BAD_OPTION', message: /seed must be an integer, got 1\.5/ },
  { what: "polish 'yes'", call: () => learn(planted(), k(2, { polish: 'yes' as unknown as boolean })), error: PureneuronError, code: 'BAD_OPTION', message: /polish must be true or false, got "yes"/ },
]);

table('arraySource()', [
  { what: 'not an object', call: () => arraySource(42 as unknown as ArrayInput), error: TypeError, message: /arraySource expects \{ x, y, d, l \}, got number/ },
  { what: 'y is an Int32Array', call: () => arraySource({ x: new Float64Array(3), y: new Int32Array(1) as unknown as Float64Array, d: 3, l: 1 }), error: TypeError, message: /y must be a Float64Array or Float32Array, got Int32Array/ },
  { what: 'x length not n·d', call: () => arraySource({ x: new Float64Array(999), y: new Float64Array(100), n: 100, d: 10, l: 1 }), error: RangeError, message: /x has 999 values, expected n·d = 1000/ },
  { what: 'l = 1.5', call: () => arraySource({ x: new Float64Array(3), y: new Float64Array(1), d: 3, l: 1.5 }), error: RangeError, message: /l must be a positive integer, got 1\.5/ },
  { what: 'NaN in x, found while reading', call: () => drain(arraySource(withValue('x', 5, 1, NaN))), error: PureneuronError, code: 'BAD_VALUE', message: /x has NaN at sample 5, column 1 \(0-based\)/ },
  {
    what: 'chunks(0)',
    call: async () => {
      for await (const c of arraySource(planted()).chunks(0)) void c;
    },
    error: RangeError,
    message: /maxRows must be a positive integer, got 0/,
  },
]);

table('fileSource(): files', [
  { what: 'missing file', call: () => fileSource({ x: p('missing.f64'), y: p('y.f64'), d: 3, l: 2 }), error: PureneuronError, code: 'BAD_FILE', message: /cannot open .*missing\.f64: no such file/ },
  { what: 'a directory', call: () => fileSource({ x: p('adir.f64'), y: p('y.f64'), d: 3, l: 2 }), error: PureneuronError, code: 'BAD_FILE', message: /adir\.f64: it is a directory/ },
  { what: 'empty .f64', call: () => fileSource({ x: p('empty.f64'), y: p('y.f64'), d: 3, l: 2 }), error: PureneuronError, code: 'BAD_FILE', message: /empty\.f64 is empty/ },
  { what: 'empty .csv', call: () => fileSource({ x: p('empty.csv'), y: p('y.f64'), l: 2 }), error: PureneuronError, code: 'BAD_FILE', message: /empty\.csv is empty/ },
  { what: 'empty .npy', call: () => fileSource({ x: p('empty.npy'), y: p('y.f64'), l: 2 }), error: PureneuronError, code: 'BAD_FILE', message: /empty\.npy is empty/ },
  {
    what: 'truncated .f64',
    call: () => fileSource({ x: p('trunc.f64'), y: p('y.f64'), d: 3, l: 2 }),
    error: PureneuronError,
    code: 'BAD_FILE',
    message: /trunc\.f64 is truncated: 100 bytes is not a multiple of the row size 8·d = 24 bytes/,
  },
  {
    what: 'truncated .f32',
    call: () => fileSource({ x: p('trunc.f32'), y: p('y.f64'), d: 3, l: 2 }),
    error: PureneuronError,
    code: 'BAD_FILE',
    message: /trunc\.f32 is truncated: 30 bytes is not a multiple of the row size 4·d = 12 bytes/,
  },
  { what: 'raw .f64 without d', call: () => fileSource({ x: p('x.f64'), y: p('y.f64'), l: 2 }), error: PureneuronError, code: 'BAD_OPTION', message: /x\.f64 is raw f64 data with no header.*pass d \(--d on the command line\)/ },
  {
    what: 'x and y with different row counts',
    call: () => fileSource({ x: p('x.f64'), y: p('y9.f64'), d: 3, l: 2 }),
    error: PureneuronError,
    code: 'BAD_FILE',
    message: /x\.f64 has 10 samples but .*y9\.f64 has 9 samples/,
  },
  { what: 'unknown extension', call: () => fileSource({ x: p('data.bin'), y: p('y.f64'), d: 3, l: 2 }), error: PureneuronError, code: 'BAD_OPTION', message: /cannot tell the format of .*data\.bin from its extension/ },
  { what: "format 'bin'", call: () => fileSource({ x: p('data.bin'), y: p('y.f64'), d: 3, l: 2, format: 'bin' as 'f64' }), error: PureneuronError, code: 'BAD_OPTION', message: /format must be one of 'f64', 'f32', 'csv', 'npy', 'parquet', 'arrow', got "bin"/ },
  { what: 'empty path', call: () => fileSource({ x: '', y: p('y.f64') }), error: TypeError, message: /x must be a file path or a Blob \/ File, got ""/ },
  { what: 'd = 0', call: () => fileSource({ x: p('x.f64'), y: p('y.f64'), d: 0, l: 2 }), error: RangeError, message: /d must be a positive integer, got 0/ },
]);

table('fileSource(): .npy', [
  { what: "dtype '<i4'", call: () => fileSource({ x: p('int.npy'), y: p('y.npy') }), error: PureneuronError, code: 'BAD_FILE', message: /int\.npy has dtype '<i4'; only little-endian float64 \('<f8'\) or float32 \('<f4'\)/ },
  { what: 'big-endian float64', call: () => fileSource({ x: p('big.npy'), y: p('y.npy') }), error: PureneuronError, code: 'BAD_FILE', message: /big\.npy is big-endian \(dtype '>f8'\)/ },
  { what: 'Fortran order', call: () => fileSource({ x: p('fortran.npy'), y: p('y.npy') }), error: PureneuronError, code: 'BAD_FILE', message: /fortran\.npy is stored in Fortran \(column-major\) order with shape \(10, 3\)/ },
  { what: 'malformed header', call: () => fileSource({ x: p('malformed.npy'), y: p('y.npy') }), error: PureneuronError, code: 'BAD_FILE', message: /malformed\.npy is not a valid \.npy file: malformed header/ },
  { what: 'no magic string', call: () => fileSource({ x: p('nomagic.npy'), y: p('y.npy') }), error: PureneuronError, code: 'BAD_FILE', message: /nomagic\.npy is not a valid \.npy file: missing the magic string/ },
  { what: 'data shorter than the header says', call: () => fileSource({ x: p('shortdata.npy'), y: p('y.npy') }), error: PureneuronError, code: 'BAD_FILE', message: /shortdata\.npy is truncated: its header says shape \(10, 3\) of '<f8' = 240 bytes of data, but only 232 bytes follow/ },
  { what: 'three-dimensional array', call: () => fileSource({ x: p('cube.npy'), y: p('y.npy') }), error: PureneuronError, code: 'BAD_FILE', message: /cube\.npy has shape \(2, 3, 4\); expected \(n, d\) or \(n,\)/ },
  { what: 'd disagrees with the header', call: () => fileSource({ x: p('x.npy'), y: p('y.npy'), d: 4 }), error: PureneuronError, code: 'BAD_SHAPE', message: /x\.npy has shape \(10, 3\), so d = 3, but d = 4 was given/ },
]);

table('fileSource(): .csv', [
  {
    what: 'non-numeric field (names line and column)',
    call: async () => learn(await fileSource({ x: p('notnum.csv'), y: p('y3.csv') }), k(1)),
    error: PureneuronError,
    code: 'BAD_FILE',
    message: /notnum\.csv line 3, column 2: "abc" is not a number/,
  },
  { what: 'empty field', call: () => drain(fileSource({ x: p('emptyfield.csv'), y: p('y3.csv') })), error: PureneuronError, code: 'BAD_FILE', message: /emptyfield\.csv line 2, column 1: empty field/ },
  { what: 'ragged row', call: () => drain(fileSource({ x: p('ragged.csv'), y: p('y3.csv') })), error: PureneuronError, code: 'BAD_FILE', message: /ragged\.csv line 3 has 2 columns but the first data row \(line 2\) has 3/ },
  { what: 'blank line between rows', call: () => drain(fileSource({ x: p('blank.csv'), y: p('y3.csv') })), error: PureneuronError, code: 'BAD_FILE', message: /blank\.csv line 2 is blank but data follows on line 3/ },
  { what: 'nan field (names sample, column and line)', call: () => drain(fileSource({ x: p('nan.csv'), y: p('y3.csv') })), error: PureneuronError, code: 'BAD_VALUE', message: /x has NaN at sample 2, column 1 \(0-based\) in .*nan\.csv line 3/ },
  { what: 'header and no data', call: () => fileSource({ x: p('headeronly.csv'), y: p('y3.csv') }), error: PureneuronError, code: 'BAD_FILE', message: /headeronly\.csv has no data rows \(line 1 was taken as a header/ },
  {
    what: 'x and y with different row counts (found while reading)',
    call: () => drain(fileSource({ x: p('x3.csv'), y: p('y2.csv') })),
    error: PureneuronError,
    code: 'BAD_FILE',
    message: /x3\.csv has 3 samples but .*y2\.csv has 2 samples/,
  },
  { what: 'd disagrees with the columns', call: () => fileSource({ x: p('notnum.csv'), y: p('y3.csv'), d: 2 }), error: PureneuronError, code: 'BAD_SHAPE', message: /notnum\.csv has 3 columns \(line 1, the first data row\), so d = 3, but d = 2 was given/ },
]);

table('Model.fromJSON()', [
  { what: 'null', call: () => Model.fromJSON(null), error: PureneuronError, code: 'BAD_MODEL', message: /invalid model: expected a JSON object with d, k, l, W, A/ },
  { what: 'an array', call: () => Model.fromJSON([1, 2]), error: PureneuronError, code: 'BAD_MODEL', message: /expected a JSON object/ },
  { what: 'another schema (weights/biases)', call: () => Model.fromJSON({ weights: [[1]], biases: [0] }), error: PureneuronError, code: 'BAD_MODEL', message: /"d" must be a positive integer, got undefined/ },
  { what: 'version 2', call: () => Model.fromJSON(modelJSON({ version: 2 })), error: PureneuronError, code: 'BAD_MODEL', message: /format version 2 is not supported \(this pureneuron reads version 1\)/ },
  {
    // A string version must not produce the self-contradicting "version 1 is not supported".
    what: "version '1' (a string)",
    call: () => Model.fromJSON(modelJSON({ version: '1' })),
    error: PureneuronError,
    code: 'BAD_MODEL',
    message: /"version" must be the number 1, got "1"/,
  },
  {
    // A file that says it is something else should not be read as a pureneuron model.
    what: "format 'keras-model'",
    call: () => Model.fromJSON(modelJSON({ format: 'keras-model' })),
    error: PureneuronError,
    code: 'BAD_MODEL',
    message: /"format" is "keras-model", expected "pureneuron-model"/,
  },
  { what: 'k = 0', call: () => Model.fromJSON(modelJSON({ k: 0 })), error: PureneuronError, code: 'BAD_MODEL', message: /"k" must be a positive integer, got 0/ },
  { what: 'W with the wrong number of rows', call: () => Model.fromJSON(modelJSON({ W: [[1, 0], [0, 1]] })), error: PureneuronError, code: 'BAD_MODEL', message: /"W" must be an array of 1 rows?/ },
  { what: 'A row of the wrong length', call: () => Model.fromJSON(modelJSON({ A: [[1], [2, 3]] })), error: PureneuronError, code: 'BAD_MODEL', message: /"A" row 1 must have 1 numbers?/ },
  { what: 'a string in W', call: () => Model.fromJSON(modelJSON({ W: [[1, '0']] })), error: PureneuronError, code: 'BAD_MODEL', message: /"W"\[0\]\[1\] is not a finite number/ },
  { what: 'null (a JSON NaN) in A', call: () => Model.fromJSON(modelJSON({ A: [[1], [null]] })), error: PureneuronError, code: 'BAD_MODEL', message: /"A"\[1\]\[0\] is not a finite number/ },
]);

table('Model constructor', [
  { what: 'W of the wrong length', call: () => new Model({ ...net(3, 2, 2), W: new Float64Array(5) }), error: RangeError, message: /W has 5 values, expected k·d = 6/ },
  { what: 'predict() with x not a multiple of d', call: () => new Model(net(3, 2, 2)).predict(new Float64Array(7)), error: RangeError, message: /x has 7 values, not a multiple of d = 3/ },
  {
    // Today accepted silently; predict() then maps NaN pre-activations to 0.
    what: 'NaN in W',
    call: () => new Model({ ...net(3, 2, 2), W: Float64Array.from([1, 0, 0, 0, NaN, 1]) }),
    error: RangeError,
    message: /W\[1\]\[1\]|W.*NaN|W.*not finite/,
  },
]);

table('generate()', [
  { what: 'k > min(d, l)', call: () => generate({ n: 10, d: 4, k: 5, l: 6 }), error: PureneuronError, code: 'BAD_OPTION', message: /k = 5 exceeds min\(d, l\) = 4/ },
  { what: 'unknown option', call: () => generate({ n: 10, d: 4, k: 2, l: 3, nosie: 0.1 } as never), error: PureneuronError, code: 'BAD_OPTION', message: /unknown option "nosie" for generate\(\); valid options: distribution, n, d, k, l, noise/ },
  { what: 'unknown distribution', call: () => generate({ n: 10, d: 4, k: 2, l: 3, distribution: 'cauchy' as 'gaussian' }), error: PureneuronError, code: 'BAD_OPTION', message: /distribution must be one of gaussian, .*, got "cauchy"/ },
  { what: 'n = 0', call: () => generate({ n: 0, d: 4, k: 2, l: 3 }), error: PureneuronError, code: 'BAD_OPTION', message: /n must be a positive integer, got 0/ },
  { what: 'n missing', call: () => generate({ d: 4, k: 2, l: 3 } as never), error: PureneuronError, code: 'BAD_OPTION', message: /n must be a positive integer, got undefined/ },
  { what: 'odd n with symmetrize', call: () => generate({ n: 5, d: 4, k: 2, l: 3, symmetrize: true }), error: PureneuronError, code: 'BAD_OPTION', message: /n = 5 is odd, but symmetrize/ },
  { what: 'negative noise', call: () => generate({ n: 10, d: 4, k: 2, l: 3, noise: -1 }), error: PureneuronError, code: 'BAD_OPTION', message: /noise must be a finite number ≥ 0, got -1/ },
  { what: 'condW < 1', call: () => generate({ n: 10, d: 4, k: 2, l: 3, condW: 0.5 }), error: PureneuronError, code: 'BAD_OPTION', message: /condW must be a finite number ≥ 1 .*, got 0\.5/ },
  { what: 'df = 0', call: () => generate({ n: 10, d: 4, k: 2, l: 3, distribution: 'student-t', df: 0 }), error: PureneuronError, code: 'BAD_OPTION', message: /df must be a finite number > 0 .*, got 0/ },
  { what: 'options null', call: () => generate(null as never), error: TypeError, message: /generate\(\): options must be an object with at least \{ n, d, k, l \}, got null/ },
]);

table('compare()', [
  { what: 'shapes differ', call: () => compare(net(3, 1, 2), net(4, 1, 2)), error: RangeError, message: /model shape \(d = 3, k = 1, l = 2\) does not match truth shape \(d = 4, k = 1, l = 2\)/ },
  { what: 'unknown option', call: () => compare(net(3, 1, 2), net(3, 1, 2), { bogus: 1 } as never), error: PureneuronError, code: 'BAD_OPTION', message: /unknown option "bogus" for compare\(\); valid options: x, n, seed/ },
  { what: 'options.x an array', call: () => compare(net(3, 1, 2), net(3, 1, 2), { x: [1, 2, 3] } as never), error: PureneuronError, code: 'BAD_OPTION', message: /x must be a Float64Array or Float32Array/ },
  { what: 'model.W of the wrong length', call: () => compare({ ...net(3, 1, 2), W: new Float64Array(2) }, net(3, 1, 2)), error: RangeError, message: /model\.W has 2 values, expected k·d = 3/ },
  { what: 'truth.k = 0', call: () => compare(net(3, 1, 2), { ...net(3, 1, 2), k: 0 }), error: RangeError, message: /truth\.k = 0 must be a positive integer/ },
  { what: 'options.x not a multiple of d', call: () => compare(net(3, 1, 2), net(3, 1, 2), { x: new Float64Array(5) }), error: RangeError, message: /options\.x has 5 values, not a multiple of d = 3/ },
  { what: 'options.n beyond the rows of x', call: () => compare(net(3, 1, 2), net(3, 1, 2), { x: new Float64Array(6), n: 3 }), error: RangeError, message: /options\.n = 3 exceeds the 2 rows of options\.x/ },
  {
    // Today: "hungarian: cost[0] = NaN is not finite" — an internal name, not the user's input.
    what: 'NaN in model.W',
    call: () => compare({ ...net(3, 1, 2), W: Float64Array.from([NaN, 0, 1]) }, net(3, 1, 2)),
    error: RangeError,
    message: /model\.W.*(NaN|not finite)/,
  },
]);
