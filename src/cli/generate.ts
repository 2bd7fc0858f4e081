/** `pureneuron generate`: writes a planted problem to DIR (x.f64, y.f64, truth.json, meta.json). */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DISTRIBUTIONS, generate, type Distribution } from '../generate.js';
import { writeFileAtomic } from '../io/atomic.js';
import { writeRawF64 } from '../io/raw.js';
import { Model } from '../model.js';
import { choice, intFlag, numFlag, parse, required, PROBLEM_FLAGS } from './args.js';
import type { Io } from './io.js';

export const generateHelp = `Usage: pureneuron generate --n N --d D --k K --l L --out DIR [options]

Writes a planted network y = A·relu(W·x) + noise and samples of it:
  DIR/x.f64, DIR/y.f64   raw little-endian float64, row-major (n×d and n×l)
  DIR/truth.json         the planted network {d, k, l, W, A}
  DIR/meta.json          n, d, l, k and the generator settings

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
  const g = generate(clean);
  await mkdir(out, { recursive: true });
  await writeRawF64(join(out, 'x.f64'), g.x);
  await writeRawF64(join(out, 'y.f64'), g.y);
  await writeFileAtomic(join(out, 'truth.json'), JSON.stringify(new Model(g.truth).toJSON()) + '\n');
  const meta = { ...clean, n: g.n, d: g.d, l: g.l, k: g.truth.k, format: 'f64', x: 'x.f64', y: 'y.f64' };
  await writeFileAtomic(join(out, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
  io.err(`wrote ${g.n} samples (d = ${g.d}, l = ${g.l}, k = ${g.truth.k}, ${distribution}) to ${out}/`);
}
