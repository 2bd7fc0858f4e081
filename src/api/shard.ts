/**
 * Learning across processes and machines: every pass is a sum over samples, so each shard of
 * the data can be accumulated separately (accumulateShard), the parts added (mergeStates), and
 * the model built from the merged sums (finishShards) by the same stage functions learn() uses
 * (method/stages.ts). The states travel as files (shardState.ts); docs/distributed.md has the worked
 * example.
 *
 *   planShards(first shard, options)                  → plan (pass 0): options, weighting scales
 *   accumulateShard(shard, { pass: 1, state: plan })  → pass-1 part ─┐ mergeStates → pass-1 state
 *   accumulateShard(shard, { pass: 2, state: p1 })    → pass-2 part ─┐ mergeStates → pass-2 state
 *   accumulateShard(shard, { pass: 3, state: p2 })    → pass-3 part ─┐ mergeStates → pass-3 state
 *   finishShards(pass-3 state)                        → Model (as learn() returns)
 *
 * Equality with learn(): the robust weights use per-coordinate scales from the first chunk of
 * the data; the plan takes them from the first chunk of the FIRST shard, so every shard
 * weights its samples as the single run does. Pass 2 and 3 recompute the single run's
 * detector plan and W from the merged previous-pass sums, deterministically, on every shard.
 * The merged sums then differ from the single run's only in the association of the additions
 * (the single run folds chunk sums left to right; mergeStates folds the parts' sums left to
 * right): the model agrees to rounding, and bit for bit when the first shard holds a multiple
 * of chunkRows samples and every later shard one chunk (chunkRows samples, the last one at most).
 */
import { PureneuronError } from '../errors.js';
import { getKernels } from '../kernels/select.js';
import { jsKernels } from '../kernels/js/index.js';
import type { Kernels } from '../kernels/types.js';
import { fitDiagnostics } from '../method/diagnostics.js';
import { refine, refinePlan } from '../method/refine.js';
import { afterPass1, afterPass2, estimateError, secondLayerOf, type Stage1 } from '../method/stages.js';
import { weightingFromSource } from '../method/weights.js';
import { PASSES, type JobKind, type PassParams } from '../passes/jobs.js';
import { copyState, fieldMismatch, mergeState, type PassState } from '../passes/state.js';
import { releasePool, sharedPool } from '../parallel/pool.js';
import { PassRunner, runnerOptions } from '../parallel/runner.js';
import { toSampleSource } from '../sources/index.js';
import type { ArrayInput, Progress, SampleSource } from '../types.js';
import { Model } from './model.js';
import {
  checkKFits, checkOptions, FIT_OPTION_KEYS, fitOptionsOf, LEARN_OPTIONS, resolveChunkRows, resolveWorkers, type LearnOptions, type OptionTable, type Resolved,
} from './options.js';
import { fingerprint, type PassSums, type ShardState } from './shardState.js';

export type { PassSums, ShardState } from './shardState.js';

/** Options of planShards: the learn options that determine the model, and the chunk size. */
export type PlanOptions = Pick<LearnOptions, (typeof FIT_OPTION_KEYS)[number] | 'chunkRows' | 'signal'>;

