/**
 * The options table: every learn() option's default, the values it allows, its one-line doc and
 * its command-line flag, in one place. learn(), the shard steps, the CLI (whose --help is
 * generated from this table) and the service example all validate through checkOptions(), one
 * code path with one error per kind of mistake:
 *   - an options argument that is not an object: TypeError;
 *   - an unknown option name, or a value the table does not allow: PureneuronError BAD_OPTION.
 * (generate() and compare() keep tables of their own and validate through checkOptions too.)
 */
import { canStartWorkers, cores, memoryBytes } from '../parallel/platform.js';
import { PureneuronError } from '../errors.js';
import type { BackendOption } from '../kernels/select.js';
import type { FitOptions } from '../method/stages.js';
import { checkSpectralFits } from '../method/capacity.js';
import { checkRefineFits } from '../method/refine.js';
import type { Progress } from '../types.js';

/** One option: what it allows, its default, what it does, and its flag on the command line. */
export interface OptionSpec {
  /** The allowed values in words, as messages say them: "<name> must be <allowed>, got …". */
  allowed: string;
  ok: (v: unknown) => boolean;
  /** Used when the option is omitted (or undefined); none: the option is required when `required`. */
  default?: unknown;
  required?: boolean;
  /** One line: what the option does (--help and the README; every learn option has one). */
  doc?: string;
  /**
   * The command-line flag without its dashes, and the placeholder of its argument; no `arg`: a
   * boolean flag that sets the option to `flagValue` (e.g. --no-polish sets polish to false).
   */
  flag?: string;
  arg?: string;
  flagValue?: boolean;
}

export type OptionTable = Readonly<Record<string, OptionSpec>>;

const isInt = (v: unknown, min = -Infinity, max = Infinity): boolean => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const oneOf = (...values: unknown[]) => (v: unknown) => values.includes(v);
const isBool = (v: unknown): boolean => typeof v === 'boolean';
const isSignal = (v: unknown): boolean =>
  typeof v === 'object' && v !== null && typeof (v as AbortSignal).aborted === 'boolean' && typeof (v as AbortSignal).addEventListener === 'function';

