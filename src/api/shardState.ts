/**
 * Shard states: what the shard steps (shard.ts) hand each other between processes — the sums
 * of one pass (and the merged sums of the passes before it), the plan's options and weighting,
 * and W once it is fixed — and their files (the byte container is io/stateFile.ts), written by
 * `pureneuron plan / accumulate / merge` and read by `accumulate`, `merge` and `finish` (docs/distributed.md).
 *
 * The header (StateHeader) says which pass the state is of, d and l, the learn options that
 * determine the model, the chunk size, the robust weighting's constant c (and the number of
 * samples its scales come from), the passes whose sums it carries (each with its sample count
 * and its fields: name and length, or no length for a scalar; the pass modules in passes/ name
 * them), whether the first layer W is included (pass 3, or a refined pass 2), and `basis`: the
 * fingerprint of the state this one was built on. The payload holds, in order: the d weighting
 * scales (when the weighting is robust), every pass's fields in header order, then W (k×d
 * row-major). Reading checks everything (container, header schema, options) and reports any
 * problem as PureneuronError BAD_FILE naming the file.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { PureneuronError } from '../errors.js';
import { writeFileAtomic, type AtomicWriteOptions } from '../io/atomic.js';
import { encodeStateBytes, openStateBytes, STATE_FORMAT_VERSION } from '../io/stateFile.js';
import type { Weighting } from '../method/weights.js';
import type { PassState } from '../passes/state.js';
import { checkOptions, FIT_OPTION_KEYS, fitOptionsOf, LEARN_OPTIONS, type FitOptions } from './options.js';

export { STATE_FORMAT_VERSION } from '../io/stateFile.js';

/** The sums of one pass, merged over every part that contributed. */
export interface PassSums {
  /** Samples summed. */
  rows: number;
  /** The pass's sums (a PassState of passes/: arrays and scalars). */
  state: PassState;
  /** Parts merged into these sums (1 for a single accumulate). Informational. */
  parts: number;
  /** Milliseconds the pass took, summed over the parts (work, not wall time). Informational. */
  ms: number;
  /** Most worker threads any part used. Informational. */
  workers: number;
}

/**
 * A shard state in memory. `pass` 0 is a plan (options and weighting, no sums); a pass-p state
 * (p = 1, 2, 3) carries the sums of passes 1…p in order, with the refinement's passes over all
 * the samples (`refinePasses` of them) between pass 2 and pass 3: the last entry of `passes` is
 * the state's own (a part's, or several parts' merged), the others the merged sums it was built
 * on. A pass-2 state with refinePasses > 0 is a refinement state: its own sums are the last
 * refinement pass's.
 */
export interface ShardState {
  pass: 0 | 1 | 2 | 3;
  d: number;
  l: number;
  /** The options that determine the model (k may still be 'auto'). */
  options: FitOptions;
  /** Samples per chunk: the plan's weighting scales come from the first chunk, and the sums' rounding depends on it. */
  chunkRows: number;
  /**
   * The robust weighting, or null for weighting 'none': the per-coordinate scales, the c, and
   * `rows`, the number of samples the scales were taken from (the first chunk of the first
   * shard: chunkRows, or fewer when that shard is shorter).
   */
  weighting: (Weighting & { rows: number }) | null;
  passes: PassSums[];
  /** The refinement's passes over all the samples among `passes` (after pass 2). */
  refinePasses: number;
  /** Pass 3: the first layer the pass-3 sums were taken at (k×d row-major, k = W.length / d); null before. */
  W: Float64Array | null;
  /** Fingerprint (SHA-256, hex) of the state this one was built on (see fingerprint()); null for a plan. */
  basis: string | null;
  /** Where the state was read from, for messages (not written to files). */
  source?: string;
}

/** The header JSON as written. */
interface StateHeader {
  format: 'pureneuron-state';
  version: number;
  pass: number;
  d: number;
  l: number;
  options: FitOptions;
  chunkRows: number;
  /** c of the robust weighting and the samples its scales come from (its d scales open the payload), or null. */
  weighting: { c: number; rows: number } | null;
  passes: { pass: number; rows: number; parts: number; ms: number; workers: number; fields: { name: string; length?: number }[] }[];
  refinePasses: number;
  /** [k, d] when W follows the sums in the payload. */
  W: [number, number] | null;
  basis: string | null;
}

// ------------------------------------------------------------------------------------------
// Fingerprints

/**
 * SHA-256 (hex) of what determines everything built on a state: d, l, the options, the
 * weighting, and the sums (sample counts and every field, by name in sorted order, as float64
 * bytes) of its first `passes` passes (default: all it has). Informational fields (parts, ms,
 * workers) and the chunk size are left out. A state built on S records fingerprint(S) as its
 * `basis`; parts built on different states (or options) cannot be merged.
 */
