/**
 * Sharded learning (shard.ts, io/state.ts, cli/shard.ts; docs/distributed.md): shards of the
 * data accumulated separately, their states merged, the model built from the merged sums.
 *
 *   - Shards aligned with the single run's chunks (the first shard a multiple of chunkRows,
 *     every later one a single chunk) give the single run's model BIT FOR BIT: the merged sums
 *     are added in exactly the single run's order (it folds chunk sums left to right; merge
 *     folds the parts left to right). Checked through the CLI (plan / accumulate in parallel
 *     processes / merge / finish against `pureneuron learn`) and through the library.
 *   - Unaligned shards: the merged sums differ from the single run's in the association of the
 *     additions only (relative differences ~1e-15); W and A then agree to 1e-6 relative (see
 *     the comment at that test for why not to 1e-12).
 *   - State files: round trip, and every kind of bad file is refused with one BAD_FILE message
 *     (truncated, wrong magic or version, corrupted, wrong pass, mismatched options, parts
 *     built on different states, missing shards).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../src/api/generate.js';
import { writeNpy, writeRawF64 } from '../src/io/index.js';
import { decodeState, encodeState, readStateFile, type ShardState } from '../src/api/shardState.js';
import { learn } from '../src/api/learn.js';
import type { ModelJSON } from '../src/api/model.js';
import type { PassState } from '../src/passes/state.js';
import { accumulateShard, finishShards, mergeStates, nextStep, planShards } from '../src/api/shard.js';
import { WEIGHTING_ROWS } from '../src/method/weights.js';
import { cliBuilt, CLI, listDir, makeTempDir, maxRelDiff, removeTempDir, runCli, runCliOk } from './helpers/cli.js';

const D = 8;
const K = 4;
const L = 6;
const N = 30_000;
const CHUNK = 10_000;
const g = generate({ distribution: 'mixture', n: N, d: D, k: K, l: L, noise: 0.05, seed: 5 });

/** Rows [a, b) of the data as an array input. */
const rows = (a: number, b: number) => ({ x: g.x.subarray(a * D, b * D), y: g.y.subarray(a * L, b * L), d: D, l: L });

/** Through the files' bytes and back, as between processes. */
const viaBytes = (s: ShardState): ShardState => decodeState(encodeState(s), 'test.state');

/** plan → accumulate (each pass nextStep names, each shard) → merge → finish, in the library. */
async function sharded(bounds: number[], options: { chunkRows: number; polish?: boolean; refine?: 'auto' | number; refineSamples?: number }, order?: number[]) {
  const shards = bounds.slice(0, -1).map((a, i) => rows(a, bounds[i + 1]));
  // Spectral (refine 0) unless asked: most tests compare with learn({ refine: 0 }).
  let state = viaBytes(await planShards(shards[0], { k: K, refine: 0, ...options }));
  const merged: ShardState[] = [];
  for (let next = await nextStep(state); next !== 'finish'; next = await nextStep(state)) {
    const pass = next;
    const parts = await Promise.all(shards.map(async (s, i) => viaBytes(await accumulateShard(s, { pass, state, workers: i === 1 ? 2 : 0 }))));
    state = viaBytes(mergeStates(order ? order.map((i) => parts[i]) : parts));
    merged.push(state);
  }
  return { model: await finishShards(state), merged };
}

/** The full sums (half 0 + half 1) of a field of a pass state. */
const full = (st: PassState, key: string) => Float64Array.from(st[key + '0'] as Float64Array, (v, i) => v + (st[key + '1'] as Float64Array)[i]);

const withoutRunInfo = (dg: object) => {
  const { timings: _t, workers: _w, ...rest } = dg as { timings: unknown; workers: unknown };
  return rest;
};