/** How accumulate / refine / finish run: none of these change the result. */
export interface RunOptions {
  backend?: LearnOptions['backend'];
  /** Worker threads, or 'auto' (as learn()). */
  workers?: number | 'auto';
  /** Samples per chunk (default: the state's). Equality with a single run needs the same chunkRows. */
  chunkRows?: number | 'auto';
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

export interface AccumulateOptions extends RunOptions {
  pass: 1 | 2 | 3;
  /**
   * Pass 1: a plan (planShards); without one, `options` must be given and the shard plans
   * itself (its weighting scales then come from its own first chunk: fine for one shard or
   * weighting 'none', refused by mergeStates when the parts' scales differ). Pass 2 and 3: the
   * merged state of the previous pass.
   */
  state?: ShardState;
  /** Pass 1 without a plan: the learn options (as planShards takes them). */
  options?: PlanOptions;
}

const PLAN_KEYS = [...FIT_OPTION_KEYS, 'chunkRows', 'signal'] as const;
const RUN_KEYS = ['backend', 'workers', 'chunkRows', 'signal', 'onProgress'] as const;
const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The shard steps' own options beside LEARN_OPTIONS' run options (chunkRows defaults to the state's). */
const SHARD_OPTIONS: OptionTable = {
  ...LEARN_OPTIONS,
  chunkRows: { ...LEARN_OPTIONS.chunkRows, default: undefined },
  pass: { required: true, allowed: '1, 2 or 3', ok: (v) => v === 1 || v === 2 || v === 3 },
  state: { allowed: 'a shard state', ok: isObject },
  options: { allowed: 'an object of learn options', ok: isObject },
};

/**
 * The plan every pass-1 shard starts from: the options (validated as learn() does) and, with
 * robust weighting, the per-coordinate scales from the first WEIGHTING_ROWS (8192) samples of
 * `input` — which must be the first shard, so that the scales are those a single run would use.
 */
export async function planShards(input: ArrayInput | SampleSource, options: PlanOptions): Promise<ShardState> {
  const o = checkOptions<Resolved>(LEARN_OPTIONS, options, { what: 'planShards()', keys: PLAN_KEYS, least: '{ k }' });
  const source = toSampleSource(input, { checkValues: false });
  const { d, l } = source;
  checkKFits(o.k, d, l);
  const weighting: ShardState['weighting'] = o.weighting === 'robust' ? await weightingFromSource(source, o.robustScale, o.signal) : null;
  return { pass: 0, d, l, options: fitOptionsOf(o), chunkRows: resolveChunkRows(o.chunkRows, d, l), weighting, passes: [], W: null, basis: null };
}

/**
 * One pass over one shard: the part that mergeStates adds to the other shards' parts. Pass p
 * needs the merged state of pass p − 1 (the plan for pass 1); the part carries it along, so a
 * state file is self-contained.
 */
export async function accumulateShard(input: ArrayInput | SampleSource, options: AccumulateOptions): Promise<ShardState> {
  const a = checkOptions<AccumulateOptions & { backend: Resolved['backend']; workers: Resolved['workers'] }>(SHARD_OPTIONS, options, {
    what: 'accumulateShard()',
    least: '{ pass }',
    keys: ['pass', 'state', 'options', ...RUN_KEYS],
  });
  const { pass } = a;
  const source = toSampleSource(input, { checkValues: false });
  let prev = a.state;
  if (pass === 1 && prev === undefined) {
    if (!a.options) throw new PureneuronError('BAD_OPTION', 'accumulate pass 1 needs a plan (state, from planShards / `pureneuron plan`) or the learn options');
    prev = await planShards(source, { ...a.options, chunkRows: a.options.chunkRows ?? a.chunkRows, signal: a.signal });
  } else if (a.options !== undefined) {
    throw new PureneuronError('BAD_OPTION', pass === 1 ? 'accumulate pass 1 takes either a plan or the learn options, not both (the plan holds the options)' : `accumulate pass ${pass} takes its options from the pass-${pass - 1} state; do not give options`);
  }
  if (!prev) throw new PureneuronError('BAD_OPTION', `accumulate pass ${pass} needs the merged pass-${pass - 1} state`);
  if (prev.pass !== pass - 1) {
    throw new PureneuronError('BAD_FILE', `${label(prev)}: accumulate pass ${pass} needs ${pass === 1 ? 'a plan (pass-0 state, from `pureneuron plan`)' : `the merged pass-${pass - 1} state`}, got a ${describePass(prev.pass)}`);
  }
  checkShape(source, prev);
  const { d, l } = prev;
  const o = prev.options;
  const chunkRows = resolveChunkRows(a.chunkRows ?? prev.chunkRows, d, l);
  const kernels = await getKernels(a.backend);

  // What this pass needs from the previous ones (the same computation on every shard).
  const kind = `pass${pass}` as const;
  let params: PassParams['pass1' | 'pass2' | 'pass3'] = { d, l };
  let W: Float64Array | null = null;
  if (pass >= 2) {
    const s1 = stage1(kernels, prev);
    params = { plan: s1.red.plan };
    if (pass === 3) {
      checkFields(prev, 2, passTemplate('pass2', { plan: s1.red.plan }, prev));
      if (prev.W) {
        // A refined pass-2 state: its W (refined, or the spectral one 'auto' kept).
        W = prev.W;
      } else {
        if (refinePlan(o, s1.n, s1.k, d, l).passes > 0) {
          throw new PureneuronError('BAD_OPTION', `${label(prev)}: the plan's refine option (${JSON.stringify(o.refine)}) asks for a refinement before pass 3: run \`pureneuron refine\` (refineShards) on this merged pass-2 state with the first shard, and give its output to accumulate --pass 3 (or plan with --refine 0)`);
        }
        W = afterPass2(kernels, s1, PASSES.pass2.read(prev.passes[1].state), o).W;
      }
      params = { W, k: s1.k, d, l };
    }
  }

  const workers = resolveWorkers(a.workers, source.n, chunkRows);
  // The worker pools learn() uses (shared within the process; idle workers never keep it alive).
  const pool = workers > 0 ? sharedPool(workers, kernels.name) : undefined;
  // The plan's scales, not this shard's first chunk: every shard weights as the single run does.
  const runner = new PassRunner(source, kernels, { ...runnerOptions({ ...o, chunkRows, signal: a.signal, onProgress: a.onProgress }), weighting: prev.weighting ?? undefined }, pool);
  const t0 = performance.now();
  let r: { state: PassState; rows: number };
  try {
    r = await runner.pass(kind, params as never, source.n);
  } finally {
    if (pool) releasePool(pool);
  }
  const own: PassSums = { rows: r.rows, state: r.state, parts: 1, ms: performance.now() - t0, workers };
  return { pass, d, l, options: o, chunkRows, weighting: prev.weighting, passes: [...prev.passes, own], W, basis: fingerprint(prev), refinement: prev.refinement ?? null };
}

/**
 * The refinement between pass 2 and pass 3 (learn()'s refine option, default 'auto'): from the
 * merged pass-2 state, the spectral W (the same on every machine), then the Gauss–Newton passes
 * over the first refineSamples samples of the data — so `input` must be the data's first
 * shard(s), holding at least min(n, refineSamples) samples in the single run's order. Returns
 * the pass-2 state with the chosen W and the refinement's report, for accumulate --pass 3.
 * Runs on one machine: its passes read only those first samples. When the options ask for no
 * refinement (refine 0, or 'auto' out of its limits), the state gets the spectral W.
 */
export async function refineShards(state: ShardState, input: ArrayInput | SampleSource, options: RunOptions = {}): Promise<ShardState> {
  const run = checkOptions<RunOptions & { backend: Resolved['backend']; workers: Resolved['workers'] }>(SHARD_OPTIONS, options, { what: 'refineShards()', keys: RUN_KEYS });
  if (state?.pass !== 2 || state.W) {
    throw new PureneuronError('BAD_FILE', `${label(state)}: refine needs the merged pass-2 state (not yet refined), got a ${state?.W ? 'refined pass-2 state' : describePass(state?.pass)}`);
  }
  const source = toSampleSource(input, { checkValues: false });
  checkShape(source, state);
  const { d, l, options: o } = state;
  const kernels = await getKernels(run.backend);
  const s1 = stage1(kernels, state);
  checkFields(state, 2, passTemplate('pass2', { plan: s1.red.plan }, state));
  const s2 = afterPass2(kernels, s1, PASSES.pass2.read(state.passes[1].state), o);
  const est = estimateError(kernels, s1, s2, o);
  const chunkRows = resolveChunkRows(run.chunkRows ?? state.chunkRows, d, l);
  const rows = Math.min(s1.n, o.refineSamples);
  const workers = resolveWorkers(run.workers, Math.min(source.n ?? Infinity, rows), chunkRows);
  const pool = workers > 0 ? sharedPool(workers, kernels.name) : undefined;
  const runner = new PassRunner(source, kernels, { ...runnerOptions({ ...o, chunkRows, signal: run.signal, onProgress: run.onProgress }), weighting: state.weighting ?? undefined }, pool);
  try {
    const r = await refine(kernels, o, s2.W, s1.n, s1.k, d, l, est.errorEstimate, runner.refinePass(s1.k, d, l, rows));
    return { ...state, W: r.W, refinement: r.report ?? null, source: undefined };
  } finally {
    if (pool) releasePool(pool);
  }
}

/**
 * Adds parts of the same pass, built on the same previous state, in the order given (the first
 * part's sums plus the second's, plus the third's, …: the order changes the result in the last
 * bits only). Parts of different passes, shapes, options or weightings, or built on different
 * previous states (or, in pass 3, at a different W), are refused with BAD_FILE. `names` label
 * the parts in messages (file names).
 */
export function mergeStates(parts: ShardState[], names: string[] = parts.map((s, i) => s?.source ?? `part ${i + 1}`)): ShardState {
  if (!Array.isArray(parts) || parts.length === 0) throw new PureneuronError('BAD_OPTION', 'merge needs at least one state');
  const [first, ...rest] = parts;
  const bad = (i: number, msg: string): never => {
    throw new PureneuronError('BAD_FILE', `cannot merge ${names[i]} with ${names[0]}: ${msg}`);
  };
  if (first.pass === 0) throw new PureneuronError('BAD_FILE', `${names[0]} is a plan (pass 0): it holds no sums to merge; give it to accumulate --pass 1`);
  if (first.pass === 2 && first.W) throw new PureneuronError('BAD_FILE', `${names[0]} is a refined pass-2 state: it is already merged; give it to accumulate --pass 3`);
  if (first.pass === 3) checkFields(first, 3, readoutTemplate(first));
  if (first.pass === 1) checkFields(first, 1, passTemplate('pass1', { d: first.d, l: first.l }, first));
  rest.forEach((s, j) => {
    const i = j + 1;
    if (s.pass !== first.pass) bad(i, `it is a ${describePass(s.pass)}, ${names[0]} a ${describePass(first.pass)}`);
    if (s.d !== first.d || s.l !== first.l) bad(i, `(d, l) = (${s.d}, ${s.l}) differs from (${first.d}, ${first.l})`);
    for (const key of FIT_OPTION_KEYS) {
      if (s.options[key] !== first.options[key]) bad(i, `option ${key} is ${JSON.stringify(s.options[key])}, not ${JSON.stringify(first.options[key])} (every shard must use the same plan)`);
    }
    if (!sameArray(s.weighting?.scales, first.weighting?.scales)) {
      bad(i, 'the robust weighting scales differ: the pass-1 shards were planned separately; run `pureneuron plan` on the first shard and give its state to every pass-1 shard');
    }
    if (s.basis !== first.basis) {
      bad(i, first.pass === 1 ? 'they were built on different plans' : `they were built on different merged pass-${first.pass - 1} states (basis ${s.basis?.slice(0, 12)}… vs ${first.basis?.slice(0, 12)}…)`);
    }
    if (first.pass === 3 && !sameArray(s.W ?? undefined, first.W ?? undefined)) bad(i, 'their pass-3 sums were taken at different first layers W (the same pass-2 state gave a different W: different pureneuron versions?)');
    const own = s.passes[s.pass - 1].state;
    const ref = first.passes[first.pass - 1].state;
    const a = Object.keys(own).sort().join(',');
    const b = Object.keys(ref).sort().join(',');
    if (a !== b || fieldMismatch(own, ref)) bad(i, 'their sums have different fields or sizes');
  });
  const p = first.pass - 1;
  const state = copyState(first.passes[p].state);
  const own: PassSums = { rows: first.passes[p].rows, state, parts: first.passes[p].parts, ms: first.passes[p].ms, workers: first.passes[p].workers };
  for (const s of rest) {
    const q = s.passes[p];
    mergeState(state, q.state);
    own.rows += q.rows;
    own.parts += q.parts;
    own.ms += q.ms;
    own.workers = Math.max(own.workers, q.workers);
  }
  return { ...first, passes: [...first.passes.slice(0, p), own], source: undefined };
}

/**
 * The model from the merged pass-3 state: the same stages as learn() (linear part and plan,
 * pure directions and W, error estimate, A) and the same diagnostics. W is the one the pass-3
 * sums were taken at (recomputed from the pass-2 sums too; a warning says if they differ).
 * `diagnostics.timings` holds the passes' times summed over the shards and the stages' times
 * in this call; `workers` the most any shard used.
 */
export async function finishShards(state: ShardState, options: Pick<RunOptions, 'backend'> = {}): Promise<Model> {
  const run = checkOptions<{ backend: Resolved['backend'] }>(SHARD_OPTIONS, options, { what: 'finishShards()', keys: ['backend'] });
  if (state?.pass !== 3) {
    throw new PureneuronError('BAD_FILE', `${label(state)}: finish needs the merged pass-3 state, got a ${describePass(state?.pass)}${state?.pass !== undefined && state.pass < 3 ? `: run accumulate --pass ${state.pass + 1} on every shard and merge first` : ''}`);
  }
  const kernels = await getKernels(run.backend);
  const { d, l, options: o } = state;
  const timings: Record<string, number> = {};
  let tp = performance.now();
  const lap = (name: string) => {
    const t = performance.now();
    timings[name] = t - tp;
    tp = t;
  };
  timings.pass1 = state.passes[0].ms;
  const s1 = stage1(kernels, state);
  lap('reduce');
  timings.pass2 = state.passes[1].ms;
  checkFields(state, 2, passTemplate('pass2', { plan: s1.red.plan }, state));
  const s2 = afterPass2(kernels, s1, PASSES.pass2.read(state.passes[1].state), o);
  lap('extract');
  const est = estimateError(kernels, s1, s2, o);
  if (o.errorEstimate) lap('errorEstimate');
  const W = state.W!;
  if (W.length !== s1.k * d) throw new PureneuronError('BAD_FILE', `${label(state)}: its W has ${W.length / d} rows but its pass-1 sums give k = ${s1.k}`);
  checkFields(state, 3, readoutTemplate(state));
  const A = secondLayerOf(PASSES.pass3.read(state.passes[2].state), s1.k, l);
  timings.pass3 = state.passes[2].ms;
  timings.total = Object.values(timings).reduce((t, v) => t + v, 0);
  const workers = Math.max(...state.passes.map((p) => p.workers));
  const refinement = state.refinement ?? undefined;
  const diagnostics = fitDiagnostics(s1, s2, est, { workers, refinement, timings });
  if (!refinement && !sameArray(s2.W, W)) {
    diagnostics.warnings.push('the pass-2 sums give a W that differs in its last bits from the one the pass-3 shards used (different pureneuron versions or platforms?); the model keeps the W that A was fitted to');
  }
  return new Model({ d, k: s1.k, l, W, A }, kernels.name, diagnostics);
}

// ------------------------------------------------------------------------------------------

/** The stage after pass 1 from a state's pass-1 sums (validated), with the pass counts checked. */
function stage1(kernels: Kernels, s: ShardState): Stage1 {
  const n = s.passes[0].rows;
  for (let p = 1; p < s.passes.length; p++) {
    if (s.passes[p].rows !== n) {
      throw new PureneuronError('BAD_FILE', `${label(s)}: the merged pass-${p + 1} sums cover ${s.passes[p].rows} samples but pass 1 covered ${n}: a shard is missing or repeated, or the data changed between passes`);
    }
  }
  checkFields(s, 1, passTemplate('pass1', { d: s.d, l: s.l }, s));
  return afterPass1(kernels, PASSES.pass1.read(s.passes[0].state), n, s.d, s.l, s.options);
}

/**
 * The sums a state of a pass must hold (names and sizes): those of one zero sample, from the
 * pass itself (passes/), so they stay right whatever fields the pass produces.
 */
function passTemplate<K extends JobKind>(kind: K, params: PassParams[K], s: ShardState): PassState {
  return PASSES[kind].run(jsKernels, params as never, { x: new Float64Array(s.d), y: new Float64Array(s.l), rows: 1 }, 0);
}

function readoutTemplate(s: ShardState): PassState {
  return passTemplate('pass3', { W: s.W!, k: s.W!.length / s.d, d: s.d, l: s.l }, s);
}

/** The pass-p sums of `s` must have exactly the template's fields and sizes. */
function checkFields(s: ShardState, p: number, template: PassState): void {
  const problem = fieldMismatch(s.passes[p - 1].state, template);
  if (problem) throw new PureneuronError('BAD_FILE', `${label(s)}: the pass-${p} sums ${problem} for d = ${s.d}, l = ${s.l}: a state of another pureneuron version, or a damaged one`);
}

/** The shard's (d, l) must be the state's. */
function checkShape(source: SampleSource, s: ShardState): void {
  if (source.d !== s.d || source.l !== s.l) {
    throw new PureneuronError('BAD_SHAPE', `the shard has (d, l) = (${source.d}, ${source.l}) but ${label(s)} was built for (${s.d}, ${s.l})`);
  }
}

function sameArray(a: Float64Array | undefined, b: Float64Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** How messages name a state: its file, or "the state". */
function label(s: ShardState | undefined): string {
  return s?.source ?? 'the state';
}

function describePass(p: number | undefined): string {
  return p === 0 ? 'plan (pass-0 state)' : p === undefined ? 'missing state' : `pass-${p} state`;
}
