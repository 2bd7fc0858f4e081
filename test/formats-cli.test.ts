/**
 * The formats users have, from the command line (`node dist/cli.js`, fresh processes):
 * `learn --data FILE --x-columns … --y-columns …` on Parquet, Arrow and CSV gives the model
 * learned from the same numbers as raw x/y files; `predict` streams predictions for every row
 * of any input format to .npy, .csv or .f64; `export --format onnx` writes a model that ONNX
 * Runtime (onnxruntime-node, the real runtime) runs to predict's outputs — ≤ 1e-12 relative in
 * float64 (measured ~2e-16: MatMul sums in another order), ≤ 1e-5 in float32 (measured ~1e-7,
 * float32's rounding over k = 4 terms). Failures: exit code 1, one line, no output file.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Model, type ModelJSON } from '../src/api/model.js';
import { decodeNpy } from '../src/io/npy.js';
import { cliBuilt, listDir, makeTempDir, readF64, readJson, removeTempDir, runCli, runCliOk } from './helpers/cli.js';
import { loadDuckDB, tableCsv, writeArrow, writeParquet, type Columns } from './helpers/tables.js';

let dir: string;
let data: Columns;
const duck = await loadDuckDB();
type Ort = typeof import('onnxruntime-node');
const ort: Ort | undefined = await import('onnxruntime-node').catch((e: unknown) => {
  console.warn(`onnxruntime-node is not available (${(e as Error).message}): the ONNX Runtime test is skipped`);
  return undefined;
});

beforeAll(async () => {
  dir = await makeTempDir('pureneuron-formats-');
  await runCliOk(['generate', '--n', '4000', '--d', '8', '--k', '4', '--l', '6', '--noise', '0.05', '--seed', '5', '--distribution', 'mixture', '--out', 'raw'], dir);
  data = { x: await readF64(join(dir, 'raw/x.f64')), y: await readF64(join(dir, 'raw/y.f64')), n: 4000, d: 8, l: 6 };
  await writeFile(join(dir, 'named.csv'), tableCsv(data));
  await writeArrow(join(dir, 'data.feather'), data, { batchRows: 1500, lz4: true });
  if (duck) await writeParquet(join(dir, 'data.parquet'), data, { layout: 'list', codec: 'zstd', rowGroupRows: 1500 });
  await runCliOk(['learn', '--x', 'raw/x.f64', '--y', 'raw/y.f64', '--k', '4', '--out', 'raw.json', '--quiet'], dir);
}, 60_000);
afterAll(async () => {
  await removeTempDir(dir);
});

const weights = (m: ModelJSON) => JSON.stringify([m.W, m.A]);

describe.skipIf(!cliBuilt())('pureneuron learn / predict / export on the formats users have', () => {
  it.each([
    ['parquet', ['--data', 'data.parquet', '--x-columns', 'x', '--y-columns', 'y']],
    ['arrow', ['--data', 'data.feather', '--x-columns', 'x', '--y-columns', 'y*']],
    ['csv', ['--data', 'named.csv', '--x-columns', 'x?', '--y-columns', 'y0,y1,y2,y3,y4,y5']],
  ])('learn --data (%s) gives the model learned from the raw files', async (format, args) => {
    if (format === 'parquet' && !duck) return;
    await runCliOk(['learn', ...args, '--k', '4', '--out', `${format}.json`, '--quiet'], dir);
    expect(weights(await readJson(join(dir, `${format}.json`)))).toBe(weights(await readJson(join(dir, 'raw.json'))));
  });

  it('predict: every row, any input format, .npy / .csv / .f64 by the extension', async () => {
    const model = Model.fromJSON(await readJson(join(dir, 'raw.json')));
    const expected = model.predict(data.x);
    await runCliOk(['predict', '--model', 'raw.json', '--x', 'raw/x.f64', '--out', 'p.npy'], dir);
    const npy = decodeNpy(new Uint8Array(await readFile(join(dir, 'p.npy'))));
    expect(npy.shape).toEqual([4000, 6]);
    expect(Array.from(npy.data)).toEqual(Array.from(expected));
    await runCliOk(['predict', '--model', 'raw.json', '--data', 'data.feather', '--x-columns', 'x', '--out', 'p.f64'], dir);
    expect(Array.from(await readF64(join(dir, 'p.f64')))).toEqual(Array.from(expected));
    await runCliOk(['predict', '--model', 'raw.json', '--data', 'named.csv', '--x-columns', 'x*', '--out', 'p.csv'], dir);
    const lines = (await readFile(join(dir, 'p.csv'), 'utf8')).trimEnd().split('\n');
    expect(lines[0]).toBe('y0,y1,y2,y3,y4,y5');
    expect(lines.slice(1).flatMap((s) => s.split(',').map(Number))).toEqual(Array.from(expected));
    if (duck) {
      // A .npy written before its row count was known (n is unknown until a CSV ends; Parquet knows it).
      await runCliOk(['predict', '--model', 'raw.json', '--data', 'data.parquet', '--x-columns', 'x', '--out', 'pq.npy'], dir);
      expect(Array.from(decodeNpy(new Uint8Array(await readFile(join(dir, 'pq.npy')))).data)).toEqual(Array.from(expected));
    }
  });

  it.skipIf(!ort)('export --format onnx: ONNX Runtime gives predict\'s outputs (float64 and float32)', async () => {
    const model = Model.fromJSON(await readJson(join(dir, 'raw.json')));
    const expected = model.predict(data.x);
    for (const [dtype, bound] of [['float64', 1e-12], ['float32', 1e-5]] as const) {
      await runCliOk(['export', 'raw.json', '--format', 'onnx', '--dtype', dtype, '--out', `m-${dtype}.onnx`], dir);
      const session = await ort!.InferenceSession.create(new Uint8Array(await readFile(join(dir, `m-${dtype}.onnx`))));
      expect([session.inputNames, session.outputNames]).toEqual([['x'], ['y']]);
      const x = dtype === 'float64' ? data.x : Float32Array.from(data.x);
      const { y } = await session.run({ x: new ort!.Tensor(dtype, x, [4000, 8]) });
      expect(y!.dims).toEqual([4000, 6]);
      // Relative RMS over all outputs (single outputs near 0 have no meaningful relative error).
      let num = 0;
      let den = 0;
      for (let i = 0; i < expected.length; i++) {
        num += (Number(y!.data[i]) - expected[i]!) ** 2;
        den += expected[i]! ** 2;
      }
      expect(Math.sqrt(num / den)).toBeLessThan(bound);
      await session.release();
    }
  });

  it('the shard steps take --data: Arrow shards give the model of the same shards as raw files, bit for bit', async () => {
    const half = (M: Float64Array, w: number, i: number) => M.slice(i * 2000 * w, (i + 1) * 2000 * w);
    for (const i of [0, 1]) {
      await writeArrow(join(dir, `shard${i}.arrow`), { x: half(data.x, 8, i), y: half(data.y, 6, i), n: 2000, d: 8, l: 6 }, { batchRows: 700 });
      await writeFile(join(dir, `shard${i}x.f64`), half(data.x, 8, i));
      await writeFile(join(dir, `shard${i}y.f64`), half(data.y, 6, i));
    }
    const sharded = async (shard: (i: number) => string[], out: string) => {
      await runCliOk(['plan', ...shard(0), '--k', '4', '--chunk-rows', '1000', '--out', `${out}-plan.state`, '--quiet'], dir);
      let state = `${out}-plan.state`;
      for (let pass = '1', step = 0; pass !== 'finish'; step++) {
        await Promise.all([0, 1].map((i) => runCliOk(['accumulate', '--pass', pass, ...shard(i), '--state', state, '--out', `${out}-${step}-${i}.state`, '--quiet'], dir)));
        pass = (await runCliOk(['merge', `${out}-${step}-0.state`, `${out}-${step}-1.state`, '--out', `${out}-${step}.state`, '--quiet'], dir)).stdout.trim();
        state = `${out}-${step}.state`;
      }
      await runCliOk(['finish', '--state', state, '--out', `${out}.json`, '--quiet'], dir);
      return weights(await readJson(join(dir, `${out}.json`)));
    };
    const fromArrow = await sharded((i) => ['--data', `shard${i}.arrow`, '--x-columns', 'x', '--y-columns', 'y*'], 'arrow');
    const fromRaw = await sharded((i) => ['--x', `shard${i}x.f64`, '--y', `shard${i}y.f64`, '--d', '8', '--l', '6'], 'raw');
    expect(fromArrow).toBe(fromRaw);
  });

  it.each([
    [['learn', '--data', 'named.csv', '--x-columns', 'x*,z', '--y-columns', 'y*', '--k', '4', '--out', 'o.json'], /x columns: "z" matches no column of named\.csv/],
    [['learn', '--data', 'named.csv', '--x-columns', 'x*', '--y-columns', 'y*,x1', '--k', '4', '--out', 'o.json'], /"x1" is chosen by both x columns and y columns/],
    [['learn', '--data', 'data.feather', '--x-columns', 'x,note', '--y-columns', 'y*', '--k', '4', '--out', 'o.json'], /column "note" of data\.feather is text/],
    [['learn', '--data', 'raw/x.f64', '--x-columns', 'x', '--y-columns', 'y', '--k', '4', '--out', 'o.json'], /raw\/x\.f64 is read as f64, which has no named columns/],
    [['learn', '--data', 'missing.parquet', '--x-columns', 'x', '--y-columns', 'y', '--k', '4', '--out', 'o.json'], /cannot open missing\.parquet: no such file/],
    [['predict', '--model', 'raw.json', '--data', 'data.feather', '--x-columns', 'y*', '--out', 'o.npy'], /data\.feather gives 6 values per row but the model takes d = 8/],
    [['predict', '--model', 'raw.json', '--x', 'raw/x.f64', '--out', 'o.txt'], /cannot tell the output format of o\.txt: its extension must be \.npy, \.csv, \.f64/],
    [['export', 'nope.json', '--format', 'onnx', '--out', 'o.onnx'], /cannot read nope\.json: no such file/],
  ])('%j fails with one line, exit 1, nothing written', async (args, message) => {
    const before = await listDir(dir);
    const r = await runCli(args, dir);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(await listDir(dir)).toEqual(before);
  });

  it('usage errors: --data with --x, columns without --data, an unknown export format (exit 2)', async () => {
    for (const [args, message] of [
      [['learn', '--data', 'a.parquet', '--x', 'x.f64', '--x-columns', 'x', '--y-columns', 'y', '--k', '2', '--out', 'o.json'], /either --x and --y files or --data/],
      [['learn', '--x', 'raw/x.f64', '--y', 'raw/y.f64', '--x-columns', 'x', '--k', '2', '--out', 'o.json'], /--x-columns and --y-columns choose columns of a --data file/],
      [['export', 'raw.json', '--format', 'pmml', '--out', 'o.pmml'], /--format must be one of onnx/],
    ] as const) {
      const r = await runCli([...args], dir);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });
});
