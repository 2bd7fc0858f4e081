/**
 * Helpers for tests that drive the built CLI (dist/cli.js) as a user would: a child process
 * with its own working directory, and temporary directories that are removed afterwards.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(ROOT, 'dist', 'cli.js');

export interface CliResult {
  /** Exit code (null if killed by a signal). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node dist/cli.js ...args` in `cwd` and collects its output. Never rejects on a
 * non-zero exit: the exit code is part of what the tests check.
 */
export function runCli(args: string[], cwd: string, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

/** Throws with the command's output unless it exited 0; returns the result. */
export async function runCliOk(args: string[], cwd: string): Promise<CliResult> {
  const r = await runCli(args, cwd);
  if (r.code !== 0) {
    throw new Error(`pureneuron ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  return r;
}

/** True when dist/cli.js exists (the test script builds it first: `npm test` runs `npm run build`). */
export function cliBuilt(): boolean {
  return existsSync(CLI);
}

/** A fresh temporary directory; pass it to removeTempDir when done. */
export function makeTempDir(prefix = 'pureneuron-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeTempDir(dir: string | undefined): Promise<void> {
  // Retries: a server the test stopped (Slurm, Redis) may still be writing there as it exits.
  if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
}

/** Names in `dir`, hidden files included, sorted. */
export async function listDir(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

/** A raw little-endian float64 file as a Float64Array (copying, so alignment does not matter). */
export async function readF64(path: string): Promise<Float64Array> {
  const b = await readFile(path);
  const out = new Float64Array(b.length / 8);
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < out.length; i++) out[i] = dv.getFloat64(8 * i, true);
  return out;
}

export async function readJson<T = unknown>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

/**
 * Rows of an n×w row-major matrix as CSV text, every value written with the shortest
 * round-trip representation (String(v)), so parsing it back gives the same float64 bits.
 */
export function toCsv(data: Float64Array, w: number, header?: string[]): string {
  const lines: string[] = [];
  if (header) lines.push(header.join(','));
  for (let r = 0; r < data.length / w; r++) {
    const row: string[] = [];
    for (let c = 0; c < w; c++) row.push(String(data[r * w + c]));
    lines.push(row.join(','));
  }
  return lines.join('\n') + '\n';
}

/** max |a − b| / max |b| over two equal-length arrays (Infinity if the lengths differ). */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return den > 0 ? num / den : num;
}