describe('sharded learning in the library', () => {
  it('shards aligned with the chunks give the single run bit for bit (W, A, diagnostics)', async () => {
    const single = await learn(rows(0, N), { k: K, chunkRows: CHUNK, workers: 0, refine: 0 });
    const { model, merged } = await sharded([0, CHUNK, 2 * CHUNK, N], { chunkRows: CHUNK });
    expect(Array.from(model.W)).toEqual(Array.from(single.W));
    expect(Array.from(model.A)).toEqual(Array.from(single.A));
    expect(withoutRunInfo(model.diagnostics!)).toEqual(withoutRunInfo(single.diagnostics!));
    expect(Object.keys(model.diagnostics!.timings)).toEqual(Object.keys(single.diagnostics!.timings));
    expect(merged.map((s) => s.passes[s.passes.length - 1].parts)).toEqual([3, 3, 3]);
    expect(merged[0].weighting!.rows).toBe(WEIGHTING_ROWS);
    // A first shard of two chunks: its own fold is the single run's prefix, still bit for bit.
    const two = await sharded([0, 2 * CHUNK, N], { chunkRows: CHUNK });
    expect(Array.from(two.model.W)).toEqual(Array.from(single.W));
    expect(Array.from(two.model.A)).toEqual(Array.from(single.A));
  });

  it("with the refinement: learn()'s default model (refine 'auto') bit for bit, each of its passes over all the shards", async () => {
    // 20 000 of the 30 000 samples in the refinement's subsample (by default all of them would
    // be: they fit in its 32 MiB): passes over all of them follow.
    const single = await learn(rows(0, N), { k: K, chunkRows: CHUNK, workers: 0, refineSamples: 20_000 });
    const passes = single.diagnostics!.refinement!.passes.length;
    expect(passes).toBeGreaterThan(1);
    const { model, merged } = await sharded([0, CHUNK, 2 * CHUNK, N], { chunkRows: CHUNK, refine: 'auto', refineSamples: 20_000 });
    expect(Array.from(model.W)).toEqual(Array.from(single.W));
    expect(Array.from(model.A)).toEqual(Array.from(single.A));
    expect(withoutRunInfo(model.diagnostics!)).toEqual(withoutRunInfo(single.diagnostics!));
    // pass 1, pass 2, the refinement passes, pass 3: one merged state each.
    expect(merged.map((s) => s.refinePasses)).toEqual([0, 0, ...Array.from({ length: passes - 1 }, (_, j) => j + 1), passes - 1]);
    // Each step takes the state that asks for it: pass 3 refuses before the refinement is done,
    // a refinement pass after it.
    const p2 = merged[1];
    await expect(accumulateShard(rows(0, CHUNK), { pass: 3, state: p2, workers: 0 })).rejects.toMatchObject({ code: 'BAD_OPTION', message: /the refinement is not done: run accumulate --pass refine/ });
    await expect(accumulateShard(rows(0, CHUNK), { pass: 'refine', state: merged[merged.length - 2], workers: 0 })).rejects.toMatchObject({ code: 'BAD_OPTION', message: /needs no further pass/ });
    expect(await nextStep(p2)).toBe('refine');
    expect(await nextStep(merged[merged.length - 2])).toBe(3);
  });

  it('unaligned shards and any merge order: the same sums up to rounding, the same model to 1e-6', async () => {
    // The single run's sums, from the same library functions on one shard holding everything
    // (that is learn(): it gives the same bits, as the test above shows for aligned shards).
    const chunkRows = 4000;
    const single = await learn(rows(0, N), { k: K, chunkRows, workers: 0, refine: 0 });
    const one = await sharded([0, N], { chunkRows });
    expect(Array.from(one.model.W)).toEqual(Array.from(single.W));
    for (const [bounds, order] of [[[0, 11_000, 20_500, N], undefined], [[0, 9000, 16_000, N], [2, 0, 1]]] as const) {
      const { model, merged } = await sharded([...bounds], { chunkRows }, order && [...order]);
      // Sums: only the association of the additions differs, so they agree to a few ulps of
      // the largest terms (measured ≤ 4e-15).
      expect(maxRelDiff(full(merged[0].passes[0].state, 'xx'), full(one.merged[0].passes[0].state, 'xx'))).toBeLessThan(1e-13);
      expect(maxRelDiff(full(merged[1].passes[1].state, 'T'), full(one.merged[1].passes[1].state, 'T'))).toBeLessThan(1e-13);
      // W and A: not to 1e-12. A perturbation of the sums at the rounding level (1e-15) is
      // amplified by the extraction: the Gauss–Newton polish of each pure direction stops when
      // the objective falls by less than 1e-8 relative, and accepts or rejects a step by
      // comparing two objective values, so a rounding-level change of the detector can stop it
      // one iteration earlier or later, moving W by up to the polish's convergence tolerance.
      // Measured over 24 problems (mixture, Gaussian, Student-t; 8 seeds; uneven shards): W and
      // A differ by ≤ 1.1e-8 relative (≤ 4e-11 without the polish; often ≤ 1e-14), against a
      // statistical W error of ~1e-2 at this n. 1e-6 leaves 100× margin and is 1e4× below the
      // sampling error: any real discrepancy (a shard missing, a wrong weight) is ≥ 1e-3.
      expect(maxRelDiff(model.W, single.W), JSON.stringify(bounds)).toBeLessThan(1e-6);
      expect(maxRelDiff(model.A, single.A), JSON.stringify(bounds)).toBeLessThan(1e-6);
      expect(model.diagnostics!.n).toBe(N);
    }
  });

  it('a shard planned by itself works alone, and with weighting none the parts merge', async () => {
    const alone = await accumulateShard(rows(0, N), { pass: 1, options: { k: K, chunkRows: CHUNK }, workers: 0 });
    expect(alone.pass).toBe(1);
    expect(alone.weighting!.scales).toHaveLength(D);
    // Robust weighting: self-planned shards have different scales, refused at merge.
    const b = await accumulateShard(rows(CHUNK, N), { pass: 1, options: { k: K, chunkRows: CHUNK }, workers: 0 });
    expect(() => mergeStates([alone, b], ['a.state', 'b.state'])).toThrow(/cannot merge b\.state with a\.state: the robust weighting scales differ.*pureneuron plan/);
    // Unweighted: nothing to plan but the options, so self-planned parts merge.
    const u = await Promise.all([rows(0, CHUNK), rows(CHUNK, N)].map((s) => accumulateShard(s, { pass: 1, options: { k: K, weighting: 'none', chunkRows: CHUNK }, workers: 0 })));
    expect(mergeStates(u).passes[0].rows).toBe(N);
  });
});

