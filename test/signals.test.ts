/**
 * The CLI under interruption, as a user meets it: Ctrl-C (SIGINT) or a `kill` (SIGTERM) while
 * `pureneuron learn` or `pureneuron generate` is working. What must hold:
 *
 *   - the process exits soon after the signal (learn() checks its abort signal between chunks,
 *     and at most one chunk of work is in flight per worker), with the status shells use for a
 *     signal: 128 + its number, 130 for SIGINT and 143 for SIGTERM;
 *   - stderr carries exactly one "pureneuron: …" line saying what was interrupted, and no stack
 *     trace;
 *   - nothing is left behind: no model.json, no x.f64/y.f64 (complete or partial), and no
 *     temporary file of the atomic writer.
 *
 * The atomic writer's abort path is also tested directly (in-process), since which file a
 * signal lands in during `generate` depends on timing.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PureneuronError } from '../src/errors.js';
import { abortWritesOn, openAtomicWriter, writeFileAtomic } from '../src/io/atomic.js';
import { writeRawF64 } from '../src/io/raw.js';
import { cliBuilt, CLI, listDir, makeTempDir, removeTempDir, runCliOk } from './helpers/cli.js';

/**
 * Samples for the learn runs: large enough that learn takes a few seconds (about 4 s with the
 * wasm backend on 2 cores; the test checks it was still running when the signal was sent).
 */
const N = 600_000;
const SHAPE = ['--d', '32', '--k', '16', '--l', '32'];

/** Time from the spawn to the signal: node has loaded the CLI, which is inside its first pass. */
const SIGNAL_AFTER_MS = 500;

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

interface Interrupted {
  code: number | null;
  /** Set when the process died of the signal itself (no handler ran). */
  killedBy: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** ms from sending the signal to the process exiting. */
  exitMs: number;
  /** True if the process had already exited when the signal was due. */
  finishedEarly: boolean;
}

/** Runs `node dist/cli.js ...args` in `cwd`, sends `sig` after `afterMs`, and waits for the exit. */
function interruptOnce(args: string[], cwd: string, sig: NodeJS.Signals, afterMs: number): Promise<Interrupted> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let exited = false;
    let sentAt = 0;
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    const timer = setTimeout(() => {
      if (exited) return;
      sentAt = performance.now();
      child.kill(sig);
    }, afterMs);
    // Never let a stuck child outlive the test.
    const guard = setTimeout(() => child.kill('SIGKILL'), afterMs + 60_000);
    child.on('exit', () => (exited = true));
    child.on('close', (code, killedBy) => {
      clearTimeout(timer);
      clearTimeout(guard);
      resolve({ code, killedBy, stdout, stderr, exitMs: sentAt ? performance.now() - sentAt : 0, finishedEarly: sentAt === 0 });
    });
  });
}

/**
 * interruptOnce, retried with a later signal while the signal arrived before the CLI had
 * installed its handlers (while node was still loading the bundle, ~0.15 s idle but longer
 * on a loaded machine). Then the process simply dies of the signal — correct, since nothing
 * has been written yet, and `leftovers()` must confirm that — but it does not test the
 * handling, so the run is repeated.
 */
async function interrupt(args: string[], cwd: string, sig: NodeJS.Signals, afterMs: number, leftovers: () => Promise<string[]>): Promise<Interrupted> {
  let r: Interrupted | undefined;
  for (let attempt = 0; attempt < 4; attempt++) {
    r = await interruptOnce(args, cwd, sig, afterMs + 400 * attempt);
    if (!(r.killedBy === sig && r.stdout === '' && r.stderr === '')) return r;
    expect(await leftovers(), 'files left by a process killed during startup').toEqual([]);
  }
  return r!;
}

/** Names in `path` (hidden files included), or none if it does not exist. */
async function namesIn(path: string): Promise<string[]> {
  return existsSync(path) ? listDir(path) : [];
}

