/**
 * The command line as a user runs it: `node dist/cli.js …` in a fresh temporary directory per
 * test, working from files alone (`npm test` builds dist/ first). What is checked:
 *
 *   - generate → learn → compare round trips for several input distributions;
 *   - learning from .npy and .csv copies of the data gives the model learned from the .f64 files;
 *   - --d/--l come from the meta.json that generate writes beside x, and are required without it;
 *   - --help everywhere, exit codes;
 *   - failures: exit code, exactly one "pureneuron: …" line on stderr naming the problem, no
 *     stack trace, and no file left behind (no model.json, no temporary file);
 *   - the model.json schema and a bit-exact Model.fromJSON round trip.
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { writeNpy } from '../src/io/index.js';
import { Model, type ModelJSON } from '../src/api/model.js';
import {
  cliBuilt,
  CLI,
  listDir,
  makeTempDir,
  maxRelDiff,
  readF64,
  readJson,
  removeTempDir,
  runCli,
  runCliOk,
  toCsv,
} from './helpers/cli.js';

let dir: string;

beforeAll(() => {
  if (!cliBuilt()) throw new Error(`${CLI} is missing: run \`npm run build\` first (\`npm test\` does)`);
});
beforeEach(async () => {
  dir = await makeTempDir('pureneuron-cli-');
});
afterEach(async () => {
  await removeTempDir(dir);
});

interface Errors {
  wError: number;
  aError: number;
  predictionError: number;
}

const D = 8;
const K = 4;
const L = 6;

/** generate into `out` (relative to the temp dir) with the common shape. */
async function generateInto(out: string, n: number, extra: string[] = []): Promise<void> {
  const r = await runCliOk(['generate', '--n', String(n), '--d', String(D), '--k', String(K), '--l', String(L), '--out', out, ...extra], dir);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(new RegExp(`^wrote ${n} samples \\(d = ${D}, l = ${L}, k = ${K}, `));
}

async function compareFiles(model: string, truth: string): Promise<Errors> {
  const r = await runCliOk(['compare', model, truth], dir);
  const c = JSON.parse(r.stdout) as Errors;
  expect(Object.keys(c).sort()).toEqual(['aError', 'predictionError', 'wError']);
  return c;
}