export function fingerprint(s: ShardState, passes = s.passes.length): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ pass: passes, d: s.d, l: s.l, options: fitOptionsOf(s.options), c: s.weighting?.c ?? null }));
  if (s.weighting) h.update(f64Bytes(s.weighting.scales));
  for (let p = 0; p < passes; p++) {
    const { rows, state } = s.passes[p];
    h.update(`|pass${p + 1}:${rows}`);
    for (const name of Object.keys(state).sort()) {
      const v = state[name];
      h.update(`|${name}:`);
      h.update(f64Bytes(typeof v === 'number' ? Float64Array.of(v) : v));
    }
  }
  return h.digest('hex');
}

function f64Bytes(a: Float64Array): Uint8Array {
  const out = new Uint8Array(a.length * 8);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) dv.setFloat64(8 * i, a[i], true);
  return out;
}

// ------------------------------------------------------------------------------------------
// Encoding

/** The bytes of a state file (io/stateFile.ts): the header below, then the arrays it lists. */
export function encodeState(s: ShardState): Uint8Array {
  const arrays: Float64Array[] = [];
  if (s.weighting) arrays.push(s.weighting.scales);
  const passes = s.passes.map((p, i) => {
    const fields = Object.entries(p.state).map(([name, v]) => {
      arrays.push(typeof v === 'number' ? Float64Array.of(v) : v);
      return typeof v === 'number' ? { name } : { name, length: v.length };
    });
    return { pass: i + 1, rows: p.rows, parts: p.parts, ms: p.ms, workers: p.workers, fields };
  });
  if (s.W) arrays.push(s.W);
  const header: StateHeader = {
    format: 'pureneuron-state',
    version: STATE_FORMAT_VERSION,
    pass: s.pass,
    d: s.d,
    l: s.l,
    options: fitOptionsOf(s.options),
    chunkRows: s.chunkRows,
    weighting: s.weighting ? { c: s.weighting.c, rows: s.weighting.rows } : null,
    passes,
    refinePasses: s.refinePasses,
    W: s.W ? [s.W.length / s.d, s.d] : null,
    basis: s.basis,
  };
  return encodeStateBytes(header, arrays);
}

/** Writes a state file atomically (temporary file, fsync, rename). */
export async function writeStateFile(path: string, s: ShardState, options: AtomicWriteOptions = {}): Promise<void> {
  await writeFileAtomic(path, encodeState(s), options);
}

// ------------------------------------------------------------------------------------------
// Decoding

/** Reads and validates a state file; BAD_FILE on any problem. */
export async function readStateFile(path: string): Promise<ShardState> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new PureneuronError('BAD_FILE', `cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message}`);
  }
  return decodeState(bytes, path);
}

/** Parses and validates the bytes of a state file; `name` (the path) is used in messages. */
export function decodeState(bytes: Uint8Array, name = 'state file'): ShardState {
  const bad = (msg: string): never => {
    throw new PureneuronError('BAD_FILE', `${name}: ${msg}`);
  };
  const file = openStateBytes(bytes, bad);
  const h = checkHeader(file.header, bad);
  const m = (h.weighting ? h.d : 0) + h.passes.reduce((t, p) => t + p.fields.reduce((u, f) => u + (f.length ?? 1), 0), 0) + (h.W ? h.W[0] * h.W[1] : 0);
  const take = file.payload(m);
  const weighting = h.weighting ? { scales: take(h.d), c: h.weighting.c, rows: h.weighting.rows } : null;
  const passes: PassSums[] = h.passes.map((p) => {
    const state: PassState = {};
    for (const f of p.fields) state[f.name] = f.length === undefined ? take(1)[0] : take(f.length);
    return { rows: p.rows, state, parts: p.parts, ms: p.ms, workers: p.workers };
  });
  const W = h.W ? take(h.W[0] * h.W[1]) : null;
  if (weighting && !weighting.scales.every((v) => Number.isFinite(v) && v >= 0)) bad('the weighting scales must be finite and ≥ 0');
  for (const [i, p] of passes.entries()) {
    for (const [key, v] of Object.entries(p.state)) {
      if (!(typeof v === 'number' ? Number.isFinite(v) : v.every(Number.isFinite))) bad(`pass-${i + 1} sum "${key}" holds a non-finite value`);
    }
  }
  if (W && !W.every(Number.isFinite)) bad('W holds a non-finite value');
  return { pass: h.pass as ShardState['pass'], d: h.d, l: h.l, options: h.options, chunkRows: h.chunkRows, weighting, passes, refinePasses: h.refinePasses, W, basis: h.basis, source: name };
}

