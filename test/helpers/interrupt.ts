/**
 * Interrupting the CLI at a known point of its work, whatever the machine's speed.
 *
 * A signal sent after a fixed delay lands wherever the command happens to be (or after it has
 * finished, on a fast machine). Instead: wait for an observable event of the child — a line on
 * its stderr, bytes it has read, a file it is writing —, freeze it with SIGSTOP, look at what it
 * has done while it cannot move (`inspect`), send the signal, and let it go on with SIGCONT. The
 * signal is then pending at exactly the state inspected, and the command cannot finish in
 * between. The only time limit is a hang guard.
 *
 * POSIX only (SIGSTOP/SIGCONT); bytesRead() and the wait for the freeze use /proc on Linux
 * (elsewhere the freeze is confirmed with `ps`).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CLI } from './cli.js';

/** Generous: a child that has not exited this long after its start is killed and reported as hung. */
export const HANG_MS = 60_000;

/** True where bytesRead() works (Linux: /proc/<pid>/io). */
export const HAS_PROC_IO = existsSync('/proc/self/io');

export interface CliExit {
  code: number | null;
  /** Set when the process died of a signal (no handler ran, or the hang guard killed it). */
  killedBy: NodeJS.Signals | null;
  /** True when the hang guard killed it. */
  hung: boolean;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Output so far. */
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves when the process has exited and its output is complete. */
  readonly exited: Promise<CliExit>;
  /** Set once the process has exited. */
  readonly exit: () => CliExit | undefined;
}

/** Starts `node dist/cli.js ...args` in `cwd` (stdout and stderr piped, so stderr is not a TTY). */
export function startCli(args: string[], cwd: string, hangMs = HANG_MS): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not start ${CLI}`);
  let stdout = '';
  let stderr = '';
  let hung = false;
  let result: CliExit | undefined;
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const guard = setTimeout(() => {
    hung = true;
    child.kill('SIGKILL'); // works on a stopped process too
  }, hangMs);
  const exited = new Promise<CliExit>((resolve, reject) => {
    child.on('error', (e) => {
      clearTimeout(guard);
      reject(e);
    });
    child.on('close', (code, killedBy) => {
      clearTimeout(guard);
      result = { code, killedBy, hung, stdout, stderr };
      resolve(result);
    });
  });
  return { child, pid: child.pid, stdout: () => stdout, stderr: () => stderr, exited, exit: () => result };
}

/**
 * Resolves once `ready()` holds, checked every few milliseconds (a poll, not a time limit).
 * Rejects if the process exits first (the event never came: the message says which, with the
 * process's output) or is killed as hung.
 */
export async function waitFor(p: CliProcess, what: string, ready: () => boolean | Promise<boolean>): Promise<void> {
  for (;;) {
    const done = p.exit();
    if (done) {
      throw new Error(`the command exited (code ${done.code}, signal ${done.killedBy}${done.hung ? ', hung' : ''}) before ${what}\nstdout: ${done.stdout}\nstderr: ${done.stderr}`);
    }
    if (await ready()) return;
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Complete lines of `text` (a last line without its newline is still being written). */
export function completeLines(text: string): string[] {
  const lines = text.split('\n');
  lines.pop();
  return lines;
}

/** Waits for a complete stderr line matching `re`. */
export function stderrLine(re: RegExp): Trigger {
  return { what: `a stderr line matching ${re}`, wait: (p) => waitFor(p, `a stderr line matching ${re}`, () => completeLines(p.stderr()).some((s) => re.test(s))) };
}

/** Bytes the process has read so far (all threads; read(), pread() …): `rchar` of /proc/<pid>/io. */
export function bytesRead(pid: number): number {
  const m = /^rchar:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
  if (!m) throw new Error(`no rchar in /proc/${pid}/io`);
  return Number(m[1]);
}

/** Waits until the process has read at least `bytes` bytes (Linux only: HAS_PROC_IO). */
export function readAtLeast(bytes: number): Trigger {
  const what = `${bytes} bytes read`;
  return { what, wait: (p) => waitFor(p, what, () => bytesRead(p.pid) >= bytes) };
}

/** Names and sizes of the files in `dir` (none if it does not exist yet); files that vanish while listed are skipped. */
export async function sizesIn(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (!existsSync(dir)) return out;
  for (const name of (await readdir(dir)).sort()) {
    const st = await stat(join(dir, name)).catch(() => undefined);
    if (st) out.set(name, st.size);
  }
  return out;
}

/** Waits until a file in `dir` whose name matches `re` has at least `bytes` bytes. */
export function fileReaches(dir: string, re: RegExp, bytes: number): Trigger {
  const what = `a file matching ${re} in ${dir} reaching ${bytes} bytes`;
  return {
    what,
    wait: (p) =>
      waitFor(p, what, async () => {
        for (const [name, size] of await sizesIn(dir)) if (re.test(name) && size >= bytes) return true;
        return false;
      }),
  };
}

export interface Trigger {
  what: string;
  wait(p: CliProcess): Promise<void>;
}

/** True when every thread of `pid` is stopped (job-control stop). */
function isStopped(pid: number): boolean {
  if (existsSync(`/proc/${pid}/task`)) {
    const tasks = readdirSync(`/proc/${pid}/task`);
    return tasks.length > 0 && tasks.every((t) => {
      const s = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
      // "pid (comm) S …": the state follows the last ')' (comm may contain spaces or parentheses).
      const state = s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3);
      return state === 'T' || state === 't';
    });
  }
  return execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).trim().startsWith('T');
}

export interface Interrupted<T> extends CliExit {
  /** What `inspect` saw while the process was stopped, just before the signal. */
  atFreeze: T;
}

/**
 * Starts the command, waits for `trigger`, stops the process (SIGSTOP, confirmed: every thread
 * stopped), runs `inspect` while it is stopped, sends `sig`, resumes it (SIGCONT) and waits for
 * its exit. The signal is handled from exactly the state `inspect` saw.
 */
export async function interruptAt<T>(
  args: string[],
  cwd: string,
  sig: NodeJS.Signals,
  trigger: Trigger,
  inspect: (p: CliProcess) => Promise<T> | T,
): Promise<Interrupted<T>> {
  const p = startCli(args, cwd);
  try {
    await trigger.wait(p);
    process.kill(p.pid, 'SIGSTOP');
    await waitFor(p, 'it stopped on SIGSTOP', () => isStopped(p.pid));
    const atFreeze = await inspect(p);
    process.kill(p.pid, sig);
    process.kill(p.pid, 'SIGCONT');
    return { ...(await p.exited), atFreeze };
  } catch (e) {
    // Never leave a stopped or running child behind a failed test.
    if (!p.exit()) p.child.kill('SIGKILL');
    await p.exited.catch(() => undefined);
    throw e;
  }
}
