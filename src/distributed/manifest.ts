/**
 * A shard manifest: a JSON array of shards in data order, each the options of fileSource —
 * `{ "x": path, "y": path, "format"?, "d"?, "l"? }` (raw files: d and l in the entry or a
 * meta.json beside the x file) or `{ "data": path, "xColumns": SPEC, "yColumns": SPEC, "format"? }`.
 * Relative paths are relative to the manifest's directory; they are made absolute here, since
 * the workers that read them run elsewhere (on a shared disk, the same paths).
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { PureneuronError } from '../errors.js';
import type { FileSourceOptions } from '../sources/files.js';
import { sidecarDims } from '../sources/sidecar.js';

export type ShardSpec = Omit<FileSourceOptions, 'blockBytes'>;

const KEYS = new Set(['x', 'y', 'data', 'xColumns', 'yColumns', 'format', 'd', 'l']);

function bad(message: string): PureneuronError {
  return new PureneuronError('BAD_FILE', message);
}

/** Validates shard entries (from a manifest or the API), paths made absolute against `base`. */
export async function resolveShards(entries: unknown, base: string, where = 'shards'): Promise<ShardSpec[]> {
  if (!Array.isArray(entries) || entries.length === 0) throw bad(`${where} must be a non-empty JSON array of shards ({ "x", "y" } or { "data", "xColumns", "yColumns" })`);
  const out: ShardSpec[] = [];
  for (const [i, e] of entries.entries()) {
    const name = `${where}[${i}]`;
    if (e === null || typeof e !== 'object' || Array.isArray(e)) throw bad(`${name} must be an object such as { "x": "x0.f64", "y": "y0.f64" }`);
    const entry = e as Record<string, unknown>;
    for (const key of Object.keys(entry)) if (!KEYS.has(key)) throw bad(`${name} has an unknown field "${key}"; fields: ${[...KEYS].join(', ')}`);
    const path = (key: string): string | undefined => {
      const v = entry[key];
      if (v === undefined) return undefined;
      if (typeof v !== 'string' || v === '') throw bad(`${name}.${key} must be a file path`);
      return isAbsolute(v) ? v : resolve(base, v);
    };
    const spec = { ...(entry as ShardSpec), x: path('x'), y: path('y'), data: path('data') };
    if (spec.data === undefined && (spec.x === undefined || spec.y === undefined)) throw bad(`${name} needs "x" and "y", or "data" with "xColumns" and "yColumns"`);
    if (spec.x !== undefined && (spec.d === undefined || spec.l === undefined)) {
      const side = await sidecarDims(spec.x);
      spec.d ??= side.d;
      spec.l ??= side.l;
    }
    for (const k of Object.keys(spec) as (keyof ShardSpec)[]) if (spec[k] === undefined) delete spec[k];
    out.push(spec);
  }
  return out;
}

/** The shards of a manifest file. */
export async function readManifest(path: string): Promise<ShardSpec[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw bad(`cannot read the manifest ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw bad(`the manifest ${path} is not valid JSON: ${(e as Error).message}`);
  }
  return resolveShards(json, dirname(resolve(path)), path);
}

/** A shard's name in messages: its index and its file(s). */
export function shardName(shards: readonly ShardSpec[], i: number): string {
  const s = shards[i]!;
  return `shard ${i} (${s.data ?? `${s.x}, ${s.y}`})`;
}
