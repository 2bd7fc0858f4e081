/**
 * One data file with named columns — Parquet (written by DuckDB), Arrow IPC / Feather
 * (written by apache-arrow) and CSV with a header — read as x and y chosen by column SPEC.
 * What is checked: every value arrives as written (bit for bit) for every Parquet codec,
 * row-group and batch layout, flat and fixed-size list columns, float32 and integer columns;
 * learning from such a file gives the model learned from the same numbers in arrays; and bad
 * files and SPECs give one clear error naming the file, column and row.
 */
import { readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../src/api/generate.js';
import { learn } from '../src/api/learn.js';
import { fileSource, type FileSourceOptions } from '../src/sources/files.js';
import type { SampleSource } from '../src/types.js';
import { sameBits } from './helpers/bits.js';
import { makeTempDir, removeTempDir } from './helpers/cli.js';
import { hasProgram, loadDuckDB, tableCsv, writeArrow, writeParquet, type Columns } from './helpers/tables.js';

const zstd = hasProgram('zstd');

const D = 8;
const L = 6;
const K = 4;
const N = 3000;
const data: Columns = (() => {
  const g = generate({ n: N, d: D, k: K, l: L, seed: 11, noise: 0.05, distribution: 'laplace' });
  return { x: Float64Array.from(g.x), y: Float64Array.from(g.y), n: N, d: D, l: L };
})();

let dir: string;
const duck = await loadDuckDB();
beforeAll(async () => {
  dir = await makeTempDir('pureneuron-tables-');
});
afterAll(async () => {
  await removeTempDir(dir);
});

/** Every row of a source, gathered (chunk size `rows`, so chunks straddle row groups and batches). */
async function readAll(s: SampleSource, rows = 700): Promise<{ x: Float64Array; y: Float64Array; n: number }> {
  const xs: number[] = [];
  const ys: number[] = [];
  let n = 0;
  for await (const c of s.chunks(rows)) {
    xs.push(...c.x);
    ys.push(...c.y);
    n += c.rows;
  }
  return { x: Float64Array.from(xs), y: Float64Array.from(ys), n };
}

async function expectSameData(o: FileSourceOptions, expected: Columns = data): Promise<void> {
  const s = await fileSource(o);
  expect([s.d, s.l]).toEqual([expected.d, expected.l]);
  const got = await readAll(s);
  expect(got.n).toBe(expected.n);
  expect(sameBits(got.x, expected.x)).toBe(true);
  expect(sameBits(got.y, expected.y)).toBe(true);
}

/** Rejects with a PureneuronError of this code whose message matches. */
async function expectError(p: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  const e = (await p.then(
    () => undefined,
    (err: unknown) => err,
  )) as { code?: string; message: string } | undefined;
  expect(e, 'expected an error').toBeDefined();
  expect(e!.message).toMatch(message);
  expect(e!.code).toBe(code);
}

describe.skipIf(!duck)('Parquet files written by DuckDB', () => {
  const path = (name: string) => join(dir, name);

  it.each(['uncompressed', 'snappy', 'gzip', 'zstd', 'brotli', 'lz4', 'lz4_raw'])('codec %s, 4 row groups: every value as written', async (codec) => {
    await writeParquet(path(`c-${codec}.parquet`), data, { codec, rowGroupRows: 800 });
    await expectSameData({ data: path(`c-${codec}.parquet`), xColumns: 'x*', yColumns: 'y*' });
  });

  it('fixed-size list columns (DOUBLE[d]) count as their elements, in order', async () => {
    await writeParquet(path('list.parquet'), data, { layout: 'list', codec: 'zstd', rowGroupRows: 1000 });
    await expectSameData({ data: path('list.parquet'), xColumns: 'x', yColumns: ['y'] });
  });

  it('float32 and integer columns are read as float64 (the float32 / integer values exactly)', async () => {
    await writeParquet(path('f32.parquet'), data, { type: 'FLOAT', layout: 'list', rowGroupRows: 1000 });
    await expectSameData({ data: path('f32.parquet'), xColumns: 'x', yColumns: 'y' }, { ...data, x: data.x.map(Math.fround), y: data.y.map(Math.fround) });
    // Integers: DuckDB rounds; INTEGER, BIGINT and SMALLINT columns side by side.
    // (+ 0: Math.round gives −0 for small negatives, an integer column holds 0.)
    const ints = { ...data, x: data.x.map((v) => Math.round(v * 1000) + 0), y: data.y.map((v) => Math.round(v * 1000) + 0) };
    const xs = Array.from({ length: D }, (_, j) => `(x${j} * 1)::${['INTEGER', 'BIGINT', 'SMALLINT'][j % 3]} AS x${j}`).join(', ');
    await writeParquet(path('int.parquet'), ints, { select: `SELECT ${xs}, ${Array.from({ length: L }, (_, j) => `y${j}::BIGINT AS y${j}`).join(', ')} FROM t`, rowGroupRows: 1000 });
    await expectSameData({ data: path('int.parquet'), xColumns: 'x*', yColumns: 'y*' }, ints);
  });

  it('dictionary-encoded columns (few distinct values: DuckDB writes PLAIN_DICTIONARY pages)', async () => {
    // Each value rounded to one of 5 levels, as DOUBLE and as FLOAT.
    const levels = (v: number) => Math.max(-2, Math.min(2, Math.round(v))) + 0;
    const coarse = { ...data, x: data.x.map(levels), y: data.y.map(levels) };
    await writeParquet(path('dict.parquet'), coarse, { select: `SELECT ${Array.from({ length: D }, (_, j) => `x${j}::${j % 2 ? 'FLOAT' : 'DOUBLE'} AS x${j}`).join(', ')}, ${Array.from({ length: L }, (_, j) => `y${j}`).join(', ')} FROM t`, rowGroupRows: 1000 });
    await expectSameData({ data: path('dict.parquet'), xColumns: 'x*', yColumns: 'y*' }, coarse);
  });

  it('a SPEC takes columns in the file order, whatever its own order; globs with * and ?', async () => {
    await writeParquet(path('order.parquet'), data, { rowGroupRows: 1000 });
    const s = await fileSource({ data: path('order.parquet'), xColumns: 'x7,x0', yColumns: ['y?'] });
    const got = await readAll(s);
    expect([s.d, s.l]).toEqual([2, L]);
    for (let i = 0; i < N; i += 997) {
      expect(got.x[i * 2]).toBe(data.x[i * D]);
      expect(got.x[i * 2 + 1]).toBe(data.x[i * D + 7]);
    }
  });

  it('learning from Parquet gives the model learned from the same numbers in memory, bit for bit', async () => {
    await writeParquet(path('learn.parquet'), data, { rowGroupRows: 700, codec: 'zstd' });
    const options = { k: K, workers: 0, chunkRows: 512 } as const;
    const fromFile = await learn(await fileSource({ data: path('learn.parquet'), xColumns: 'x*', yColumns: 'y*' }), options);
    const fromArrays = await learn({ x: data.x, y: data.y, d: D, l: L }, options);
    expect(sameBits(fromFile.W, fromArrays.W)).toBe(true);
    expect(sameBits(fromFile.A, fromArrays.A)).toBe(true);
  });

  describe('bad files and SPECs: one error naming the problem', () => {
    beforeAll(async () => {
      await writeParquet(path('ok.parquet'), data, { rowGroupRows: 1000 });
    });
    const ok = () => path('ok.parquet');

    it('a SPEC matching nothing, a column chosen twice, a text column', async () => {
      await expectError(fileSource({ data: ok(), xColumns: 'x*,z*', yColumns: 'y*' }), 'BAD_OPTION', /x columns: "z\*" matches no column of .*ok\.parquet \(its columns: x0, x1/);
      await expectError(fileSource({ data: ok(), xColumns: 'x*', yColumns: 'y*,x3' }), 'BAD_OPTION', /"x3" is chosen by both x columns and y columns/);
      await expectError(fileSource({ data: ok(), xColumns: 'x*,note', yColumns: 'y*' }), 'BAD_FILE', /column "note" of .*ok\.parquet is text \(Parquet BYTE_ARRAY/);
    });

    it('nulls: the column and the row', async () => {
      await writeParquet(path('null.parquet'), data, { select: `SELECT x0, x1, CASE WHEN note = 'row 2345' THEN NULL ELSE x2 END AS x2, y0 FROM t`, rowGroupRows: 1000 });
      const s = await fileSource({ data: path('null.parquet'), xColumns: 'x*', yColumns: 'y0' });
      await expectError(readAll(s), 'BAD_FILE', /column "x2" has a null in row 2345 \(counted from 0\)/);
      // zstd pages are decoded whole (snappy ones stream): the same finding.
      await writeParquet(path('null-zstd.parquet'), data, { select: `SELECT x0, x1, CASE WHEN note = 'row 2345' THEN NULL ELSE x2 END AS x2, y0 FROM t`, rowGroupRows: 1000, codec: 'zstd' });
      await expectError(readAll(await fileSource({ data: path('null-zstd.parquet'), xColumns: 'x*', yColumns: 'y0' })), 'BAD_FILE', /column "x2" has a null in row 2345 \(counted from 0\)/);
      await writeParquet(path('null-list.parquet'), data, { select: `SELECT CASE WHEN note = 'row 17' THEN [x0, NULL] ELSE [x0, x1] END AS x, y0 FROM t` });
      // Found while probing the list's width, before any pass.
      await expectError(fileSource({ data: path('null-list.parquet'), xColumns: 'x', yColumns: 'y0' }).then(readAll), 'BAD_FILE', /column "x" has a null or missing element in row 17/);
    });

    it('lists of varying length: the row', async () => {
      await writeParquet(path('ragged.parquet'), data, { select: `SELECT CASE WHEN note = 'row 1234' THEN [x0, x1, x2] ELSE [x0, x1] END AS x, y0 FROM t` });
      await expectError(readAll(await fileSource({ data: path('ragged.parquet'), xColumns: 'x', yColumns: 'y0' })), 'BAD_FILE', /column "x" has more than 2 values in row 1234 .* but 2 in its first row/);
      await writeParquet(path('short.parquet'), data, { select: `SELECT CASE WHEN note = 'row 99' THEN [x0] ELSE [x0, x1] END AS x, y0 FROM t` });
      await expectError(readAll(await fileSource({ data: path('short.parquet'), xColumns: 'x', yColumns: 'y0' })), 'BAD_FILE', /column "x" has 1 values in row 99/);
    });

    it('truncated, not Parquet at all, missing, damaged inside', async () => {
      const bytes = await readFile(ok());
      await writeFile(path('cut.parquet'), bytes.subarray(0, bytes.length - 100));
      await expectError(fileSource({ data: path('cut.parquet'), xColumns: 'x*', yColumns: 'y*' }), 'BAD_FILE', /cut\.parquet is not a Parquet file \(it does not end with PAR1; truncated or another format\)/);
      await writeFile(path('text.parquet'), tableCsv(data));
      await expectError(fileSource({ data: path('text.parquet'), xColumns: 'x*', yColumns: 'y*' }), 'BAD_FILE', /text\.parquet is not a Parquet file/);
      await expectError(fileSource({ data: path('none.parquet'), xColumns: 'x*', yColumns: 'y*' }), 'BAD_FILE', /cannot open .*none\.parquet: no such file/);
      // Garbage over the first column chunk's pages: an error, never a crash or a wrong model.
      const bad = Uint8Array.from(bytes);
      for (let i = 4; i < 4000; i++) bad[i] = (i * 7919) & 255;
      await writeFile(path('damaged.parquet'), bad);
      await expectError(readAll(await fileSource({ data: path('damaged.parquet'), xColumns: 'x*', yColumns: 'y*' })), 'BAD_FILE', /damaged\.parquet is damaged: cannot decode column "x0"/);
    });
  });
});

describe('Arrow IPC files and streams written by apache-arrow', () => {
  const path = (name: string) => join(dir, name);
  it.each([
    ['file, one batch', { format: 'file' }],
    ['file, 7 batches', { format: 'file', batchRows: 450 }],
    ['stream, 4 batches', { format: 'stream', batchRows: 800 }],
    ['file, LZ4-compressed (Feather v2 default)', { format: 'file', batchRows: 1000, lz4: true }],
    ['file, zstd-compressed', { format: 'file', batchRows: 1000, zstd: true }],
  ] as const)('%s: every value as written (x a FixedSizeList<Float64>, y flat columns)', async (name, o) => {
    if ('zstd' in o && !zstd) return void console.warn('the zstd program is not installed: the zstd-compressed Arrow case is skipped');
    const p = path(`${name.replace(/\W+/g, '-')}.arrow`);
    await writeArrow(p, data, o);
    await expectSameData({ data: p, xColumns: 'x', yColumns: 'y*' });
  });

  it('errors: a text column, not Arrow at all, truncated', async () => {
    await writeArrow(path('ok.feather'), data, { batchRows: 1000 });
    await expectError(fileSource({ data: path('ok.feather'), xColumns: 'x,note', yColumns: 'y*' }), 'BAD_FILE', /column "note" of .*ok\.feather is text \(Arrow Utf8\)/);
    await writeFile(path('text.arrow'), 'x,y\n1,2\n');
    await expectError(fileSource({ data: path('text.arrow'), xColumns: 'x', yColumns: 'y' }), 'BAD_FILE', /text\.arrow is not a readable Arrow IPC/);
    const bytes = await readFile(path('ok.feather'));
    await writeFile(path('cut.feather'), bytes.subarray(0, bytes.length - 5000));
    await expectError(
      fileSource({ data: path('cut.feather'), xColumns: 'x', yColumns: 'y*' }).then((s) => readAll(s)),
      'BAD_FILE',
      /cut\.feather (is not a readable Arrow IPC|is damaged or truncated)/,
    );
  });
});

describe('CSV with a header', () => {
  it('columns chosen by name; an unchosen text column is not parsed', async () => {
    const p = join(dir, 'named.csv');
    await writeFile(p, tableCsv(data));
    await expectSameData({ data: p, xColumns: 'x*', yColumns: 'y*' });
    await expectError(readAll(await fileSource({ data: p, xColumns: 'x0,note', yColumns: 'y*' })), 'BAD_FILE', /named\.csv line 2, column 9 \("note"\): "row 0" is not a number/);
  });

  it('a CSV without a header has no names to choose by', async () => {
    const p = join(dir, 'bare.csv');
    await writeFile(p, '1,2\n3,4\n');
    await expectError(fileSource({ data: p, xColumns: 'x', yColumns: 'y' }), 'BAD_FILE', /bare\.csv has no header row/);
  });
});

describe('options', () => {
  it('data with x/y, a data file without yColumns, raw formats as data, Parquet as an x file', async () => {
    await expect(fileSource({ data: 'a.parquet', x: 'x.f64', xColumns: 'x', yColumns: 'y' })).rejects.toThrow(/either x and y files or one data file/);
    await expect(fileSource({ data: 'a.parquet', xColumns: 'x' })).rejects.toThrow(/needs both xColumns and yColumns/);
    await expectError(fileSource({ data: 'a.f64', xColumns: 'x', yColumns: 'y' }), 'BAD_OPTION', /a\.f64 is read as f64, which has no named columns/);
    await expectError(fileSource({ x: 'a.parquet', y: 'b.parquet' }), 'BAD_OPTION', /a\.parquet is a Parquet file of named columns: give it as data/);
  });
});

describe('definition levels scanned without writing them out', () => {
  it('finds the first null in RLE runs and bit-packed groups, or none', async () => {
    const { firstBelowEncoded } = await import('../src/sources/table/pageStream.js');
    // RLE run of 10 × 1 (header 10 << 1 = 20), then one bit-packed group of 8 (header 1 << 1 | 1 = 3): bits 1,1,1,0,1,1,1,1.
    expect(firstBelowEncoded(Uint8Array.from([20, 1, 3, 0b11110111]), 1, 18, 1)).toBe(13);
    expect(firstBelowEncoded(Uint8Array.from([20, 1, 3, 0xff]), 1, 18, 1)).toBe(-1);
    // Width 2 (max level 3): a group of 8 levels 3,3,3,3,3,2,3,3 packed LSB first.
    const levels = [3, 3, 3, 3, 3, 2, 3, 3];
    const packed = [0, 0];
    levels.forEach((v, i) => (packed[(2 * i) >> 3]! |= v << ((2 * i) & 7)));
    expect(firstBelowEncoded(Uint8Array.from([3, ...packed]), 2, 8, 3)).toBe(5);
    // A varint header over two bytes: an RLE run of 300 (600 = 0xd8 0x04).
    expect(firstBelowEncoded(Uint8Array.from([0xd8, 0x04, 3]), 2, 300, 3)).toBe(-1);
    expect(() => firstBelowEncoded(Uint8Array.from([20, 1]), 1, 18, 1)).toThrow(/end early/);
  });
});
