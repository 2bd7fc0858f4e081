/**
 * The CLI under interruption, as a user meets it: Ctrl-C (SIGINT) or a `kill` (SIGTERM) while
 * `pureneuron learn` or `pureneuron generate` is working. What must hold:
 *
 *   - the command stops where it is (learn() checks its abort signal between chunks, the file
 *     readers before every block, generate between blocks) and exits with the status shells use
 *     for a signal: 128 + its number, 130 for SIGINT and 143 for SIGTERM;
 *   - stderr carries exactly one "pureneuron: …" line saying what was interrupted, and no stack
 *     trace (learn's progress lines of the phases finished before the signal may precede it);
 *   - nothing is left behind: no model.json, no x.f64/y.f64 (complete or partial), and no
 *     temporary file of the atomic writer; a model.json already there is untouched.
 *
 * Each case interrupts the command at a known point of its work, not after a fixed delay (which
 * lands elsewhere, or after the end, depending on the machine's speed): it waits for an event of
 * the child (a progress line, bytes read, a temporary file grown to some size), freezes it with
 * SIGSTOP, records what it has done, sends the signal and resumes it (helpers/interrupt.ts). The
 * point is then checked, not assumed: from what was recorded while it was frozen (bytes read,
 * files present) and from the progress lines it printed. The atomic writer's abort path is also
 * tested directly (in-process), at points the CLI cannot be frozen at reliably (e.g. between the
 * last write and the rename).
 */
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PureneuronError } from '../src/errors.js';
import { abortWritesOn, openAtomicWriter, writeFileAtomic } from '../src/io/atomic.js';
import { writeRawF64 } from '../src/io/raw.js';
import { cliBuilt, CLI, listDir, makeTempDir, removeTempDir, runCliOk } from './helpers/cli.js';
import { bytesRead, fileReaches, HAS_PROC_IO, interruptAt, readAtLeast, sizesIn, stderrLine, type Interrupted } from './helpers/interrupt.js';

/**
 * Samples for the learn runs: enough that every phase interrupted below lasts long next to the
 * few milliseconds between the event and the freeze (pass 1 ≈ 0.3 s with workers, 0.6 s without;
 * pass 2 ≈ 1.2 s; the refinement ≈ 0.5 s, on an idle 2-core machine).
 */
const N = 600_000;
const D = 32;
const L = 32;
const SHAPE = ['--d', String(D), '--k', '16', '--l', String(L)];
/** Bytes of x.f64 and y.f64 together: what one pass over all samples reads. */
const PASS_BYTES = N * (D + L) * 8;

let dir: string;
let data: string;

beforeAll(async () => {
  if (!cliBuilt()) throw new Error(`${CLI} is missing: run \`npm run build\` first (\`npm test\` does)`);
  dir = await makeTempDir('pureneuron-signals-');
  data = join(dir, 'data');
  await runCliOk(['generate', '--n', String(N), ...SHAPE, '--noise', '0.05', '--seed', '3', '--out', 'data'], dir);
}, 120_000);

afterAll(async () => {
  await removeTempDir(dir);
});

/** The progress line learn prints (stderr not a TTY) for a phase, once the next phase has begun. */
const PROGRESS = {
  pass1: /^pass 1\/3 second moments: \d+ of \d+ samples$/,
  pass2: /^pass 2\/3 detector: \d+ of \d+ samples$/,
  refine: /^refinement: \d+ of \d+ samples$/,
  pass3: /^pass 3\/3 second layer: \d+ of \d+ samples$/,
};

/**
 * The expectations every interrupted command shares; `progress` lists the progress lines that
 * must precede the error line, in order (those of the phases finished before the signal: a
 * phase interrupted or never reached prints none).
 */
