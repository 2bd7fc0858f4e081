/** The flags naming the samples (learn, plan, accumulate) or the inputs alone (predict), and opening them. */
import { fileSource, inputRows } from '../sources/files.js';
import { sidecarDims } from '../sources/sidecar.js';
import type { FileSpec } from '../sources/spec.js';
import type { SampleSource } from '../types.js';
import { choice, intFlag, required, UsageError, type OptionSpec, type Values } from './args.js';

const FORMATS = ['f64', 'f32', 'csv', 'npy', 'parquet', 'arrow'] as const;

export const SOURCE_HELP = `  --x FILE, --y FILE     inputs (n×d) and outputs (n×l), row i of one with row i of the other
  --data FILE            or one file with named columns: Parquet, Arrow IPC / Feather, CSV with a header
  --x-columns SPEC       the columns of --data that make x, e.g. 'x*' or 'a,b,emb' (names and glob
  --y-columns SPEC       patterns, comma-separated, taken in the file's column order; a fixed-size
                         list / array column counts as its elements)
  --format F             f64 | f32 | csv | npy | parquet | arrow (default: from the file extension)
  --d D, --l L           row lengths of raw binary files; read from a meta.json beside the
                         x file when present (as written by 'pureneuron generate')`;

/** The flags naming the sample files. */
export const SOURCE_FLAGS = {
  x: { type: 'string' },
  y: { type: 'string' },
  data: { type: 'string' },
  'x-columns': { type: 'string' },
  'y-columns': { type: 'string' },
  format: { type: 'string' },
  d: { type: 'string' },
  l: { type: 'string' },
} as const satisfies OptionSpec;

type SourceValues = Values<typeof SOURCE_FLAGS>;

/** The validated values of SOURCE_FLAGS (no file is opened yet); `y` false for the inputs alone. */
export function sourceFlags(v: SourceValues, y = true) {
  const common = { format: choice('format', v.format, FORMATS), d: intFlag('d', v.d), l: intFlag('l', v.l) };
  if (v.data !== undefined) {
    if (v.x !== undefined || v.y !== undefined) throw new UsageError('give either --x and --y files or --data with --x-columns and --y-columns, not both');
    return { ...common, data: v.data, xColumns: required('x-columns', v['x-columns']), yColumns: y ? required('y-columns', v['y-columns']) : undefined };
  }
  if (v['x-columns'] !== undefined || v['y-columns'] !== undefined) throw new UsageError('--x-columns and --y-columns choose columns of a --data file; give --data FILE');
  return { ...common, x: required('x', v.x), y: y ? required('y', v.y) : undefined };
}

type SourceFlags = ReturnType<typeof sourceFlags>;

/** --d/--l, else from a meta.json beside the x file. */
async function withDims(f: SourceFlags): Promise<SourceFlags> {
  if (!('x' in f) || (f.d !== undefined && f.l !== undefined)) return f;
  const side = await sidecarDims(f.x);
  return { ...f, d: f.d ?? side.d, l: f.l ?? side.l };
}

/** The file source of sourceFlags(). */
export async function openSource(f: SourceFlags): Promise<SampleSource> {
  return fileSource(await withDims(f));
}

/** The inputs of sourceFlags(v, false), for predictions. */
export async function openInputs(f: SourceFlags): Promise<FileSpec> {
  return inputRows(await withDims(f));
}