// ------------------------------------------------------------------------------------------
describe('generate → learn → compare from files', () => {
  /*
   * Thresholds. Measured at (d, k, l) = (8, 4, 6), n = 30 000, seeds 1–4 (the seed used here
   * in brackets): wError mixture 0.010–0.019 [0.010], uniform with noise 0.05 0.011–0.020
   * [0.014], rademacher 0.011–0.018 [0.012], student-t with the default df = 3 0.013–0.022
   * [0.014]; aError at most 0.030 and predictionError at most 0.015 over all of them. The limits
   * — 0.08 for wError and aError, 0.06 for predictionError — are ≥ 3.6× the worst wError,
   * ≥ 2.7× the worst aError and 4× the worst predictionError measured on any seed, so sampling
   * noise and legitimate changes of the algorithm pass, while a broken step (errors ≥ 0.3)
   * cannot. student-t with df = 3 has an infinite fourth moment: it is the case most sensitive
   * to how robustly the moments are estimated (an earlier version of the learner gave 0.03–0.38
   * here), so a failure there is a real accuracy regression on heavy tails.
   *
   * The symmetrized sample is exactly symmetric, so every moment identity holds on it and the
   * weights come back to rounding error (7e-15 measured): 1e-8 leaves six orders of margin.
   */
  const cases: { name: string; n: number; args: string[]; w: number; a: number; p: number }[] = [
    { name: 'mixture', n: 30_000, args: ['--distribution', 'mixture', '--seed', '2'], w: 0.08, a: 0.08, p: 0.06 },
    { name: 'uniform with output noise 0.05', n: 30_000, args: ['--distribution', 'uniform', '--noise', '0.05', '--seed', '1'], w: 0.08, a: 0.08, p: 0.06 },
    { name: 'rademacher', n: 30_000, args: ['--distribution', 'rademacher', '--seed', '1'], w: 0.08, a: 0.08, p: 0.06 },
    { name: 'student-t (df 3)', n: 30_000, args: ['--distribution', 'student-t', '--seed', '1'], w: 0.08, a: 0.08, p: 0.06 },
    { name: 'mixture, symmetrized: near-exact', n: 20_000, args: ['--distribution', 'mixture', '--symmetrize', '--seed', '3'], w: 1e-8, a: 1e-8, p: 1e-8 },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      await generateInto('data', c.n, c.args);
      expect(await listDir(join(dir, 'data'))).toEqual(['meta.json', 'truth.json', 'x.f64', 'y.f64']);
      expect((await readF64(join(dir, 'data', 'x.f64'))).length).toBe(c.n * D);

      // d and l come from data/meta.json.
      const learned = await runCliOk(['learn', '--x', 'data/x.f64', '--y', 'data/y.f64', '--k', String(K), '--out', 'model.json'], dir);
      expect(learned.stdout).toBe('');
      expect(learned.stderr).toMatch(new RegExp(`learned k = ${K} units from ${c.n} samples \\(d = ${D}, l = ${L}\\)`));
      expect(learned.stderr).toMatch(/wrote model\.json/);
      expect(learned.stderr).not.toMatch(/^\s+at /m);

      const e = await compareFiles('model.json', 'data/truth.json');
      expect(e.wError, `wError ${e.wError}`).toBeLessThan(c.w);
      expect(e.aError, `aError ${e.aError}`).toBeLessThan(c.a);
      expect(e.predictionError, `predictionError ${e.predictionError}`).toBeLessThan(c.p);
      // No stray files: only the model next to the data directory.
      expect(await listDir(dir)).toEqual(['data', 'model.json']);
    });
  }

  it('compare of the truth with itself is exactly 0', async () => {
    await generateInto('data', 200);
    expect(await compareFiles('data/truth.json', 'data/truth.json')).toEqual({ wError: 0, aError: 0, predictionError: 0 });
  });
});

// ------------------------------------------------------------------------------------------
describe('input formats give the same model', () => {
  it('.npy and .csv (with and without a header) match the .f64 model to 1e-12', async () => {
    const n = 6_000;
    await generateInto('data', n, ['--distribution', 'laplace', '--seed', '4', '--noise', '0.02']);
    const x = await readF64(join(dir, 'data', 'x.f64'));
    const y = await readF64(join(dir, 'data', 'y.f64'));
    await writeNpy(join(dir, 'x.npy'), x, [n, D]);
    await writeNpy(join(dir, 'y.npy'), y, [n, L]);
    await writeFile(join(dir, 'x.csv'), toCsv(x, D, Array.from({ length: D }, (_, j) => `x${j}`)));
    await writeFile(join(dir, 'y.csv'), toCsv(y, L)); // no header
    await writeFile(join(dir, 'xh.csv'), toCsv(x, D)); // no header
    await writeFile(join(dir, 'yh.csv'), toCsv(y, L, Array.from({ length: L }, (_, j) => `y${j}`)));

    const learnTo = async (out: string, files: string[]): Promise<ModelJSON> => {
      await runCliOk(['learn', ...files, '--k', String(K), '--out', out, '--quiet'], dir);
      return readJson<ModelJSON>(join(dir, out));
    };
    const ref = await learnTo('ref.json', ['--x', 'data/x.f64', '--y', 'data/y.f64']);
    const variants: [string, string[]][] = [
      ['npy', ['--x', 'x.npy', '--y', 'y.npy']],
      ['csv, header on x only', ['--x', 'x.csv', '--y', 'y.csv']],
      ['csv, header on y only', ['--x', 'xh.csv', '--y', 'yh.csv']],
      ['npy x with csv y', ['--x', 'x.npy', '--y', 'y.csv']],
      ['f64 with --d/--l given and no meta.json consulted', ['--x', 'data/x.f64', '--y', 'data/y.f64', '--d', String(D), '--l', String(L)]],
    ];
    for (const [name, files] of variants) {
      const m = await learnTo(`${name.replace(/\W+/g, '_')}.json`, files);
      expect([m.d, m.k, m.l], name).toEqual([D, K, L]);
      expect(maxRelDiff(m.W.flat(), ref.W.flat()), `${name}: W`).toBeLessThan(1e-12);
      expect(maxRelDiff(m.A.flat(), ref.A.flat()), `${name}: A`).toBeLessThan(1e-12);
    }
  });
});