function expectCleanInterrupt(r: Interrupted<unknown>, sig: NodeJS.Signals, what: RegExp, progress: RegExp[] = []): void {
  const report = `exit ${r.code} (signal ${r.killedBy}${r.hung ? ', killed as hung' : ''})\nstderr: ${r.stderr}`;
  expect(r.hung, `no exit within the hang guard after the signal\n${report}`).toBe(false);
  expect(r.killedBy, `died of the signal without handling it\n${report}`).toBeNull();
  expect(r.code, report).toBe(sig === 'SIGINT' ? 130 : 143);
  expect(r.stdout).toBe('');
  const lines = r.stderr.split('\n').filter((s) => s !== '');
  const ours = lines.filter((s) => s.startsWith('pureneuron:'));
  expect(ours, report).toHaveLength(1);
  expect(ours[0], report).toMatch(what);
  expect(ours[0], report).toContain(`interrupted by ${sig}`);
  expect(lines.at(-1), `the error line is not the last line\n${report}`).toBe(ours[0]);
  const others = lines.slice(0, -1);
  expect(others.length, `progress lines: expected ${progress.length}\n${report}`).toBe(progress.length);
  others.forEach((s, i) => expect(s, report).toMatch(progress[i]!));
  expect(r.stderr, `stack trace on stderr\n${report}`).not.toMatch(/^\s+at .+[(:]\d+/m);
  expect(r.stderr, report).not.toMatch(/unexpected error|Error:/);
}

/** Temporary files of the atomic writer: ".<name>.<pid>.<hex>.tmp". */
const isTemp = (name: string): boolean => /^\..*\.tmp$/.test(name);

/** What a learn case records while the process is frozen. */
interface LearnFrozen {
  /** Bytes read so far (undefined without /proc). */
  read?: number;
  /** The output directory's files. */
  out: string[];
}

describe('pureneuron learn, interrupted', () => {
  // --cache-bytes 0: every pass reads the files (the triggers count the bytes read), as for
  // data beyond the cache.
  const learnArgs = (out: string, ...more: string[]) => ['learn', '--x', 'data/x.f64', '--y', 'data/y.f64', '--k', '16', '--cache-bytes', '0', '--out', out, ...more];

  /** Runs learn into a fresh directory `name`, interrupted at `trigger`; checks that it left nothing behind. */
  async function interruptLearn(name: string, sig: NodeJS.Signals, trigger: Parameters<typeof interruptAt>[3], more: string[] = [], existing?: string) {
    const out = join(dir, name);
    await mkdir(out);
    const model = join(out, 'model.json');
    if (existing !== undefined) await writeFile(model, existing);
    const before = await listDir(data);
    const r = await interruptAt<LearnFrozen>(learnArgs(model, ...more), dir, sig, trigger, async (p) => ({
      read: HAS_PROC_IO ? bytesRead(p.pid) : undefined,
      out: [...(await sizesIn(out)).keys()],
    }));
    expect(await listDir(out), 'files left in the output directory').toEqual(existing === undefined ? [] : ['model.json']);
    if (existing !== undefined) expect(await readFile(model, 'utf8'), 'model.json changed').toBe(existing);
    expect(await listDir(data), 'files added beside the samples').toEqual(before);
    console.info(`learn ${sig} (${trigger.what}): exit ${r.code}; ${r.atFreeze.read === undefined ? '' : `${(r.atFreeze.read / 1e6).toFixed(0)} MB read when frozen; `}stderr ${JSON.stringify(r.stderr)}`);
    return r;
  }

  it.skipIf(!HAS_PROC_IO)('SIGINT in pass 1 (no worker threads): exit 130, one error line, no model and no temporary file', async () => {
    // A quarter of pass 1 read (the weighting before it reads the first 8192 rows, ~4 MB).
    const r = await interruptLearn('out-pass1', 'SIGINT', readAtLeast(PASS_BYTES / 4), ['--workers', '0']);
    // Frozen inside pass 1: pass 1 alone reads PASS_BYTES.
    expect(r.atFreeze.read!).toBeLessThan(PASS_BYTES);
    expect(r.atFreeze.out).toEqual([]);
    expectCleanInterrupt(r, 'SIGINT', /^pureneuron: aborted while (reading|learning) /, []);
  });

  it('SIGTERM in pass 2: exit 143, one error line after the pass-1 progress line, no model and no temporary file', async () => {
    // Pass 1's line is printed when pass 2 reports its first chunk.
    const r = await interruptLearn('out-pass2', 'SIGTERM', stderrLine(PROGRESS.pass1));
    if (r.atFreeze.read !== undefined) expect(r.atFreeze.read).toBeLessThan(2 * PASS_BYTES);
    expect(r.atFreeze.out).toEqual([]);
    expectCleanInterrupt(r, 'SIGTERM', /^pureneuron: aborted while (reading|learning) /, [PROGRESS.pass1]);
  });

  it('SIGINT in the refinement: exit 130, one error line after the pass-1 and pass-2 lines, no model and no temporary file', async () => {
    // Pass 2's line is printed when the refinement reports its first chunk; it reads the first
    // 100 000 samples per Gauss–Newton pass, 5 passes at most (--refine auto).
    const r = await interruptLearn('out-refine', 'SIGINT', stderrLine(PROGRESS.pass2));
    expect(r.atFreeze.out).toEqual([]);
    expectCleanInterrupt(r, 'SIGINT', /^pureneuron: aborted while (reading|learning) /, [PROGRESS.pass1, PROGRESS.pass2]);
  });

  it.skipIf(!HAS_PROC_IO)('--quiet, SIGTERM in pass 2: a model.json already there survives unchanged; the error is the only line', async () => {
    // Half of pass 2 read: past pass 1 (the weighting's ~4 MB aside), far from its end.
    const r = await interruptLearn('out-existing', 'SIGTERM', readAtLeast(1.5 * PASS_BYTES), ['--quiet'], '{"old": true}\n');
    expect(r.atFreeze.read!).toBeLessThan(2 * PASS_BYTES);
    expect(r.atFreeze.out).toEqual(['model.json']);
    expectCleanInterrupt(r, 'SIGTERM', /^pureneuron: aborted while (reading|learning) /, []);
  });
});

describe('pureneuron generate, interrupted', () => {
  // n = 300 000 × (32 + 32) values, written as raw float64 to .x.f64.<pid>.<hex>.tmp and
  // .y.f64.<pid>.<hex>.tmp in blocks of 16 MiB of x and y together (32 768 rows: 8 MiB of each
  // file, ~50 ms of generation). The signal is handled between blocks (JavaScript cannot run a
  // handler in the middle of synchronous code), so at most the block in progress is finished.
  const GN = 300_000;
  const GEN = ['generate', '--n', String(GN), ...SHAPE, '--out'];
  const X_BYTES = GN * D * 8;
  const BLOCK_X_BYTES = 32_768 * D * 8;
  const X_TEMP = /^\.x\.f64\.\d+\.[0-9a-f]+\.tmp$/;
  const Y_TEMP = /^\.y\.f64\.\d+\.[0-9a-f]+\.tmp$/;

  for (const [sig, label, xBytes] of [
    ['SIGINT', 'after the first block', BLOCK_X_BYTES],
    ['SIGTERM', 'half-way', X_BYTES / 2],
  ] as const) {
    it(`${sig} ${label}: exit ${sig === 'SIGINT' ? 130 : 143}, no sample file (complete or partial) and no temporary file`, async () => {
      const out = join(dir, `gen-${sig}`);
      const r = await interruptAt(
        [...GEN, out], dir, sig, fileReaches(out, X_TEMP, xBytes), () => sizesIn(out),
      );
      // Frozen while both files were being written, with at least two blocks of x to go (so
      // that the block in progress cannot have been the last), nothing committed yet.
      const frozen = r.atFreeze;
      const names = [...frozen.keys()];
      expect(names, `files when frozen: ${JSON.stringify([...frozen])}`).toHaveLength(2);
      const xTemp = names.find((n) => X_TEMP.test(n));
      expect(xTemp, JSON.stringify(names)).toBeDefined();
      expect(names.some((n) => Y_TEMP.test(n)), JSON.stringify(names)).toBe(true);
      expect(frozen.get(xTemp!)!).toBeGreaterThanOrEqual(xBytes);
      expect(frozen.get(xTemp!)!).toBeLessThanOrEqual(X_BYTES - 2 * BLOCK_X_BYTES);

      expectCleanInterrupt(r, sig, /^pureneuron: aborted while writing /);
      // Both temporary files removed, neither destination created (nor meta.json, written last).
      expect(await listDir(out)).toEqual([]);
      console.info(`generate ${sig} ${label}: x at ${frozen.get(xTemp!)} of ${X_BYTES} bytes when frozen; exit ${r.code}; ${r.stderr.trim()}`);
    });
  }
});

describe('atomic writes, abandoned', () => {
  let wdir: string;
  beforeAll(async () => {
    wdir = await makeTempDir('pureneuron-atomic-');
  });
  afterAll(async () => {
    await removeTempDir(wdir);
  });

  it('an abort between writes: ABORTED naming the file, temporary file removed, destination untouched', async () => {
    const dest = join(wdir, 'a.bin');
    await writeFile(dest, 'old');
    const ac = new AbortController();
    const w = await openAtomicWriter(dest, { signal: ac.signal });
    await w.write(new Uint8Array(1000));
    expect(existsSync(w.tempPath)).toBe(true);
    ac.abort(new Error('interrupted by SIGINT'));
    const e = await w.write(new Uint8Array(10)).then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(PureneuronError);
    expect((e as PureneuronError).code).toBe('ABORTED');
    expect((e as Error).message).toMatch(/^aborted while writing .*a\.bin: interrupted by SIGINT; .*a\.bin was not changed$/);
    expect(existsSync(w.tempPath)).toBe(false);
    expect(await listDir(wdir)).toEqual(['a.bin']);
    expect(await readFile(dest, 'utf8')).toBe('old');
  });

  it('an abort before commit: the rename does not happen', async () => {
    const dest = join(wdir, 'b.bin');
    const ac = new AbortController();
    const w = await openAtomicWriter(dest, { signal: ac.signal });
    await w.write(new Uint8Array(64));
    ac.abort();
    await expect(w.commit()).rejects.toMatchObject({ code: 'ABORTED' });
    expect(await listDir(wdir)).not.toContain('b.bin');
    expect((await listDir(wdir)).filter(isTemp)).toEqual([]);
  });

  it('an already aborted signal: nothing is created', async () => {
    await expect(writeFileAtomic(join(wdir, 'c.json'), '{}', { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(await listDir(wdir)).not.toContain('c.json');
    expect((await listDir(wdir)).filter(isTemp)).toEqual([]);
  });

  it('the process-wide signal (what the CLI sets) abandons writers that were given none, e.g. writeRawF64', async () => {
    const ac = new AbortController();
    abortWritesOn(ac.signal);
    try {
      ac.abort(new Error('interrupted by SIGTERM'));
      await expect(writeRawF64(join(wdir, 'x.f64'), new Float64Array(10))).rejects.toMatchObject({ code: 'ABORTED', message: expect.stringMatching(/interrupted by SIGTERM/) });
      expect(await listDir(wdir)).not.toContain('x.f64');
      expect((await listDir(wdir)).filter(isTemp)).toEqual([]);
    } finally {
      abortWritesOn(undefined);
    }
    // Cleared: writes work again.
    await writeRawF64(join(wdir, 'x.f64'), new Float64Array(10));
    expect((await stat(join(wdir, 'x.f64'))).size).toBe(80);
  });

  it('a large write is abandoned mid-way when the signal fires while it runs', async () => {
    // 64 MiB, written in 8 MiB pieces with a look at the signal before each. The signal fires at
    // the writer's first look once the temporary file holds a piece: mid-way by construction,
    // whatever the speed of the disk or the event loop.
    const ac = new AbortController();
    let tempPath = '';
    let writtenAtAbort = -1;
    const signal = new Proxy(ac.signal, {
      get(target, key) {
        if (key === 'aborted' && !target.aborted && tempPath && statSync(tempPath).size >= 8 << 20) {
          writtenAtAbort = statSync(tempPath).size;
          ac.abort();
        }
        const v: unknown = Reflect.get(target, key, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const dest = join(wdir, 'big.bin');
    const w = await openAtomicWriter(dest, { signal });
    tempPath = w.tempPath;
    await expect(w.write(new Uint8Array(64 << 20))).rejects.toMatchObject({ code: 'ABORTED' });
    expect(writtenAtAbort, 'bytes in the temporary file when the signal fired').toBeGreaterThanOrEqual(8 << 20);
    expect(writtenAtAbort).toBeLessThan(64 << 20);
    expect(existsSync(w.tempPath)).toBe(false);
    expect(existsSync(dest)).toBe(false);
  });
});