/** The expectations every interrupted command shares. */
function expectCleanInterrupt(r: Interrupted, sig: NodeJS.Signals, what: RegExp, maxExitMs: number): void {
  const report = `exit ${r.code} (signal ${r.killedBy}) after ${r.exitMs.toFixed(0)} ms\nstderr: ${r.stderr}`;
  expect(r.finishedEarly, `the command finished before the signal was due; make the problem larger\n${report}`).toBe(false);
  expect(r.killedBy, `died of the signal without handling it\n${report}`).toBeNull();
  expect(r.code, report).toBe(sig === 'SIGINT' ? 130 : 143);
  expect(r.exitMs, `slow to exit\n${report}`).toBeLessThan(maxExitMs);
  expect(r.stdout).toBe('');
  const lines = r.stderr.split('\n').filter((s) => s !== '');
  const ours = lines.filter((s) => s.startsWith('pureneuron:'));
  expect(ours, report).toHaveLength(1);
  expect(ours[0], report).toMatch(what);
  expect(ours[0], report).toContain(`interrupted by ${sig}`);
  expect(r.stderr, `stack trace on stderr\n${report}`).not.toMatch(/^\s+at .+[(:]\d+/m);
  expect(r.stderr, report).not.toMatch(/unexpected error|Error:/);
}

/** Temporary files of the atomic writer: ".<name>.<pid>.<hex>.tmp". */
const isTemp = (name: string): boolean => /^\..*\.tmp$/.test(name);

describe('pureneuron learn, interrupted', () => {
  for (const [sig, afterMs] of [
    ['SIGINT', SIGNAL_AFTER_MS],
    ['SIGTERM', SIGNAL_AFTER_MS],
    ['SIGINT', 1800],
  ] as const) {
    it(`${sig} after ${afterMs} ms: exits promptly with ${sig === 'SIGINT' ? 130 : 143}, one error line, no model and no temporary file`, async () => {
      const out = join(dir, `out-${sig}-${afterMs}`);
      await mkdir(out);
      const before = await listDir(data);
      const r = await interrupt(['learn', '--x', 'data/x.f64', '--y', 'data/y.f64', '--k', '16', '--out', join(out, 'model.json')], dir, sig, afterMs, () => namesIn(out));
      expectCleanInterrupt(r, sig, /^pureneuron: aborted while /, 2000);
      expect(await listDir(out), 'files left in the output directory').toEqual([]);
      expect(await listDir(data), 'files added beside the samples').toEqual(before);
      console.info(`learn ${sig} at ${afterMs} ms: exit ${r.code} ${r.exitMs.toFixed(0)} ms after the signal`);
    });
  }

  it('a model.json already there survives an interrupted learn unchanged', async () => {
    const out = join(dir, 'out-existing');
    await mkdir(out);
    const model = join(out, 'model.json');
    await writeFile(model, '{"old": true}\n');
    const r = await interrupt(['learn', '--x', 'data/x.f64', '--y', 'data/y.f64', '--k', '16', '--out', model, '--quiet'], dir, 'SIGINT', SIGNAL_AFTER_MS, async () =>
      (await namesIn(out)).filter((n) => n !== 'model.json'),
    );
    expectCleanInterrupt(r, 'SIGINT', /^pureneuron: aborted while /, 2000);
    expect(await listDir(out)).toEqual(['model.json']);
    expect(await readFile(model, 'utf8')).toBe('{"old": true}\n');
  });
});

describe('pureneuron generate, interrupted', () => {
  // n = 300 000 × (32 + 32) values, about 0.7 s in all. Samples are generated and written in
  // blocks of 16 MiB (~50 ms of generation each); the signal is handled between blocks
  // (JavaScript cannot run a handler in the middle of synchronous code), so the exit comes
  // within about a block's time after it. On a fast machine the later signals find the command
  // done (then everything must have been written).
  const GEN = ['generate', '--n', '300000', ...SHAPE, '--out'];

  for (const afterMs of [SIGNAL_AFTER_MS, 1000, 1300]) {
    it(`SIGINT after ${afterMs} ms: exit 130 and no sample file, complete or partial, nor temporary file`, async () => {
      const out = `gen-${afterMs}`;
      const r = await interrupt([...GEN, out], dir, 'SIGINT', afterMs, () => namesIn(join(dir, out)));
      if (r.finishedEarly || r.code === 0) {
        // The run beat the signal (fast machine): then it must have written everything.
        expect(r.code, r.stderr).toBe(0);
        expect(await listDir(join(dir, out))).toEqual(['meta.json', 'truth.json', 'x.f64', 'y.f64']);
        return;
      }
      // Bounded by one block of generation and writing (see above), far less than 1 s idle, more under load.
      expectCleanInterrupt(r, 'SIGINT', /^pureneuron: aborted while writing /, 5000);
      const names = existsSync(join(dir, out)) ? await readdir(join(dir, out)) : [];
      expect(names.filter(isTemp), 'temporary files left').toEqual([]);
      // A file that is there was committed whole (atomic writes): x and y have their full size.
      for (const [name, width] of [['x.f64', 32], ['y.f64', 32]] as const) {
        if (names.includes(name)) expect((await stat(join(dir, out, name))).size).toBe(300_000 * width * 8);
      }
      // meta.json, which readers use to find d and l, is written last: never present after an interrupt.
      expect(names).not.toContain('meta.json');
      console.info(`generate SIGINT at ${afterMs} ms: exit ${r.code} ${r.exitMs.toFixed(0)} ms after the signal; left ${JSON.stringify(names)}`);
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
    const ac = new AbortController();
    const dest = join(wdir, 'big.bin');
    const w = await openAtomicWriter(dest, { signal: ac.signal });
    // 64 MiB in 8 MiB pieces: the abort lands between pieces.
    const pending = w.write(new Uint8Array(64 << 20));
    setImmediate(() => ac.abort());
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
    expect(existsSync(w.tempPath)).toBe(false);
    expect(existsSync(dest)).toBe(false);
  });
});
