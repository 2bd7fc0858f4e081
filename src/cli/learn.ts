/** `pureneuron learn`: learns a network from sample files and writes model.json. */
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PureneuronError } from '../errors.js';
import { learn } from '../api/learn.js';
import { writeFileAtomic } from '../io/atomic.js';
import { fileSource } from '../sources/files.js';
import type { SampleSource } from '../types.js';
import type { Model } from '../api/model.js';
import { choice, intFlag, parse, required, type OptionSpec, type Values } from './args.js';
import type { Io } from './io.js';
import { progressReporter } from './progress.js';

export const learnHelp = `Usage: pureneuron learn --x FILE --y FILE --k K --out model.json [options]

Learns y = A·relu(W·x) from samples (x and y in separate files, row i of one with row i of
the other) and writes the model as JSON.

Options:
  --x FILE, --y FILE     inputs (n×d) and outputs (n×l)
  --format F             f64 | f32 | csv | npy (default: from the file extension)
  --d D, --l L           row lengths of raw binary files; read from a meta.json beside the
                         x file when present (as written by 'pureneuron generate')
  --k K                  number of hidden units, or 'auto' (the rank of the linear part
                         that stands clear of sampling noise)
  --out FILE             where to write the model (JSON)
  --backend B            auto | js | wasm (default auto, or $PURENEURON_BACKEND)
  --detector D           even | literal (default even: the detector on the even part of y)
  --refine N             Gauss–Newton passes refining (A, W) on the squared loss from the
                         spectral estimate, over the first 100000 samples; 0 for the
                         spectral estimate alone; default auto (up to 5 passes, stopping at
                         the noise level; none when k·d > 1024)
  --weighting W          robust | none (default robust: even sample weights that tame
                         heavy tails)
  --no-polish            skip the Gauss–Newton polish of the pure directions
  --full-x               keep x full-dimensional in the detector (slower; for comparison)
  --seed S               seed of the learner's random choices (default 1)
  --workers N            worker threads, or auto (default: the available cores when the
                         data span several chunks); any count gives the same model
  --chunk-rows R         samples per chunk read (default: about 8 MiB of x and y, a power
                         of two between 256 and 65536 rows)
  --quiet                print nothing but errors (no progress, no summary)
`;

/** d and l from DIR/meta.json beside the x file, when it exists and names them. */
export async function sidecarDims(xPath: string): Promise<{ d?: number; l?: number }> {
  try {
    const meta = JSON.parse(await readFile(join(dirname(xPath), 'meta.json'), 'utf8')) as { d?: unknown; l?: unknown };
    return { d: typeof meta.d === 'number' ? meta.d : undefined, l: typeof meta.l === 'number' ? meta.l : undefined };
  } catch {
    return {};
  }
}

/** Fails before any work when the output file's directory is missing (not after a long run). */
export async function checkOutputDir(out: string): Promise<void> {
  const dir = dirname(out);
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new PureneuronError('BAD_FILE', `cannot write ${out}: directory ${dir} does not exist`);
}

/** The flags naming the sample files (learn, plan, accumulate). */
export const SOURCE_FLAGS = {
  x: { type: 'string' },
  y: { type: 'string' },
  format: { type: 'string' },
  d: { type: 'string' },
  l: { type: 'string' },
} as const satisfies OptionSpec;

/** The flags of the options that determine the model (learn, plan, accumulate --pass 1). */
export const FIT_FLAGS = {
  k: { type: 'string' },
  detector: { type: 'string' },
  'no-polish': { type: 'boolean' },
  weighting: { type: 'string' },
  'full-x': { type: 'boolean' },
  seed: { type: 'string' },
  refine: { type: 'string' },
} as const satisfies OptionSpec;

/** The validated values of SOURCE_FLAGS (no file is opened yet). */
export function sourceFlags(v: Values<typeof SOURCE_FLAGS>) {
  return {
    x: required('x', v.x),
    y: required('y', v.y),
    format: choice('format', v.format, ['f64', 'f32', 'csv', 'npy'] as const),
    d: intFlag('d', v.d),
    l: intFlag('l', v.l),
  };
}

/** The file source of sourceFlags(): --d/--l, else from a meta.json beside the x file. */
export async function openSource(f: ReturnType<typeof sourceFlags>): Promise<SampleSource> {
  let { d, l } = f;
  if (d === undefined || l === undefined) {
    const side = await sidecarDims(f.x);
    d ??= side.d;
    l ??= side.l;
  }
  return fileSource({ ...f, d, l });
}

/** learn() options from FIT_FLAGS (--k required). */
export function fitOptionsFromFlags(v: Values<typeof FIT_FLAGS>) {
  return {
    k: v.k === 'auto' ? ('auto' as const) : required('k', intFlag('k', v.k)),
    detector: choice('detector', v.detector, ['even', 'literal'] as const),
    polish: v['no-polish'] ? false : undefined,
    weighting: choice('weighting', v.weighting, ['robust', 'none'] as const),
    reduceX: v['full-x'] ? false : undefined,
    seed: intFlag('seed', v.seed, -(2 ** 31), 2 ** 31 - 1),
    refine: v.refine === 'auto' ? ('auto' as const) : intFlag('refine', v.refine, 0, 1000),
  };
}

export async function learnCommand(argv: string[], io: Io): Promise<void> {
  const { values: v } = parse(argv, {
    ...SOURCE_FLAGS,
    ...FIT_FLAGS,
    out: { type: 'string' },
    backend: { type: 'string' },
    'chunk-rows': { type: 'string' },
    workers: { type: 'string' },
    quiet: { type: 'boolean' },
  });
  if (v.help) return io.out(learnHelp);
  required('x', v.x);
  required('y', v.y);
  required('k', v.k === 'auto' ? 'auto' : intFlag('k', v.k));
  const out = required('out', v.out);
  const files = sourceFlags(v);
  await checkOutputDir(out);
  const source = await openSource(files);
  const progress = progressReporter(v.quiet ? 'quiet' : process.stderr.isTTY ? 'bar' : 'lines', io.err);
  const model: Model = await learn(source, {
    backend: choice('backend', v.backend, ['auto', 'js', 'wasm'] as const),
    ...fitOptionsFromFlags(v),
    chunkRows: intFlag('chunk-rows', v['chunk-rows']),
    workers: v.workers === 'auto' ? 'auto' : intFlag('workers', v.workers, 0, 256),
    signal: io.signal,
    onProgress: (p) => progress.update(p),
  }).then(
    (m) => (progress.stop(true), m),
    (e: unknown) => {
      progress.stop(false);
      throw e;
    },
  );
  await writeFileAtomic(out, JSON.stringify(model.toJSON()) + '\n');
  if (!v.quiet) {
    const dg = model.diagnostics!;
    io.err(`learned k = ${model.k} units from ${dg.n} samples (d = ${model.d}, l = ${model.l}) with the ${model.backend} backend in ${(dg.timings.total / 1000).toFixed(2)} s; wrote ${out}`);
    const est = dg.errorEstimate === undefined ? 'n/a' : dg.errorEstimate.toExponential(2);
    io.err(`estimated W error ${est}; null-space ratio σ_k/σ_k+1 = ${dg.nullSpaceRatio.toExponential(2)}, joint-diagonalization residual ${dg.jointDiagResidual.toExponential(2)}`);
    for (const w of dg.warnings) io.err(`warning: ${w}`);
  }
}