/** learn()'s options. The ones marked in FIT_OPTION_KEYS determine the model; the rest only how it is computed. */
export const LEARN_OPTIONS = {
  k: {
    required: true, allowed: "a positive integer or 'auto'", ok: (v) => v === 'auto' || isInt(v, 1),
    doc: "hidden units, 1 ≤ k ≤ min(d, l), or 'auto': the rank of the linear part A·W that stands clear of sampling noise",
    flag: 'k', arg: 'K',
  },
  backend: {
    default: 'auto', allowed: "'auto', 'js' or 'wasm'", ok: oneOf('auto', 'js', 'wasm'),
    doc: "kernels: 'wasm' (SIMD), 'js', or 'auto' (wasm where the engine runs it; $PURENEURON_BACKEND overrides)",
    flag: 'backend', arg: 'B',
  },
  detector: {
    default: 'even', allowed: "'even' or 'literal'", ok: oneOf('even', 'literal'),
    doc: "'even': the detector on the even part of y; 'literal': the paper's form on y",
    flag: 'detector', arg: 'D',
  },
  whitenY: { default: true, allowed: 'true or false', ok: isBool, doc: 'whiten the reduced outputs', flag: 'no-whiten-y', flagValue: false },
  reduceX: {
    default: true, allowed: 'true or false', ok: isBool,
    doc: 'reduce x to the k-dim row space of W before the detector (off: x stays full-dimensional, slower)',
    flag: 'full-x', flagValue: false,
  },
  polish: {
    default: true, allowed: 'true or false', ok: isBool,
    doc: 'Gauss–Newton polish of each pure direction on the non-linearized detector',
    flag: 'no-polish', flagValue: false,
  },
  jennrichPairs: {
    default: 8, allowed: 'an integer in [1, 1000]', ok: (v) => isInt(v, 1, 1000),
    doc: 'random Jennrich pairs tried; the best joint diagonalizer is kept',
    flag: 'jennrich-pairs', arg: 'N',
  },
  seed: { default: 1, allowed: 'an integer', ok: (v) => isInt(v), doc: "seed of the learner's own random choices (the result is deterministic)", flag: 'seed', arg: 'S' },
  weighting: {
    default: 'robust', allowed: "'robust' or 'none'", ok: oneOf('robust', 'none'),
    doc: "'robust': even sample weights ρ(x) that bound far-out samples (the distribution stays symmetric); 'none': plain averages",
    flag: 'weighting', arg: 'W',
  },
  robustScale: {
    default: 1, allowed: 'a positive number', ok: (v) => typeof v === 'number' && v > 0 && Number.isFinite(v),
    doc: 'the c in ρ(x) = 1/(1 + q(x)/(c·d))²; larger is closer to unweighted',
    flag: 'robust-scale', arg: 'C',
  },
  errorEstimate: {
    default: true, allowed: 'true or false', ok: isBool,
    doc: 'estimate the W error from two half-sample fits (no extra pass)',
    flag: 'no-error-estimate', flagValue: false,
  },
  refine: {
    default: 'auto', allowed: "'auto' or an integer in [0, 1000] (passes over all the samples)", ok: (v) => v === 'auto' || isInt(v, 0, 1000),
    doc: "refinement to the least-squares optimum of all the samples: at most N passes over them before pass 3 (0: the spectral estimate alone); 'auto': up to 4, until the steps fall below the statistical error, none when its dense matrix would need more than 1.25 GiB (k·d > 6553)",
    flag: 'refine', arg: 'N',
  },
  refineSamples: {
    default: 'auto', allowed: "a positive integer or 'auto'", ok: (v) => v === 'auto' || isInt(v, 1),
    doc: "rows of the refinement's in-memory subsample (its Gauss–Newton matrix steers the passes over all the samples); 'auto': as many as 16 MiB of x and y hold (at least 8 per weight of W), all of them when they fit",
    flag: 'refine-samples', arg: 'N',
  },
  workers: {
    default: 'auto', allowed: "'auto' or an integer in [0, 256]", ok: (v) => v === 'auto' || isInt(v, 0, 256),
    doc: "worker threads (0: the calling thread only), or 'auto': the available cores when the data span several chunks; any count gives the same model",
    flag: 'workers', arg: 'N',
  },
  chunkRows: {
    default: 'auto', allowed: "a positive integer or 'auto'", ok: (v) => v === 'auto' || isInt(v, 1),
    doc: "samples per chunk read, the unit of work of a worker; 'auto': about 8 MiB of x and y (a power of two in [256, 65536])",
    flag: 'chunk-rows', arg: 'R',
  },
  cacheBytes: {
    default: 'auto', allowed: "a non-negative integer or 'auto'", ok: (v) => v === 'auto' || isInt(v, 0),
    doc: "a source that is not in memory (files) is read once when its samples fit in this many bytes: the first pass keeps them in shared memory for the later ones; 'auto': up to 1 GiB and a quarter of the RAM; 0: every pass reads the source",
    flag: 'cache-bytes', arg: 'B',
  },
  signal: { allowed: 'an AbortSignal', ok: isSignal, doc: 'aborting it stops learn() with PureneuronError ABORTED' },
  onProgress: { allowed: 'a function', ok: (v) => typeof v === 'function', doc: '({ phase, done, total }) => void after every chunk' },
} as const satisfies OptionTable;

export type LearnOptionName = keyof typeof LEARN_OPTIONS;

/**
 * learn()'s options; LEARN_OPTIONS above says what each allows and defaults to (so do
 * `pureneuron learn --help` and the README).
 */