// ------------------------------------------------------------------------------------------
describe('state files', () => {
  let parts: { plan: ShardState; p1: ShardState[]; all1: ShardState; p2: ShardState[]; all2: ShardState };
  beforeAll(async () => {
    const shards = [rows(0, CHUNK), rows(CHUNK, N)];
    const plan = await planShards(shards[0], { k: K, chunkRows: CHUNK });
    const p1 = await Promise.all(shards.map((s) => accumulateShard(s, { pass: 1, state: plan, workers: 0 })));
    const all1 = mergeStates(p1);
    const p2 = await Promise.all(shards.map((s) => accumulateShard(s, { pass: 2, state: all1, workers: 0 })));
    parts = { plan, p1, all1, p2, all2: mergeStates(p2) };
  });

  it('round trip: the same state, the same bytes', () => {
    for (const s of [parts.plan, parts.all1, parts.all2]) {
      const bytes = encodeState(s);
      const back = decodeState(bytes, 'x.state');
      expect(encodeState(back)).toEqual(bytes);
      expect(back.pass).toBe(s.pass);
      expect(back.passes.map((p) => p.rows)).toEqual(s.passes.map((p) => p.rows));
    }
    const bytes = encodeState(parts.all1);
    expect(new TextDecoder().decode(bytes.subarray(0, 7))).toBe('PNSTATE');
    expect(new DataView(bytes.buffer).getUint32(8, true)).toBe(2);
    expect((16 + new DataView(bytes.buffer).getUint32(12, true)) % 8).toBe(0);
  });

  it('bad bytes: empty, truncated, bad magic, other version, corrupted, trailing bytes', () => {
    const good = encodeState(parts.all2);
    const bad = (b: Uint8Array) => () => decodeState(b, 'p.state');
    const patched = (at: number, v: number) => {
      const b = Uint8Array.from(good);
      b[at] ^= v;
      return b;
    };
    expect(bad(new Uint8Array(0))).toThrow(/^p\.state: the file is empty/);
    expect(bad(good.subarray(0, 5))).toThrow(/^p\.state: truncated/);
    expect(bad(good.subarray(0, 100))).toThrow(/^p\.state: truncated/);
    expect(bad(good.subarray(0, good.length - 1))).toThrow(/^p\.state: truncated: \d+ bytes, the header announces \d+/);
    expect(bad(new TextEncoder().encode('{"d": 8, "k": 4}\n'.repeat(4)))).toThrow(/not a pureneuron state file \(bad magic/);
    expect(bad(patched(8, 1))).toThrow(/state format version 3 is not supported \(this pureneuron reads version 2\)/);
    expect(bad(patched(good.length - 100, 1))).toThrow(/checksum mismatch: the file is corrupted/);
    expect(bad(Uint8Array.from([...good, 0, 0]))).toThrow(/2 unexpected bytes after the end/);
    for (const f of [bad(new Uint8Array(0)), bad(patched(20, 1)), bad(patched(good.length - 100, 1))]) {
      expect(f).toThrow(expect.objectContaining({ code: 'BAD_FILE' }));
    }
  });

  it('wrong pass: each step takes the state of the step before', async () => {
    await expect(accumulateShard(rows(0, CHUNK), { pass: 3, state: parts.all1 })).rejects.toMatchObject({ code: 'BAD_FILE', message: /accumulate pass 3 needs the merged pass-2 state or refinement state, got a pass-1 state/ });
    await expect(accumulateShard(rows(0, CHUNK), { pass: 1, state: parts.all1 })).rejects.toMatchObject({ code: 'BAD_FILE', message: /needs a plan/ });
    await expect(accumulateShard(rows(0, CHUNK), { pass: 2, state: parts.plan })).rejects.toMatchObject({ code: 'BAD_FILE', message: /got a plan/ });
    await expect(finishShards(parts.all2)).rejects.toMatchObject({ code: 'BAD_FILE', message: /finish needs the merged pass-3 state, got a pass-2 state: run accumulate --pass 3/ });
    expect(() => mergeStates([parts.plan])).toThrow(/is a plan \(pass 0\): it holds no sums to merge/);
    expect(() => mergeStates([parts.p1[0], parts.p2[1]], ['a', 'b'])).toThrow(/cannot merge b with a: it is a pass-2 state, a a pass-1 state/);
    await expect(accumulateShard({ x: new Float64Array(7 * 10), y: new Float64Array(60), d: 7, l: L }, { pass: 2, state: parts.all1 })).rejects.toMatchObject({ code: 'BAD_SHAPE' });
  });

  it('mismatched options, different previous states, missing shards', async () => {
    const other = await planShards(rows(0, CHUNK), { k: K, chunkRows: CHUNK, seed: 2 });
    const q = await accumulateShard(rows(CHUNK, N), { pass: 1, state: other, workers: 0 });
    expect(() => mergeStates([parts.p1[0], q], ['a.state', 'q.state'])).toThrow(/cannot merge q\.state with a\.state: option seed is 2, not 1/);
    // Pass-2 parts built on different pass-1 states (the merged one, and one shard's alone).
    const stray = await accumulateShard(rows(CHUNK, N), { pass: 2, state: parts.p1[0], workers: 0 });
    expect(() => mergeStates([parts.p2[0], stray], ['a.state', 's.state'])).toThrow(/cannot merge s\.state with a\.state: they were built on different merged states/);
    // A pass-2 state missing a shard: pass 3 refuses it.
    await expect(accumulateShard(rows(0, CHUNK), { pass: 3, state: parts.p2[0] })).rejects.toMatchObject({ code: 'BAD_FILE', message: /the merged sums of its pass 2 cover 10000 samples but pass 1 covered 30000: a shard is missing/ });
    // A header that lies about the sums, or holds invalid options (with a valid checksum).
    const broken = { ...parts.all1, passes: [{ ...parts.all1.passes[0], state: { ...parts.all1.passes[0].state } }] };
    delete broken.passes[0].state.v3;
    await expect(accumulateShard(rows(0, CHUNK), { pass: 2, state: viaBytes(broken) })).rejects.toMatchObject({ code: 'BAD_FILE', message: /^test\.state: the pass-1 sums lack the field "v3"/ });
    expect(() => viaBytes({ ...parts.plan, options: { ...parts.plan.options, k: 99 } })).toThrow(/^test\.state: k = 99 exceeds min\(d, l\) = 6/);
    expect(() => viaBytes({ ...parts.plan, options: { ...parts.plan.options, detector: 'odd' as never } })).toThrow(/invalid options: detector must be 'even' or 'literal'/);
    // Options or a plan, not both; pass 1 needs one of them.
    await expect(accumulateShard(rows(0, CHUNK), { pass: 1, state: parts.plan, options: { k: K } })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(accumulateShard(rows(0, CHUNK), { pass: 1 })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(planShards(rows(0, CHUNK), { k: K, refine: -1 })).rejects.toMatchObject({ code: 'BAD_OPTION', message: /refine must be 'auto' or an integer/ });
  });
});

// ------------------------------------------------------------------------------------------
describe('the shard commands', () => {
  let dir: string;
  beforeAll(async () => {
    if (!cliBuilt()) throw new Error(`${CLI} is missing: run \`npm run build\` first (\`npm test\` does)`);
    dir = await makeTempDir('pureneuron-shard-');
    await writeRawF64(join(dir, 'x.f64'), g.x);
    await writeRawF64(join(dir, 'y.f64'), g.y);
    // Three shards of one chunk each; the second one as .npy (any format learn reads).
    for (let i = 0; i < 3; i++) {
      const s = rows(i * CHUNK, (i + 1) * CHUNK);
      if (i === 1) {
        await writeNpy(join(dir, `x${i}.npy`), s.x, [CHUNK, D]);
        await writeNpy(join(dir, `y${i}.npy`), s.y, [CHUNK, L]);
      } else {
        await writeRawF64(join(dir, `x${i}.f64`), s.x);
        await writeRawF64(join(dir, `y${i}.f64`), s.y);
      }
    }
    // A first shard too short to hold the samples the weighting scales come from.
    await writeRawF64(join(dir, 'xs.f64'), rows(0, 5000).x);
    await writeRawF64(join(dir, 'ys.f64'), rows(0, 5000).y);
  });
  afterAll(async () => {
    await removeTempDir(dir);
  });
  const shardFiles = (i: number) => (i === 1 ? ['--x', 'x1.npy', '--y', 'y1.npy'] : ['--x', `x${i}.f64`, '--y', `y${i}.f64`, '--d', String(D), '--l', String(L)]);

  it('plan, accumulate in parallel processes, merge (which names the next pass), finish: the model of `pureneuron learn`, bit for bit', async () => {
    // A subsample of 20 000 of the 30 000 samples, so that refinement passes over all of them follow.
    const planned = await runCliOk(['plan', ...shardFiles(0), '--k', String(K), '--chunk-rows', String(CHUNK), '--refine-samples', '20000', '--out', 'plan.state'], dir);
    expect(planned.stderr).toMatch(/^wrote the plan plan\.state \(d = 8, l = 6, k = 4, weighting robust, 10000 samples per chunk\)/);
    // The default refine 'auto' makes passes over every shard between pass 2 and pass 3, as
    // many as merge asks for. Files: part1-i, all1 (pass 1), …, partr1-i, allr1 (the first
    // refinement pass), …, all3 (pass 3).
    let prev = 'plan.state';
    let pass = '1';
    const done: string[] = [];
    while (pass !== 'finish') {
      const name = pass === 'refine' ? `r${done.filter((p) => p === 'refine').length + 1}` : pass;
      const runs = await Promise.all([0, 1, 2].map((i) => runCliOk(['accumulate', '--pass', pass, ...shardFiles(i), '--state', prev, '--out', `part${name}-${i}.state`], dir)));
      const what = pass === 'refine' ? 'refinement pass \\d+' : `pass ${pass}`;
      runs.forEach((r, i) => expect(r.stderr).toMatch(new RegExp(`wrote part${name}-${i}\\.state \\(${what}, 10000 samples`)));
      const m = await runCliOk(['merge', `part${name}-0.state`, `part${name}-1.state`, `part${name}-2.state`, '--out', `all${name}.state`], dir);
      expect(m.stderr).toMatch(new RegExp(`wrote all${name}\\.state \\(${what}, 30000 samples from 3 parts\\); next: `));
      const next = /; next: pureneuron (?:accumulate --pass (\w+)|(finish))/.exec(m.stderr);
      expect(next, m.stderr).not.toBeNull();
      // stdout: the same step as one word, for a driver.
      expect(m.stdout.trim()).toBe(next![1] ?? next![2]);
      done.push(pass);
      prev = `all${name}.state`;
      pass = m.stdout.trim();
    }
    expect(done.slice(0, 3)).toEqual(['1', '2', 'refine']);
    expect(done[done.length - 1]).toBe('3');
    const fin = await runCliOk(['finish', '--state', 'all3.state', '--out', 'model.json'], dir);
    expect(fin.stderr).toMatch(/built k = 4 units from 30000 samples \(d = 8, l = 6\).*wrote model\.json/);
    await runCliOk(['learn', '--x', 'x.f64', '--y', 'y.f64', '--d', String(D), '--l', String(L), '--k', String(K), '--chunk-rows', String(CHUNK), '--refine-samples', '20000', '--out', 'single.json', '--quiet'], dir);
    const a = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as ModelJSON;
    const b = JSON.parse(await readFile(join(dir, 'single.json'), 'utf8')) as ModelJSON;
    expect(a.W).toEqual(b.W);
    expect(a.A).toEqual(b.A);
    expect(withoutRunInfo(a.diagnostics!)).toEqual(withoutRunInfo(b.diagnostics!));
    expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
    expect((await readStateFile(join(dir, 'all3.state'))).passes.map((p) => p.parts)).toEqual(done.map(() => 3));
  });

  it('bad state files and wrong usage: one line, exit code, no output file', async () => {
    const before = await listDir(dir);
    const good = await readFile(join(dir, 'all2.state'));
    await writeFile(join(dir, 'cut.state'), good.subarray(0, good.length - 40));
    const expectError = (r: { code: number | null; stdout: string; stderr: string }, code: number, message: RegExp) => {
      const lines = r.stderr.split('\n').filter((s) => s !== '');
      expect(r.code, r.stderr).toBe(code);
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^pureneuron: /);
      expect(lines[0]).toMatch(message);
      expect(r.stdout).toBe('');
    };
    const results = await Promise.all([
      runCli(['accumulate', '--pass', '3', ...shardFiles(0), '--state', 'cut.state', '--out', 'out.state'], dir),
      runCli(['accumulate', '--pass', '3', ...shardFiles(0), '--state', 'all1.state', '--out', 'out.state'], dir),
      runCli(['finish', '--state', 'all2.state', '--out', 'out.json'], dir),
      runCli(['merge', 'part1-0.state', 'part2-1.state', '--out', 'out.state'], dir),
      runCli(['merge', 'x.f64', '--out', 'out.state'], dir),
      runCli(['accumulate', '--pass', '2', ...shardFiles(0), '--out', 'out.state'], dir),
      runCli(['accumulate', '--pass', '1', ...shardFiles(0), '--state', 'plan.state', '--k', '4', '--out', 'out.state'], dir),
      runCli(['merge', '--out', 'out.state'], dir),
      runCli(['plan', '--x', 'xs.f64', '--y', 'ys.f64', '--d', String(D), '--l', String(L), '--k', String(K), '--out', 'short.state'], dir),
    ]);
    expectError(results[0], 1, /cut\.state: truncated: \d+ bytes, the header announces \d+/);
    expectError(results[1], 1, /all1\.state: accumulate pass 3 needs the merged pass-2 state or refinement state, got a pass-1 state/);
    expectError(results[2], 1, /all2\.state: finish needs the merged pass-3 state, got a pass-2 state/);
    expectError(results[3], 1, /cannot merge part2-1\.state with part1-0\.state: it is a pass-2 state/);
    expectError(results[4], 1, /x\.f64: not a pureneuron state file \(bad magic/);
    expectError(results[5], 2, /--state is required for pass 2/);
    expectError(results[6], 2, /--k: with --state the options come from the state/);
    expectError(results[7], 2, /merge needs at least one part state/);
    // A first shard shorter than the weighting's samples: the plan works, with a warning that it is not the single run's.
    expect(results[8].code).toBe(0);
    expect(results[8].stderr).toMatch(/\nwarning: the first shard holds only 5000 samples, fewer than the 8192 the weighting scales are taken from.*--weighting none\)\n$/);
    expect(await listDir(dir)).toEqual([...before, 'cut.state', 'short.state'].sort());
  });

  it('--help of every shard command', async () => {
    const rs = await Promise.all(['plan', 'accumulate', 'merge', 'finish'].map((c) => runCli([c, '--help'], dir)));
    rs.forEach((r, i) => {
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: pureneuron ${['plan', 'accumulate', 'merge', 'finish'][i]}\\b`));
    });
    const top = await runCli(['--help'], dir);
    for (const c of ['plan', 'accumulate', 'merge', 'finish']) expect(top.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
  });
});