// ------------------------------------------------------------------------------------------
describe('--d and --l', () => {
  it('are read from meta.json beside the x file, and required without it', async () => {
    await generateInto('data', 2_000, ['--symmetrize']);
    await mkdir(join(dir, 'bare'));
    await copyFile(join(dir, 'data', 'x.f64'), join(dir, 'bare', 'x.f64'));
    await copyFile(join(dir, 'data', 'y.f64'), join(dir, 'bare', 'y.f64'));

    // No meta.json beside bare/x.f64 and no --d: the message names --d.
    const noD = await runCli(['learn', '--x', 'bare/x.f64', '--y', 'bare/y.f64', '--k', '4', '--out', 'model.json'], dir);
    expectOneLineError(noD, 1, /bare\/x\.f64 is raw f64 data with no header.*--d/);
    // --d alone: now the message names --l for y.
    const noL = await runCli(['learn', '--x', 'bare/x.f64', '--y', 'bare/y.f64', '--d', '8', '--k', '4', '--out', 'model.json'], dir);
    expectOneLineError(noL, 1, /bare\/y\.f64 is raw f64 data with no header.*--l/);
    expect(await listDir(dir)).toEqual(['bare', 'data']);

    // Both given: works, and equals the model learned with the dimensions from meta.json.
    await runCliOk(['learn', '--x', 'bare/x.f64', '--y', 'bare/y.f64', '--d', '8', '--l', '6', '--k', '4', '--out', 'given.json', '--quiet'], dir);
    await runCliOk(['learn', '--x', 'data/x.f64', '--y', 'data/y.f64', '--k', '4', '--out', 'from-meta.json', '--quiet'], dir);
    const a = await readJson<ModelJSON>(join(dir, 'given.json'));
    const b = await readJson<ModelJSON>(join(dir, 'from-meta.json'));
    expect(a.W).toEqual(b.W);
    expect(a.A).toEqual(b.A);
  });
});

// ------------------------------------------------------------------------------------------
describe('help and usage', () => {
  const commands = ['demo', 'generate', 'learn', 'compare'];
  it('--help / -h of the top level and every command: exit 0, usage on stdout, nothing on stderr', async () => {
    const runs: [string[], RegExp][] = [
      [['--help'], /^Usage: pureneuron <command>/],
      [['-h'], /^Usage: pureneuron <command>/],
      [['help'], /^Usage: pureneuron <command>/],
      ...commands.flatMap((c): [string[], RegExp][] => [
        [[c, '--help'], new RegExp(`^Usage: pureneuron ${c}\\b`)],
        [[c, '-h'], new RegExp(`^Usage: pureneuron ${c}\\b`)],
      ]),
    ];
    const results = await Promise.all(runs.map(([args]) => runCli(args, dir)));
    results.forEach((r, i) => {
      const [args, usage] = runs[i]!;
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout, args.join(' ')).toMatch(usage);
      expect(r.stderr, args.join(' ')).toBe('');
    });
    // The top-level usage lists every command.
    for (const c of commands) expect(results[0]!.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    // Every command documents its options.
    expect(results[runs.findIndex(([a]) => a[0] === 'learn')]!.stdout).toMatch(/--x FILE.*--y FILE/);
    expect(await listDir(dir)).toEqual([]);
  });

  it('no arguments: usage and exit 2', async () => {
    const r = await runCli([], dir);
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/Usage: pureneuron <command>/);
  });

  it('unknown command: exit 2 and one line naming it and the commands', async () => {
    expectOneLineError(await runCli(['lern'], dir), 2, /unknown command "lern"; commands: demo, generate, learn, predict, export, compare/);
  });

  it('experiment (a bundle of its own): a usage mistake exits 2, a PureneuronError 1, one line each', async () => {
    expectOneLineError(await runCli(['experiment', 'bogus'], dir), 2, /^pureneuron: unknown sweep "bogus"/);
    expectOneLineError(await runCli(['experiment', 'optimum', '--cells', 'none', '--out', join(dir, 'x')], dir), 1, /^pureneuron: no cell of the optimum sweep matches --cells none/);
  });
});

