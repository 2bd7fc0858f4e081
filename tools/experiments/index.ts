/**
 * Reproducible experiments: run a named sweep and write <out>/<sweep>.json (per-seed rows and
 * aggregates), <out>/<sweep>.svg (the plot) and <out>/<sweep>.md (the tables), and optionally
 * splice the tables into a document (docs/experiments.md).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { writeFileAtomic } from '../../src/io/atomic.js';
import { runSweep, type RunOptions } from './harness.js';
import { plotSvg } from './plot.js';
import { splice, sweepMarkdown } from './report.js';
import { sweepByName, SWEEP_NAMES, type SweepName } from './sweeps.js';
import type { SweepResult } from './types.js';

export { runSweep, runSpectral, runBaseline, plant, stat, thin } from './harness.js';
export type { RunOptions, Planted } from './harness.js';
export { trainAdam, randomInit } from './adam.js';
export type { AdamOptions, AdamResult } from './adam.js';
export { plotSpec, plotSvg, renderSvg } from './plot.js';
export { sweepMarkdown, splice } from './report.js';
export { sweepByName, SWEEP_NAMES, VARIANTS } from './sweeps.js';
export type { SweepName } from './sweeps.js';
export type * from './types.js';

export interface WriteOptions {
  /** Output directory (created if missing). */
  out: string;
  /** A markdown document whose generated block for this sweep is replaced (created if missing). */
  doc?: string;
}

/**
 * JSON with the top level and its arrays spread one entry per line, everything deeper inline:
 * compact, and diffs stay readable (one seed's row per line).
 */
export function toJson(value: unknown): string {
  const fmt = (v: unknown, depth: number, indent: string): string => {
    if (depth >= 2 || v === null || typeof v !== 'object') return JSON.stringify(v);
    const inner = indent + '  ';
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      return `[\n${v.map((x) => inner + fmt(x, depth + 1, inner)).join(',\n')}\n${indent}]`;
    }
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${fmt(x, depth + 1, inner)}`).join(',\n')}\n${indent}}`;
  };
  return fmt(value, 0, '') + '\n';
}

/** Writes the JSON, the SVG and the markdown of a result (and splices the document). */
export async function writeResult(result: SweepResult, o: WriteOptions): Promise<string[]> {
  await mkdir(o.out, { recursive: true });
  const files = [join(o.out, `${result.sweep}.json`), join(o.out, `${result.sweep}.svg`), join(o.out, `${result.sweep}.md`)];
  await writeFileAtomic(files[0], toJson(result));
  await writeFileAtomic(files[1], await plotSvg(result));
  await writeFileAtomic(files[2], `# ${result.title}\n\n${sweepMarkdown(result)}`);
  if (o.doc) {
    let rel = relative(dirname(o.doc), o.out).split('\\').join('/');
    if (rel && !rel.endsWith('/')) rel += '/';
    let doc = '';
    try {
      doc = await readFile(o.doc, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      doc = '# Experiments\n';
    }
    await writeFile(o.doc, splice(doc, result.sweep, result.title, sweepMarkdown(result, rel)));
    files.push(o.doc);
  }
  return files;
}

/** Runs a sweep by name and writes its outputs; returns the result and the files written. */
export async function runExperiment(name: SweepName, run: RunOptions, write: WriteOptions): Promise<{ result: SweepResult; files: string[] }> {
  if (!SWEEP_NAMES.includes(name)) throw new RangeError(`unknown sweep "${name}"; sweeps: ${SWEEP_NAMES.join(', ')}`);
  const result = await runSweep(sweepByName(name, run.scale ?? 'full'), run);
  const files = await writeResult(result, write);
  return { result, files };
}

/** Re-renders the SVG and the markdown from an existing <out>/<sweep>.json (no learning). */
export async function rewriteFromJson(name: SweepName, write: WriteOptions): Promise<{ result: SweepResult; files: string[] }> {
  const path = join(write.out, `${name}.json`);
  let result: SweepResult;
  try {
    result = JSON.parse(await readFile(path, 'utf8')) as SweepResult;
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
  if (result?.sweep !== name || !Array.isArray(result.aggregates)) throw new Error(`${path} is not the result of sweep "${name}"`);
  return { result, files: await writeResult(result, write) };
}
