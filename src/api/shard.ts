/**
 * Learning across processes and machines: every pass is a sum over samples, so each shard of
 * the data can be accumulated separately (accumulateShard), the parts added (mergeStates), and
 * the model built from the merged sums (finishShards) by the same stage functions learn() uses
 * (method/stages.ts, method/refine.ts). The states travel as files (shardState.ts);
 * docs/distributed.md has the worked example.
 *
 *   planShards(first shard, options)                        → plan (pass 0): options, weighting scales
 *   accumulateShard(shard, { pass: 1, state: plan })        → pass-1 part ─┐ mergeStates → pass-1 state
 *   accumulateShard(shard, { pass: 2, state: p1 })          → pass-2 part ─┐ mergeStates → pass-2 state
 *   accumulateShard(shard, { pass: 'refine', state: p2 })   → refinement part ─┐ mergeStates → refinement state
 *     (again on the refinement state, while it asks for another pass)
 *   accumulateShard(shard, { pass: 3, state: p2 or refinement state }) → pass-3 part ─┐ mergeStates → pass-3 state
 *   finishShards(pass-3 state)                              → Model (as learn() returns)
 *
 * Equality with learn(): the robust weights use per-coordinate scales from the first chunk of
 * the data; the plan takes them from the first chunk of the FIRST shard, so every shard
 * weights its samples as the single run does. Every later step recomputes, deterministically
 * and on every shard, what the single run computes between its passes from the merged sums:
 * the detector plan, W, the refinement's subsample fit (from the subsample rows pass 2
 * collects) and each of its steps. The merged sums then differ from the single run's only in
 * the association of the additions (the single run folds chunk sums left to right; mergeStates
 * folds the parts' sums left to right): the model agrees to rounding, and bit for bit when the
 * first shard holds a multiple of chunkRows samples and every later shard one chunk (chunkRows
 * samples, the last one at most).
 */
