/**
 * `pureneuron generate`: writes a planted problem to DIR (x.f64, y.f64, truth.json, meta.json).
 *
 * The samples are streamed: generated block by block (generateStream) and appended to both files,
 * so memory is one block whatever n (a 4 GB file needs no 4 GB of RAM) and an interrupt is seen
 * between blocks. The bytes are those of generate()'s arrays, for any block size.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DISTRIBUTIONS, generateStream, type Distribution, type GeneratedStream } from '../api/generate.js';
import { openAtomicWriter, writeFileAtomic, type AtomicWriter } from '../io/atomic.js';
import { littleEndianBytes } from '../io/npy.js';
import { Model } from '../api/model.js';
import { throwIfAborted } from '../errors.js';
import { choice, intFlag, numFlag, parse, required, PROBLEM_FLAGS } from './args.js';
import type { Io } from './io.js';

export const generateHelp = `Usage: pureneuron generate --n N --d D --k K --l L --out DIR [options]

Writes a planted network y = A·relu(W·x) + noise and samples of it:
  DIR/x.f64, DIR/y.f64   raw little-endian float64, row-major (n×d and n×l)
  DIR/truth.json         the planted network {d, k, l, W, A}
  DIR/meta.json          n, d, l, k and the generator settings
The samples are generated and written in blocks (memory does not grow with n); the files
only appear, complete, at the end.

Options:
  --distribution NAME  ${DISTRIBUTIONS.join(' | ')} (default gaussian)
  --n N                number of samples
  --d D, --k K, --l L  input dimension, hidden units, outputs (k ≤ min(d, l))
  --noise S            std of Gaussian noise per output (default 0)
  --seed S             random seed (default 1)
  --cond-w C           condition number of W (default: random unit rows)
  --cond-a C           condition number of A (default: random Gaussian)
  --cond-x C           'correlated': condition number of the input covariance (default 10)
  --components M       'mixture': number of ± pairs of components (default 2)
  --separation S       'mixture': norm of the component means (default 1)
  --df V               'student-t': degrees of freedom (default 3)
  --symmetrize         emit samples as pairs (x, −x): an exactly symmetric sample
  --out DIR            output directory (created if missing)
`;

/** Bytes of x and y together per generated block (16 MiB: ~50 ms of generation at d = l = 32). */
const BLOCK_BYTES = 16 << 20;

/** Rows per block for BLOCK_BYTES of x and y (at least 1). */
export function defaultBlockRows(d: number, l: number): number {
  return Math.max(1, Math.floor(BLOCK_BYTES / (8 * (d + l))));
}

export interface WriteSamplesOptions {
  /** Rows per block (default: defaultBlockRows(d, l)). */
  blockRows?: number;
  /** Checked between blocks; aborting abandons both files (ABORTED, nothing left behind). */
  signal?: AbortSignal;
}

/**
 * Streams the samples of `stream` to raw little-endian float64 files xPath (n×d) and yPath
 * (n×l), each written atomically (temporary file, then rename): x is committed, then y. On any
 * failure or abort both temporary files are removed; a destination is only ever replaced whole.
 */
export async function writeSampleFiles(xPath: string, yPath: string, stream: GeneratedStream, options: WriteSamplesOptions = {}): Promise<void> {
  const { signal } = options;
  const blockRows = options.blockRows ?? defaultBlockRows(stream.d, stream.l);
  const writers: AtomicWriter[] = [];
  try {
    const wx = await openAtomicWriter(xPath, { signal });
    writers.push(wx);
    const wy = await openAtomicWriter(yPath, { signal });
    writers.push(wy);
    for (const b of stream.blocks(blockRows)) {
      // Blocks reuse their buffers: both writes finish before the next block is generated.
      const done = await Promise.allSettled([wx.write(littleEndianBytes(b.x)), wy.write(littleEndianBytes(b.y))]);
      for (const r of done) if (r.status === 'rejected') throw r.reason;
      throwIfAborted(signal, `writing ${xPath} and ${yPath} (stopped after sample ${b.start + b.rows} of ${stream.n}; neither file was changed)`);
    }
    await wx.commit();
    await wy.commit();
  } catch (e) {
    for (const w of writers) await w.abort();
    throw e;
  }
}

export async function generateCommand(argv: string[], io: Io): Promise<void> {
  const { values: v } = parse(argv, {
    ...PROBLEM_FLAGS,
    'cond-w': { type: 'string' },
    'cond-a': { type: 'string' },
    'cond-x': { type: 'string' },
    components: { type: 'string' },
    separation: { type: 'string' },
    df: { type: 'string' },
    symmetrize: { type: 'boolean' },
    out: { type: 'string' },
  });
  if (v.help) return io.out(generateHelp);
  const distribution = choice<Distribution>('distribution', v.distribution, DISTRIBUTIONS) ?? 'gaussian';
  const out = required('out', v.out);
  const opts = {
    distribution,
    n: required('n', intFlag('n', v.n)),
    d: required('d', intFlag('d', v.d)),
    k: required('k', intFlag('k', v.k)),
    l: required('l', intFlag('l', v.l)),
    noise: numFlag('noise', v.noise, 0),
    seed: intFlag('seed', v.seed, -(2 ** 31), 2 ** 31 - 1),
    condW: numFlag('cond-w', v['cond-w'], 1),
    condA: numFlag('cond-a', v['cond-a'], 1),
    condX: numFlag('cond-x', v['cond-x'], 1),
    components: intFlag('components', v.components),
    separation: numFlag('separation', v.separation, 0),
    df: numFlag('df', v.df, 0),
    symmetrize: v.symmetrize,
  };
  const clean = Object.fromEntries(Object.entries(opts).filter(([, x]) => x !== undefined)) as typeof opts;
  const g = generateStream(clean);
  await mkdir(out, { recursive: true });
  await writeSampleFiles(join(out, 'x.f64'), join(out, 'y.f64'), g, { signal: io.signal });
  await writeFileAtomic(join(out, 'truth.json'), JSON.stringify(new Model(g.truth).toJSON()) + '\n');
  const meta = { ...clean, n: g.n, d: g.d, l: g.l, k: g.truth.k, format: 'f64', x: 'x.f64', y: 'y.f64' };
  await writeFileAtomic(join(out, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
  io.err(`wrote ${g.n} samples (d = ${g.d}, l = ${g.l}, k = ${g.truth.k}, ${distribution}) to ${out}/`);
}