export interface LearnOptions {
  k: number | 'auto';
  backend?: BackendOption;
  detector?: 'even' | 'literal';
  whitenY?: boolean;
  reduceX?: boolean;
  polish?: boolean;
  jennrichPairs?: number;
  seed?: number;
  weighting?: 'robust' | 'none';
  robustScale?: number;
  errorEstimate?: boolean;
  refine?: number | 'auto';
  refineSamples?: number | 'auto';
  workers?: number | 'auto';
  chunkRows?: number | 'auto';
  cacheBytes?: number | 'auto';
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

/** Options with every default filled in. */
export type Resolved = Required<Omit<LearnOptions, 'signal' | 'onProgress'>> & Pick<LearnOptions, 'signal' | 'onProgress'>;

/** The options that determine the model from the pass sums (FitOptions), in the order plans and state files list them. */
export const FIT_OPTION_KEYS = ['k', 'detector', 'whitenY', 'reduceX', 'polish', 'jennrichPairs', 'seed', 'weighting', 'robustScale', 'errorEstimate', 'refine', 'refineSamples'] as const satisfies readonly (keyof FitOptions)[];

export type { FitOptions };

/** Just the FitOptions of a larger (resolved) options object, in FIT_OPTION_KEYS order. */
export function fitOptionsOf(o: FitOptions): FitOptions {
  return Object.fromEntries(FIT_OPTION_KEYS.map((key) => [key, o[key]])) as unknown as FitOptions;
}

/** A value as the user wrote it: strings quoted (so '3' is not mistaken for 3), numbers as they are (NaN stays NaN). */
export const show = (v: unknown): string =>
  typeof v === 'string' ? JSON.stringify(v) : typeof v === 'symbol' || typeof v === 'bigint' ? v.toString() : typeof v === 'function' ? 'a function' : Array.isArray(v) ? `[${v.map(show).join(', ')}]` : String(v);

export interface CheckContext {
  /** Names the function in messages, e.g. "learn()". */
  what: string;
  /** The options of `table` this call accepts (default: all). */
  keys?: readonly string[];
  /** How messages name an option (the CLI names its flag). */
  label?: (key: string) => string;
  /** The required options, for the message when `options` is not an object, e.g. "{ k }". */
  least?: string;
  /** How messages show a value that is not allowed (the CLI shows the text given). */
  shown?: (key: string, v: unknown) => string;
}

/**
 * Validates `options` against `table` (the one code path for every options object) and returns
 * it with the defaults filled in. Unknown names and values the table does not allow throw
 * PureneuronError BAD_OPTION; an `options` that is not an object throws a TypeError. An option
 * given as undefined counts as omitted.
 */
export function checkOptions<T>(table: OptionTable, options: unknown, ctx: CheckContext): T {
  const keys = ctx.keys ?? Object.keys(table);
  const label = ctx.label ?? ((key: string) => key);
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${ctx.what}: options must be an object${ctx.least ? ` with at least ${ctx.least}` : ''}, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`);
  }
  const given = options as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!keys.includes(key)) throw new PureneuronError('BAD_OPTION', `unknown option "${key}" for ${ctx.what}; valid options: ${keys.join(', ')}`);
  }
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const spec = table[key];
    const v = given[key];
    if (v === undefined && !spec.required) {
      if (spec.default !== undefined) out[key] = spec.default;
      continue;
    }
    if (!spec.ok(v)) throw new PureneuronError('BAD_OPTION', `${label(key)} must be ${spec.allowed}, got ${(ctx.shown ?? ((_, x) => show(x)))(key, v)}`);
    out[key] = v;
  }
  return out as T;
}

/** learn()'s options validated (checkOptions over LEARN_OPTIONS) with every default filled in. */
export function resolveLearnOptions(options: LearnOptions, ctx: Partial<CheckContext> = {}): Resolved {
  return checkOptions<Resolved>(LEARN_OPTIONS, options, { what: 'learn()', least: '{ k }', ...ctx });
}

/**
 * Before any pass: k must fit the data, 1 ≤ k ≤ min(d, l) (a RangeError, as for other sizes that
 * do not match the data), its detector and eigenproblem must fit (checkSpectralFits), and a
 * refinement asked for explicitly must fit in memory (checkRefineFits). With k 'auto' these are
 * checked once pass 1 has chosen k, before pass 2.
 */
export function checkFits(o: { k: number | 'auto'; refine: number | 'auto'; reduceX: boolean }, d: number, l: number): void {
  const { k } = o;
  if (k === 'auto') return;
  if (k > Math.min(d, l)) {
    throw new RangeError(`k = ${k} exceeds min(d, l) = ${Math.min(d, l)}: the method needs k ≤ d and k ≤ l; choose k ≤ ${Math.min(d, l)}`);
  }
  checkSpectralFits(k, d, o.reduceX);
  checkRefineFits(o.refine, k, d);
}

/**
 * chunkRows: 'auto' for rows of d + l doubles: the largest power of two with at most 8 MiB per
 * chunk, within [256, 65536]. Memory in flight (a few chunks per worker) then stays bounded
 * whatever the width of the data (a fixed 65536 rows would be 1 GiB per chunk at d + l = 2000);
 * powers of two keep shard boundaries at whole chunks easy (docs/distributed.md).
 */
export function resolveChunkRows(chunkRows: number | 'auto', d: number, l: number): number {
  if (chunkRows !== 'auto') return chunkRows;
  const rows = (8 << 20) / ((d + l) * 8);
  return Math.min(65536, Math.max(256, 2 ** Math.floor(Math.log2(rows))));
}

/** cacheBytes: 'auto' = the smaller of 1 GiB and a quarter of the machine's memory. */
export const resolveCacheBytes = (cacheBytes: number | 'auto'): number => (cacheBytes === 'auto' ? Math.min(2 ** 30, memoryBytes() / 4) : cacheBytes);

/**
 * Worker threads to use: an explicit count, or 'auto' = the available cores when the data span
 * at least two chunks (fewer samples are done before workers would have started), else 0.
 * 0 runs every pass on the calling thread. The result is the same bits either way.
 */
export function resolveWorkers(w: number | 'auto', n: number | undefined, chunkRows: number): number {
  if (w !== 'auto') return w;
  if (!canStartWorkers || (n !== undefined && n <= chunkRows)) return 0;
  return Math.max(1, Math.min(cores(), 64));
}