import { PureneuronError } from '../errors.js';
import { getKernels } from '../kernels/select.js';
import { jsKernels } from '../kernels/js/index.js';
import type { Kernels } from '../kernels/types.js';
import { fitDiagnostics } from '../method/diagnostics.js';
import { refineAdvance, refineFinish, refineLast, refinePlan, refineStart, type RefineReport } from '../method/refine.js';
import { afterPass1, afterPass2, estimateError, secondLayerOf, type Stage1 } from '../method/stages.js';
import { weightingFromSource } from '../method/weights.js';
import { pass2Params } from '../passes/detector.js';
import { PASSES, type JobKind, type PassParams } from '../passes/jobs.js';
import { copyState, fieldMismatch, mergeState, type PassState } from '../passes/state.js';
import { releasePool, sharedPool } from '../parallel/pool.js';
import { PassRunner, runnerOptions } from '../parallel/runner.js';
import { arraySource, toSampleSource } from '../sources/index.js';
import type { ArrayInput, Progress, SampleSource } from '../types.js';
import { Model } from './model.js';
import {
  checkFits, checkOptions, FIT_OPTION_KEYS, fitOptionsOf, LEARN_OPTIONS, resolveChunkRows, resolveWorkers, type LearnOptions, type OptionTable, type Resolved,
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
  /** 1, 2, 'refine' (a refinement pass over all the samples, between pass 2 and 3) or 3. */
  pass: 1 | 2 | 3 | 'refine';
  /**
   * Pass 1: a plan (planShards); without one, `options` must be given and the shard plans
   * itself (its weighting scales then come from its own first chunk: fine for one shard or
   * weighting 'none', refused by mergeStates when the parts' scales differ). Pass 2: the merged
   * pass-1 state; 'refine' and 3: the merged pass-2 state, or the merged refinement state.
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
  pass: { required: true, allowed: "1, 2, 'refine' or 3", ok: (v) => v === 1 || v === 2 || v === 3 || v === 'refine' },
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
  checkFits(o, d, l);
  const weighting: ShardState['weighting'] = o.weighting === 'robust' ? await weightingFromSource(source, o.robustScale, o.signal) : null;
  return { pass: 0, d, l, options: fitOptionsOf(o), chunkRows: resolveChunkRows(o.chunkRows, d, l), weighting, passes: [], refinePasses: 0, W: null, basis: null };
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
  const needs = pass === 1 ? 'a plan (pass-0 state, from `pureneuron plan`)' : pass === 2 ? 'the merged pass-1 state' : 'the merged pass-2 state or refinement state';
  if (pass === 1 && prev === undefined) {
    if (!a.options) throw new PureneuronError('BAD_OPTION', 'accumulate pass 1 needs a plan (state, from planShards / `pureneuron plan`) or the learn options');
    prev = await planShards(source, { ...a.options, chunkRows: a.options.chunkRows ?? a.chunkRows, signal: a.signal });
  } else if (a.options !== undefined) {
    throw new PureneuronError('BAD_OPTION', pass === 1 ? 'accumulate pass 1 takes either a plan or the learn options, not both (the plan holds the options)' : `accumulate pass ${pass} takes its options from the state; do not give options`);
  }
  if (!prev) throw new PureneuronError('BAD_OPTION', `accumulate pass ${pass} needs ${needs}`);
  const after = pass === 'refine' || pass === 3 ? 2 : pass - 1;
  if (prev.pass !== after) throw new PureneuronError('BAD_FILE', `${label(prev)}: accumulate pass ${pass} needs ${needs}, got a ${describePass(prev)}`);
  checkShape(source, prev);
  const { d, l } = prev;
  const chunkRows = resolveChunkRows(a.chunkRows ?? prev.chunkRows, d, l);
  const kernels = await getKernels(a.backend);
  const workers = resolveWorkers(a.workers, source.n, chunkRows);
  // The worker pools learn() uses (shared within the process; idle workers never keep it alive).
  const pool = workers > 0 ? sharedPool(workers, kernels.name) : undefined;
  // The plan's scales, not this shard's first chunk: every shard weights as the single run does.
  const runner = new PassRunner(source, kernels, { ...runnerOptions({ ...prev.options, chunkRows, signal: a.signal, onProgress: a.onProgress }), weighting: prev.weighting ?? undefined }, pool);
  try {
    const t0 = performance.now();
    let W: Float64Array | null = null;
    let r: { state: PassState; rows: number };
    if (pass === 1) r = await runner.pass('pass1', { d, l }, source.n);
    else {
      // What this pass needs from the previous ones (the same computation on every shard).
      const s = await replay(kernels, prev, runner);
      if (pass === 2) r = await runner.pass('pass2', s.pass2, source.n);
      else if (!s.progress) {
        if (pass === 'refine') throw new PureneuronError('BAD_OPTION', `${label(prev)}: the plan asks for no refinement (refine 0, or 'auto' out of its limits): run accumulate --pass 3`);
        W = s.s2!.W;
        r = await runner.pass('pass3', { W, k: s.s1.k, d, l }, source.n);
      } else {
        const last = refineLast(s.progress, s.plan);
        if (pass === 'refine' && last) throw new PureneuronError('BAD_OPTION', `${label(prev)}: the refinement needs no further pass (its steps have settled, or it made all the passes it may): run accumulate --pass 3`);
        if (pass === 3 && !last) throw new PureneuronError('BAD_OPTION', `${label(prev)}: the refinement is not done: run accumulate --pass refine on every shard with this state and merge, then pass 3`);
        const { A, W: Wp } = s.progress;
        if (pass === 3) W = Wp;
        r = await runner.pass('gradient', { W: Wp, A, k: s.s1.k, d, l }, source.n, undefined, pass === 3 ? 'pass3' : 'refine');
      }
    }
    const own: PassSums = { rows: r.rows, state: r.state, parts: 1, ms: performance.now() - t0, workers };
    const refinePasses = prev.refinePasses + (pass === 'refine' ? 1 : 0);
    return { pass: pass === 'refine' ? 2 : pass, d, l, options: prev.options, chunkRows, weighting: prev.weighting, passes: [...prev.passes, own], refinePasses, W, basis: fingerprint(prev) };
  } finally {
    if (pool) releasePool(pool);
  }
}

/**
 * The step that follows a merged state: the next pass to accumulate over every shard, or
 * 'finish'. After pass 2 and each refinement pass the refinement decides (refine while its
 * steps have not settled, at most as many passes as the plan allows; then pass 3).
 */
export async function nextStep(state: ShardState, options: Pick<RunOptions, 'backend'> = {}): Promise<1 | 2 | 'refine' | 3 | 'finish'> {
  const run = checkOptions<{ backend: Resolved['backend'] }>(SHARD_OPTIONS, options, { what: 'nextStep()', keys: ['backend'] });
  if (state.pass === 3) return 'finish';
  if (state.pass < 2) return (state.pass + 1) as 1 | 2;
  const r = await replay(await getKernels(run.backend), state);
  return r.progress && !refineLast(r.progress, r.plan) ? 'refine' : 3;
}

/**
 * What the single run has computed before the state's next pass, from the state's merged sums:
 * the stages after pass 1 (pass ≥ 1) and pass 2 (pass ≥ 2) with the refinement's plan, and,
 * when the plan refines, its progress through the refinement passes the state holds.
 */
async function replay(kernels: Kernels, s: ShardState, runner?: PassRunner, lap?: (phase: string) => void) {
  const s1 = stage1(kernels, s);
  lap?.('reduce');
  const { d, l } = s;
  const plan = refinePlan(s.options, s1.n, s1.k, d, l);
  const pass2 = pass2Params(s1.red.plan, plan, s1.n);
  if (s.pass < 2) return { s1, plan, pass2 };
  checkFields(s, 2, passTemplate('pass2', pass2, s));
  const p2 = PASSES.pass2.read(s.passes[1].state);
  const s2 = afterPass2(kernels, s1, p2, s.options);
  lap?.('extract');
  if (plan.passes === 0 || p2.sample.rows === 0) return { s1, s2, plan, pass2 };
  const io = (runner ?? new PassRunner(arraySource({ x: p2.sample.x, y: p2.sample.y, d, l }), kernels, { chunkRows: s.chunkRows })).refineIO(s1.k, d, l, p2.sample, s1.n);
  let progress = await refineStart(s2.W, s1.k, d, l, io, p2.sample.rows >= s1.n);
  for (let j = 0; j < s.refinePasses; j++) {
    const q = s.passes[2 + j];
    checkFields(s, 3 + j, passTemplate('gradient', { W: progress.W, A: progress.A, k: s1.k, d, l }, s));
    progress = await refineAdvance(progress, PASSES.gradient.read(q.state), s1.n, s1.k, d, l, io);
  }
  lap?.('refine');
  return { s1, s2, p2, plan, pass2, progress, io };
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
  if (first.pass === 1) checkFields(first, 1, passTemplate('pass1', { d: first.d, l: first.l }, first));
  rest.forEach((s, j) => {
    const i = j + 1;
    if (s.pass !== first.pass || s.refinePasses !== first.refinePasses) bad(i, `it is a ${describePass(s)}, ${names[0]} a ${describePass(first)}`);
    if (s.d !== first.d || s.l !== first.l) bad(i, `(d, l) = (${s.d}, ${s.l}) differs from (${first.d}, ${first.l})`);
    for (const key of FIT_OPTION_KEYS) {
      if (s.options[key] !== first.options[key]) bad(i, `option ${key} is ${JSON.stringify(s.options[key])}, not ${JSON.stringify(first.options[key])} (every shard must use the same plan)`);
    }
    if (!sameArray(s.weighting?.scales, first.weighting?.scales)) {
      bad(i, 'the robust weighting scales differ: the pass-1 shards were planned separately; run `pureneuron plan` on the first shard and give its state to every pass-1 shard');
    }
    if (s.basis !== first.basis) {
      bad(i, first.pass === 1 ? 'they were built on different plans' : `they were built on different merged states (basis ${s.basis?.slice(0, 12)}… vs ${first.basis?.slice(0, 12)}…)`);
    }
    if (first.pass === 3 && !sameArray(s.W ?? undefined, first.W ?? undefined)) bad(i, 'their pass-3 sums were taken at different first layers W (the same pass-2 state gave a different W: different pureneuron versions?)');
    const own = s.passes[s.passes.length - 1].state;
    const ref = first.passes[first.passes.length - 1].state;
    const a = Object.keys(own).sort().join(',');
    const b = Object.keys(ref).sort().join(',');
    if (a !== b || fieldMismatch(own, ref)) bad(i, 'their sums have different fields or sizes');
  });
  const p = first.passes.length - 1;
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
    throw new PureneuronError('BAD_FILE', `${label(state)}: finish needs the merged pass-3 state, got a ${describePass(state)}${state?.pass !== undefined && state.pass < 3 ? `: run accumulate --pass ${state.pass === 2 ? 3 : state.pass + 1} on every shard and merge first` : ''}`);
  }
  const kernels = await getKernels(run.backend);
  const { d, l, options: o } = state;
  // The phases of learn(), in its order: the passes' times summed over the shards, the stages' here.
  const timings: Record<string, number> = { pass1: state.passes[0].ms };
  let tp = performance.now();
  const lap = (name: string) => {
    const t = performance.now();
    timings[name] = t - tp;
    tp = t;
    if (name === 'reduce') timings.pass2 = state.passes[1].ms;
  };
  const r = await replay(kernels, state, undefined, lap);
  const { s1, s2 } = r as Required<typeof r>;
  const est = estimateError(kernels, s1, s2, o);
  if (o.errorEstimate) lap('errorEstimate');
  const W3 = state.W!;
  if (W3.length !== s1.k * d) throw new PureneuronError('BAD_FILE', `${label(state)}: its W has ${W3.length / d} rows but its pass-1 sums give k = ${s1.k}`);
  const own = state.passes[state.passes.length - 1];
  let W = W3;
  let A: Float64Array;
  let refinement: RefineReport | undefined;
  const warnings: string[] = [];
  if (r.progress) {
    checkFields(state, state.passes.length, passTemplate('gradient', { W: W3, A: r.progress.A, k: s1.k, d, l }, state));
    ({ W, A, report: refinement } = await refineFinish(r.progress, PASSES.gradient.read(own.state), s1.n, s1.k, d, l, r.io!));
    if (!sameArray(r.progress.W, W3)) warnings.push(pointWarning);
  } else {
    checkFields(state, state.passes.length, passTemplate('pass3', { W: W3, k: W3.length / d, d, l }, state));
    A = secondLayerOf(PASSES.pass3.read(own.state), s1.k, l);
    if (!sameArray(s2.W, W3)) warnings.push(pointWarning);
  }
  if (refinement) timings.refine = (timings.refine ?? 0) + state.passes.slice(2, 2 + state.refinePasses).reduce((t, p) => t + p.ms, 0);
  timings.pass3 = own.ms;
  timings.total = Object.values(timings).reduce((t, v) => t + v, 0);
  const ordered = Object.fromEntries(PHASE_ORDER.filter((p) => p in timings).map((p) => [p, timings[p]]));
  const workers = Math.max(...state.passes.map((p) => p.workers));
  const diagnostics = fitDiagnostics(s1, s2, est, { workers, refinement, refinementSkipped: r.plan.skipped, timings: ordered });
  diagnostics.warnings.push(...warnings);
  return new Model({ d, k: s1.k, l, W, A }, kernels.name, diagnostics);
}