const isInt = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The header's schema; `bad` throws. Returns the header typed. */
function checkHeader(h: unknown, bad: (msg: string) => never): StateHeader {
  if (!isObject(h)) bad('the header is not a JSON object');
  const j = h as Record<string, unknown>;
  if (j.format !== 'pureneuron-state') bad(`header "format" is ${JSON.stringify(j.format)}, expected "pureneuron-state"`);
  if (j.version !== STATE_FORMAT_VERSION) bad(`header "version" is ${JSON.stringify(j.version)}, expected ${STATE_FORMAT_VERSION}`);
  if (!isInt(j.pass, 0) || (j.pass as number) > 3) bad(`header "pass" must be 0, 1, 2 or 3, got ${JSON.stringify(j.pass)}`);
  for (const key of ['d', 'l', 'chunkRows'] as const) if (!isInt(j[key], 1)) bad(`header "${key}" must be a positive integer, got ${JSON.stringify(j[key])}`);
  const pass = j.pass as number;
  const d = j.d as number;
  const l = j.l as number;

  // Options: exactly the fit options, each valid (learn()'s own checks).
  if (!isObject(j.options)) bad('header "options" must be an object');
  const opts = j.options as Record<string, unknown>;
  const keys = Object.keys(opts);
  const missing = FIT_OPTION_KEYS.filter((key) => !(key in opts));
  const extra = keys.filter((key) => !(FIT_OPTION_KEYS as readonly string[]).includes(key));
  if (missing.length || extra.length) bad(`header "options" must have exactly ${FIT_OPTION_KEYS.join(', ')}${missing.length ? `; missing ${missing.join(', ')}` : ''}${extra.length ? `; unknown ${extra.join(', ')}` : ''}`);
  try {
    checkOptions(LEARN_OPTIONS, opts, { what: 'a state file', keys: FIT_OPTION_KEYS });
  } catch (e) {
    bad(`invalid options: ${(e as Error).message}`);
  }
  if (opts.k !== 'auto' && (opts.k as number) > Math.min(d, l)) bad(`k = ${String(opts.k)} exceeds min(d, l) = ${Math.min(d, l)}`);

  if (j.weighting !== null) {
    if (!isObject(j.weighting) || typeof j.weighting.c !== 'number' || !(j.weighting.c > 0) || !Number.isFinite(j.weighting.c) || !isInt(j.weighting.rows, 1)) {
      bad('header "weighting" must be null or {"c": a positive number, "rows": a positive integer}');
    }
  }
  if ((j.weighting === null) !== (opts.weighting === 'none')) bad(`header "weighting" must be ${opts.weighting === 'none' ? 'null for weighting "none"' : 'present for weighting "robust"'}`);
  if (j.weighting !== null && (j.weighting as { c: number }).c !== opts.robustScale) bad('header "weighting".c differs from the robustScale option');

  if (!isInt(j.refinePasses, 0) || (pass < 2 && j.refinePasses !== 0)) bad('header "refinePasses" must be an integer ≥ 0, and 0 before pass 2');
  const refinePasses = j.refinePasses as number;
  if (!Array.isArray(j.passes) || j.passes.length !== pass + refinePasses) bad(`header "passes" must list the sums of passes 1 to ${pass}${refinePasses ? ` and ${refinePasses} refinement pass(es)` : ''}`);
  (j.passes as unknown[]).forEach((p, i) => {
    const where = `header "passes"[${i}]`;
    if (!isObject(p)) bad(`${where} must be an object`);
    const q = p as Record<string, unknown>;
    if (q.pass !== i + 1) bad(`${where}.pass must be ${i + 1}`);
    if (!isInt(q.rows, 1)) bad(`${where}.rows must be a positive integer`);
    if (!isInt(q.parts, 1)) bad(`${where}.parts must be a positive integer`);
    if (!isInt(q.workers, 0)) bad(`${where}.workers must be an integer ≥ 0`);
    if (typeof q.ms !== 'number' || !(q.ms >= 0)) bad(`${where}.ms must be a number ≥ 0`);
    if (!Array.isArray(q.fields) || q.fields.length === 0) bad(`${where}.fields must be a non-empty array`);
    const seen = new Set<string>();
    for (const f of q.fields as unknown[]) {
      if (!isObject(f) || typeof f.name !== 'string' || f.name === '' || seen.has(f.name)) bad(`${where}.fields: every field needs a distinct, non-empty "name"`);
      if (f.length !== undefined && !isInt(f.length, 0)) bad(`${where}.fields: "${String(f.name)}".length must be an integer ≥ 0`);
      seen.add(f.name as string);
    }
  });
  if (pass === 3) {
    const W = j.W;
    if (!Array.isArray(W) || W.length !== 2 || !isInt(W[0], 1) || W[1] !== d || (W[0] as number) > Math.min(d, l)) bad(`header "W" must be [k, d] with 1 ≤ k ≤ min(d, l) and d = ${d} for a pass-3 state`);
  } else if (j.W !== null) bad('header "W" must be null before pass 3');
  if (pass === 0 ? j.basis !== null : typeof j.basis !== 'string' || !/^[0-9a-f]{64}$/.test(j.basis)) bad(`header "basis" must be ${pass === 0 ? 'null for a plan' : 'a SHA-256 in hex'}`);
  return j as unknown as StateHeader;
}
