/**
 * The one options table (src/api/options.ts) and its users: every learn option has its doc,
 * its default is one of its own allowed values, the CLI's --help and the README list every
 * option with the table's default, and every options object of the library — learn(), the
 * shard steps, generate(), compare() — fails the same way: an unknown name or a bad value is
 * PureneuronError BAD_OPTION naming it, an options argument that is not an object a TypeError.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { accumulateShard, compare, finishShards, generate, learn, LEARN_OPTIONS, nextStep, planShards, PureneuronError, resolveLearnOptions } from '../src/index.js';
import { learnHelp } from '../src/cli/learn.js';

const g = generate({ n: 600, d: 4, k: 2, l: 3, seed: 1 });
const input = { x: g.x, y: g.y, d: 4, l: 3 };

async function code(f: () => unknown): Promise<string> {
  try {
    await f();
  } catch (e) {
    return e instanceof PureneuronError ? e.code : (e as Error).name;
  }
  return 'no error';
}

describe('the options table', () => {
  it('every option has a doc, and its default is an allowed value', () => {
    for (const [key, spec] of Object.entries(LEARN_OPTIONS)) {
      expect(spec.doc.length, key).toBeGreaterThan(10);
      const d = (spec as { default?: unknown }).default;
      if (d !== undefined) expect(spec.ok(d), `${key}'s default ${String(d)}`).toBe(true);
    }
    expect(resolveLearnOptions({ k: 3 })).toMatchObject({ k: 3, backend: 'auto', refine: 'auto', weighting: 'robust', polish: true });
  });

  it('`pureneuron learn --help` lists every flag with the table default', () => {
    for (const spec of Object.values(LEARN_OPTIONS)) {
      if (!('flag' in spec)) continue;
      expect(learnHelp, spec.flag).toContain(`--${spec.flag}`);
      const d = (spec as { default?: unknown }).default;
      if ('arg' in spec && d !== undefined) expect(learnHelp).toMatch(new RegExp(`--${spec.flag}[^]*?\\(default ${String(d)}\\)`));
    }
  });

  it("the README's options table lists every option with the table default", () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const [key, spec] of Object.entries(LEARN_OPTIONS)) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${key}\` |`));
      expect(row, `README row for ${key}`).toBeDefined();
      const d = (spec as { default?: unknown }).default;
      const cell = row!.split('|')[2].trim();
      const shown = d === undefined ? /required|—/ : new RegExp(typeof d === 'string' ? `'${d}'` : String(d).replace(/(\d)(?=(\d{3})+$)/g, '$1_?'));
      expect(cell, key).toMatch(shown);
    }
  });

  it('one error per kind of mistake, whatever the function', async () => {
    const plan = await planShards(input, { k: 2, refine: 0 });
    const p1 = await accumulateShard(input, { pass: 1, state: plan, workers: 0 });
    const unknown: [string, () => unknown][] = [
      ['learn', () => learn(input, { k: 2, polsh: 1 } as never)],
      ['planShards', () => planShards(input, { k: 2, workers: 2 } as never)],
      ['accumulateShard', () => accumulateShard(input, { pass: 1, state: plan, bogus: 1 } as never)],
      ['nextStep', () => nextStep(p1, { k: 2 } as never)],
      ['finishShards', () => finishShards(p1, { workers: 2 } as never)],
      ['generate', () => generate({ n: 10, d: 2, k: 1, l: 2, nosie: 1 } as never)],
      ['compare', () => compare(g.truth, g.truth, { seeed: 1 } as never)],
    ];
    for (const [name, f] of unknown) expect(await code(f), `${name}: an unknown option`).toBe('BAD_OPTION');
    const bad: [string, () => unknown][] = [
      ['learn', () => learn(input, { k: 0 })],
      ['learn', () => learn(input, { k: 2, chunkRows: -1 })],
      ['planShards', () => planShards(input, { k: 2, seed: 1.5 })],
      ['accumulateShard', () => accumulateShard(input, { pass: 4 as 1, state: plan })],
      ['accumulateShard', () => accumulateShard(input, { pass: 1, state: plan, workers: -1 })],
      ['generate', () => generate({ n: 0, d: 2, k: 1, l: 2 })],
      ['compare', () => compare(g.truth, g.truth, { n: 0 })],
    ];
    for (const [name, f] of bad) expect(await code(f), `${name}: a bad value`).toBe('BAD_OPTION');
    const notObject: [string, () => unknown][] = [
      ['learn', () => learn(input, null as never)],
      ['accumulateShard', () => accumulateShard(input, 3 as never)],
      ['generate', () => generate(undefined as never)],
      ['compare', () => compare(g.truth, g.truth, null as never)],
    ];
    for (const [name, f] of notObject) expect(await code(f), `${name}: options not an object`).toBe('TypeError');
  });
});