// ------------------------------------------------------------------------------------------

/** Exit code, exactly one "pureneuron: …" line on stderr matching `message`, no stack trace. */
function expectOneLineError(r: { code: number | null; stdout: string; stderr: string }, code: number, message: RegExp): void {
  const lines = r.stderr.split('\n').filter((s) => s !== '');
  expect(r.code, r.stderr).toBe(code);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^pureneuron: /);
  expect(lines[0]).toMatch(message);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stdout).toBe('');
}

/** Deterministic pseudo-random values in (−1, 1), enough for inputs that only need to be finite. */
function values(count: number, seed = 1): Float64Array {
  const out = new Float64Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

const f64Bytes = (a: Float64Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

describe('errors: one line, no stack trace, nothing written', () => {
  interface ErrorCase {
    name: string;
    /** Writes the inputs into the temp dir and returns the arguments. */
    setup: (dir: string) => Promise<string[]>;
    code: 1 | 2;
    message: RegExp;
    /** The line must not match this (e.g. implementation details). */
    not?: RegExp;
  }
  /** Valid 100×8 x.f64 and 100×6 y.f64 (enough for k ≤ 4: learn needs ≥ 2k(k+1) = 40 samples). */
  const validF64 = async (d: string): Promise<void> => {
    await writeFile(join(d, 'x.f64'), f64Bytes(values(100 * D, 1)));
    await writeFile(join(d, 'y.f64'), f64Bytes(values(100 * L, 2)));
  };
  const learnArgs = (x: string, y: string, ...rest: string[]): string[] => ['learn', '--x', x, '--y', y, '--k', '4', '--out', 'model.json', ...rest];

  const cases: ErrorCase[] = [
    {
      name: 'missing input file',
      setup: async () => learnArgs('missing.f64', 'missing-y.f64', '--d', '8', '--l', '6'),
      code: 1,
      message: /cannot open missing\.f64: no such file/,
    },
    {
      name: 'truncated .f64 (byte size not a multiple of the row size)',
      setup: async (d) => {
        await validF64(d);
        await writeFile(join(d, 'x.f64'), f64Bytes(values(100 * D)).subarray(0, 100 * D * 8 - 5));
        return learnArgs('x.f64', 'y.f64', '--d', '8', '--l', '6');
      },
      code: 1,
      message: /x\.f64 is truncated: 6395 bytes is not a multiple of the row size 8·d = 64 bytes/,
    },
    {
      name: 'x and y with different row counts (wrong --d)',
      setup: async (d) => {
        await validF64(d);
        return learnArgs('x.f64', 'y.f64', '--d', '4', '--l', '6');
      },
      code: 1,
      message: /x\.f64 has 200 samples but y\.f64 has 100 samples/,
    },
    {
      name: 'k larger than min(d, l)',
      setup: async (d) => {
        await validF64(d);
        return ['learn', '--x', 'x.f64', '--y', 'y.f64', '--d', '8', '--l', '6', '--k', '7', '--out', 'model.json'];
      },
      code: 1,
      message: /k = 7 exceeds min\(d, l\) = 6/,
    },
    {
      name: 'k beyond what the detector can hold: refused before reading, naming the need, the limit and the way out',
      setup: async (d) => {
        await writeFile(join(d, 'x.f64'), f64Bytes(values(10 * 200, 1)));
        await writeFile(join(d, 'y.f64'), f64Bytes(values(10 * 200, 2)));
        return ['learn', '--x', 'x.f64', '--y', 'y.f64', '--d', '200', '--l', '200', '--k', '200', '--out', 'model.json'];
      },
      code: 1,
      message: /k = 200 needs a 20 100 × 20 100 detector in pass 2: 3\.31 GB of memory in one block; the limit is 1\.07 GB .*; use k ≤ 115$/,
    },
    {
      name: 'unknown flag',
      setup: async (d) => {
        await validF64(d);
        return learnArgs('x.f64', 'y.f64', '--d', '8', '--l', '6', '--bogus');
      },
      code: 2,
      message: /Unknown option '--bogus'/,
    },
    {
      name: 'non-numeric --k',
      setup: async (d) => {
        await validF64(d);
        return ['learn', '--x', 'x.f64', '--y', 'y.f64', '--d', '8', '--l', '6', '--k', 'four', '--out', 'model.json'];
      },
      code: 2,
      message: /--k must be .*integer.*got "four"/,
    },
    {
      name: 'non-numeric --d',
      setup: async (d) => {
        await validF64(d);
        return learnArgs('x.f64', 'y.f64', '--d', '8x', '--l', '6');
      },
      code: 2,
      message: /--d must be .*integer.*got "8x"/,
    },
    {
      name: 'non-integer --chunk-rows',
      setup: async (d) => {
        await validF64(d);
        return learnArgs('x.f64', 'y.f64', '--d', '8', '--l', '6', '--chunk-rows', '1.5');
      },
      code: 2,
      message: /--chunk-rows must be .*integer.*got "1\.5"/,
    },
    {
      name: 'unknown --backend',
      setup: async (d) => {
        await validF64(d);
        return learnArgs('x.f64', 'y.f64', '--d', '8', '--l', '6', '--backend', 'gpu');
      },
      code: 2,
      message: /--backend must be 'auto', 'js' or 'wasm', got "gpu"/,
    },
    {
      name: 'csv with a ragged row',
      setup: async (d) => {
        await writeFile(join(d, 'x.csv'), 'a,b,c\n1,2,3\n4,5\n7,8,9\n');
        await writeFile(join(d, 'y.csv'), '1\n2\n3\n');
        return ['learn', '--x', 'x.csv', '--y', 'y.csv', '--k', '1', '--out', 'model.json'];
      },
      code: 1,
      message: /x\.csv line 3 has 2 columns but the first data row \(line 2\) has 3/,
    },
    {
      name: 'csv with a non-numeric field',
      setup: async (d) => {
        await writeFile(join(d, 'x.csv'), '1,2,3\n4,5,6\n7,abc,9\n');
        await writeFile(join(d, 'y.csv'), '1\n2\n3\n');
        return ['learn', '--x', 'x.csv', '--y', 'y.csv', '--k', '1', '--out', 'model.json'];
      },
      code: 1,
      message: /x\.csv line 3, column 2: "abc" is not a number/,
    },
    {
      name: 'csv with NaN: names the sample, the column and the line',
      setup: async (d) => {
        await writeFile(join(d, 'x.csv'), 'p,q\n1,2\nnan,4\n');
        await writeFile(join(d, 'y.csv'), '1\n2\n');
        return ['learn', '--x', 'x.csv', '--y', 'y.csv', '--k', '1', '--out', 'model.json'];
      },
      code: 1,
      message: /x has NaN at sample 1, column 0 \(0-based\) in x\.csv line 3/,
    },
    {
      name: 'too few samples for k',
      setup: async (d) => {
        await writeFile(join(d, 'x.csv'), '1,2\n3,4\n-1,5\n2,2\n0,1\n');
        await writeFile(join(d, 'y.csv'), '1,0\n2,1\n3,3\n1,1\n0,2\n');
        return ['learn', '--x', 'x.csv', '--y', 'y.csv', '--k', '2', '--out', 'model.json'];
      },
      code: 1,
      message: /5 samples are too few for k = 2/,
    },
    {
      name: '--out in a directory that does not exist',
      setup: async () => {
        // A learnable problem, so that learning succeeds and the write is what fails.
        await generateInto('data', 2_000, ['--symmetrize']);
        return ['learn', '--x', 'data/x.f64', '--y', 'data/y.f64', '--k', '4', '--out', 'nodir/model.json'];
      },
      code: 1,
      message: /cannot write nodir\/model\.json/,
      // The temporary file is an implementation detail the user never asked for.
      not: /\.tmp\b/,
    },
    {
      name: 'generate with k larger than min(d, l) creates no output directory',
      setup: async () => ['generate', '--n', '100', '--d', '8', '--k', '9', '--l', '6', '--out', 'gen'],
      code: 1,
      message: /k = 9 exceeds min\(d, l\) = 6/,
    },
    {
      name: 'generate without --out',
      setup: async () => ['generate', '--n', '100', '--d', '8', '--k', '4', '--l', '6'],
      code: 2,
      message: /--out is required/,
    },
    {
      name: 'compare: missing model file',
      setup: async (d) => {
        await writeFile(join(d, 'truth.json'), '{}');
        return ['compare', 'nope.json', 'truth.json'];
      },
      code: 1,
      message: /cannot read nope\.json: no such file/,
    },
    {
      name: 'compare: model file is not JSON',
      setup: async (d) => {
        await writeFile(join(d, 'model.json'), '{"d": 8,');
        await writeFile(join(d, 'truth.json'), '{}');
        return ['compare', 'model.json', 'truth.json'];
      },
      code: 1,
      message: /model\.json is not valid JSON/,
    },
    {
      name: 'compare: one file only',
      setup: async () => ['compare', 'model.json'],
      code: 2,
      message: /compare takes two files/,
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const args = await c.setup(dir);
      const before = await listDir(dir);
      const r = await runCli(args, dir);
      expectOneLineError(r, c.code, c.message);
      if (c.not) expect(r.stderr).not.toMatch(c.not);
      // Nothing written: no model.json, no output directory, no temporary file.
      expect(await listDir(dir)).toEqual(before);
    });
  }
});

// ------------------------------------------------------------------------------------------
describe('model.json', () => {
  it('has the documented shape and round-trips through Model.fromJSON bit for bit', async () => {
    await generateInto('data', 4_000, ['--symmetrize', '--seed', '5']);
    await runCliOk(['learn', '--x', 'data/x.f64', '--y', 'data/y.f64', '--k', String(K), '--out', 'model.json', '--quiet'], dir);
    const json = await readJson<Record<string, unknown>>(join(dir, 'model.json'));

    expect(json).toMatchObject({ format: 'pureneuron-model', version: 1, d: D, k: K, l: L });
    const isRows = (m: unknown, rows: number, cols: number): boolean =>
      Array.isArray(m) && m.length === rows && m.every((r) => Array.isArray(r) && r.length === cols && r.every((v) => typeof v === 'number' && Number.isFinite(v)));
    expect(isRows(json.W, K, D), 'W: k arrays of d finite numbers').toBe(true);
    expect(isRows(json.A, L, K), 'A: l arrays of k finite numbers').toBe(true);

    // truth.json shares the schema.
    const truth = await readJson<Record<string, unknown>>(join(dir, 'data', 'truth.json'));
    expect(truth).toMatchObject({ d: D, k: K, l: L });
    expect(isRows(truth.W, K, D) && isRows(truth.A, L, K)).toBe(true);

    // file → Model → toJSON → text → fromJSON: same weights and the same predictions, bit for bit.
    const m1 = Model.fromJSON(json);
    const m2 = Model.fromJSON(JSON.parse(JSON.stringify(m1.toJSON())));
    expect(m2.W).toEqual(m1.W);
    expect(m2.A).toEqual(m1.A);
    expect(Array.from(m1.W)).toEqual((json.W as number[][]).flat());
    const x = await readF64(join(dir, 'data', 'x.f64'));
    const p1 = m1.predict(x.subarray(0, 500 * D));
    const p2 = m2.predict(x.subarray(0, 500 * D));
    expect(p1.length).toBe(500 * L);
    expect(Buffer.from(p2.buffer).equals(Buffer.from(p1.buffer))).toBe(true);
  });
});