/** learn()'s timings, in the order it takes them. */
const PHASE_ORDER = ['pass1', 'reduce', 'pass2', 'extract', 'errorEstimate', 'refine', 'pass3', 'total'];

const pointWarning = 'the merged sums give a first layer that differs in its last bits from the one the pass-3 shards used (different pureneuron versions or platforms?); the model keeps the one the pass-3 sums were taken at';

// ------------------------------------------------------------------------------------------

/** The stage after pass 1 from a state's pass-1 sums (validated), with the pass counts checked. */
function stage1(kernels: Kernels, s: ShardState): Stage1 {
  const n = s.passes[0].rows;
  for (let p = 1; p < s.passes.length; p++) {
    if (s.passes[p].rows !== n) {
      throw new PureneuronError('BAD_FILE', `${label(s)}: the merged sums of its pass ${p + 1} cover ${s.passes[p].rows} samples but pass 1 covered ${n}: a shard is missing or repeated, or the data changed between passes`);
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

function describePass(s: ShardState | undefined): string {
  const p = s?.pass;
  return p === 0 ? 'plan (pass-0 state)' : p === undefined ? 'missing state' : p === 2 && s!.refinePasses > 0 ? `refinement state (${s!.refinePasses} pass${s!.refinePasses > 1 ? 'es' : ''})` : `pass-${p} state`;
}
