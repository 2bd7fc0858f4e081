/**
 * Sharded learning on the command line (shard.ts; docs/distributed.md):
 *   pureneuron plan        the plan every pass-1 shard starts from (options, weighting scales)
 *   pureneuron accumulate  one pass over one shard → a part state
 *   pureneuron merge       parts of one pass → the merged state
 *   pureneuron finish      the merged pass-3 state → model.json
 */
import { WEIGHTING_ROWS } from '../method/weights.js';
import { writeFileAtomic } from '../io/atomic.js';
import { readStateFile, writeStateFile, type ShardState } from '../api/shardState.js';
import { accumulateShard, finishShards, mergeStates, nextStep, planShards } from '../api/shard.js';
import { FIT_OPTION_KEYS, LEARN_OPTIONS } from '../api/options.js';
import { intFlag, parse, required, UsageError } from './args.js';
import type { Io } from './io.js';
import { checkOutputDir } from './learn.js';
import { openSource, SOURCE_FLAGS, SOURCE_HELP, sourceFlags } from './source.js';
import { optionFlags, optionsFromFlags, optionsHelp } from './options.js';
import { progressReporter } from './progress.js';

/** Flags of the plan: the options that determine the model, and the chunk size. */
const PLAN_FLAGS = [...FIT_OPTION_KEYS, 'chunkRows'] as const;
/** Flags of how a step runs: none of them change the result. */
const RUN_FLAGS = ['backend', 'workers', 'chunkRows'] as const;
const FIT_HELP = optionsHelp(FIT_OPTION_KEYS);

export const planHelp = `Usage: pureneuron plan --x FILE --y FILE --k K --out plan.state [options]

Writes the plan of a sharded fit: the learn options, the chunk size and, with robust
weighting, the per-coordinate scales of the sample weights, taken from the first 8192
samples of the given files. Give it the FIRST shard (the first rows of the data in the
order a single run would read them), holding at least 8192 samples (or all the data): then
every shard weights its samples exactly as 'pureneuron learn' on all the data would (a
shorter first shard gives other scales, and a warning). Every 'accumulate --pass 1' takes
the plan with --state, and every shard reads chunks of the plan's size. See
docs/distributed.md.

Options:
${SOURCE_HELP}
${FIT_HELP}
${optionsHelp(['chunkRows'])}
  --out FILE             where to write the plan
  --quiet                print nothing but errors
`;

export const accumulateHelp = `Usage: pureneuron accumulate --pass P --x FILE --y FILE --state FILE --out part.state [options]

Runs pass P over one shard of the data and writes its sums as a part state: 1 second
moments, 2 detector (and the rows of the refinement's subsample), refine a refinement pass
over all the samples, 3 second layer (with the refinement: its last pass). Parts of the same
pass are added with 'pureneuron merge', whose message names the next pass: after pass 2,
refinement passes until the refinement has settled (typically one), then pass 3.

Options:
  --pass P               1, 2, refine or 3
${SOURCE_HELP}
  --state FILE           pass 1: the plan ('pureneuron plan'); pass 2: the merged pass-1
                         state; refine and 3: the merged pass-2 or refinement state
  --out FILE             where to write the part state
${optionsHelp(['backend', 'workers'])}
  --chunk-rows R         samples per chunk (default: the plan's)
  --quiet                print nothing but errors (no progress, no summary)

Pass 1 without --state: give the options of the plan instead (see 'pureneuron plan --help');
the shard then plans itself from its own first chunk, which is right for a single shard or
--weighting none (merge refuses pass-1 parts whose weighting scales differ).
`;

export const mergeHelp = `Usage: pureneuron merge PART.state [PART.state …] --out all.state

Adds the sums of part states of the same pass, in the order given (the order changes the
sums in their last bits only). Refuses parts of different passes, shapes, options or
weighting scales, parts built on different previous states, and plans. Prints the next step
on stdout as one word — 2, refine, 3 (the --pass of the next 'pureneuron accumulate') or
finish — so a driver can loop until it reads finish.

Options:
  --out FILE             where to write the merged state
  --quiet                print only the next step (no summary on stderr)
`;

export const finishHelp = `Usage: pureneuron finish --state all.state --out model.json [options]

Builds the model from the merged pass-3 state, as 'pureneuron learn' would from all the
samples: the same model.json, with diagnostics (their pass timings are summed over the
shards).

Options:
  --state FILE           the merged pass-3 state
  --out FILE             where to write the model (JSON)
${optionsHelp(['backend'])}
  --quiet                print nothing but errors
`;


function describe(s: ShardState): string {
  const own = s.passes[s.passes.length - 1];
  const what = s.pass === 2 && s.refinePasses > 0 ? `refinement pass ${s.refinePasses}` : `pass ${s.pass}`;
  return `${what}, ${own.rows} samples${own.parts > 1 ? ` from ${own.parts} parts` : ''}`;
}

export async function planCommand(argv: string[], io: Io): Promise<void> {
  const { values: v } = parse(argv, { ...SOURCE_FLAGS, ...optionFlags(PLAN_FLAGS), out: { type: 'string' }, quiet: { type: 'boolean' } });
  if (v.help) return io.out(planHelp);
  const files = sourceFlags(v);
  const options = optionsFromFlags(v, PLAN_FLAGS);
  const out = required('out', v.out);
  await checkOutputDir(out);
  const plan = await planShards(await openSource(files), { ...options, k: options.k!, signal: io.signal });
  await writeStateFile(out, plan, { signal: io.signal });
  if (v.quiet) return;
  io.err(`wrote the plan ${out} (d = ${plan.d}, l = ${plan.l}, k = ${plan.options.k}, weighting ${plan.options.weighting}, ${plan.chunkRows} samples per chunk)`);
  const w = plan.weighting;
  if (w && w.rows < WEIGHTING_ROWS) {
    io.err(
      `warning: the first shard holds only ${w.rows} samples, fewer than the ${WEIGHTING_ROWS} the weighting scales are taken from: ` +
        `a single run on all the data takes them from its first ${WEIGHTING_ROWS}, so the model will match it only statistically. ` +
        `For the same model, plan on a first shard of at least ${WEIGHTING_ROWS} samples (or use --weighting none)`,
    );
  }
}

export async function accumulateCommand(argv: string[], io: Io): Promise<void> {
  const { values: v } = parse(argv, {
    pass: { type: 'string' },
    ...SOURCE_FLAGS,
    ...optionFlags(PLAN_FLAGS),
    ...optionFlags(RUN_FLAGS),
    state: { type: 'string' },
    out: { type: 'string' },
    quiet: { type: 'boolean' },
  });
  if (v.help) return io.out(accumulateHelp);
  const pass = v.pass === 'refine' ? 'refine' : (required('pass', intFlag('pass', v.pass, 1, 3)) as 1 | 2 | 3);
  const files = sourceFlags(v);
  const given = FIT_OPTION_KEYS.map((key) => LEARN_OPTIONS[key].flag).filter((flag) => (v as Record<string, unknown>)[flag] !== undefined);
  if (v.state !== undefined && given.length) {
    throw new UsageError(`--${given[0]}: with --state the options come from the state (they are fixed by the plan)`);
  }
  if (v.state === undefined && pass !== 1) throw new UsageError(`--state is required for pass ${pass}: ${pass === 2 ? 'the merged pass-1 state' : 'the merged pass-2 or refinement state'}`);
  const run = optionsFromFlags(v, RUN_FLAGS);
  const options = v.state === undefined ? optionsFromFlags(v, PLAN_FLAGS) : undefined;
  const out = required('out', v.out);
  await checkOutputDir(out);
  const state = v.state === undefined ? undefined : await readStateFile(v.state);
  const source = await openSource(files);
  const progress = progressReporter(v.quiet ? 'quiet' : process.stderr.isTTY ? 'bar' : 'lines', io.err);
  const part = await accumulateShard(source, {
    pass,
    state,
    options: options && { ...options, k: options.k! },
    ...run,
    signal: io.signal,
    onProgress: (p) => progress.update(p),
  }).then(
    (s) => (progress.stop(true), s),
    (e: unknown) => {
      progress.stop(false);
      throw e;
    },
  );
  await writeStateFile(out, part, { signal: io.signal });
  if (!v.quiet) io.err(`wrote ${out} (${describe(part)}, ${(part.passes[part.passes.length - 1].ms / 1000).toFixed(2)} s)`);
}

export async function mergeCommand(argv: string[], io: Io): Promise<void> {
  const { values: v, positionals } = parse(argv, { out: { type: 'string' }, quiet: { type: 'boolean' } }, true);
  if (v.help) return io.out(mergeHelp);
  if (positionals.length === 0) throw new UsageError('merge needs at least one part state (see --help)');
  const out = required('out', v.out);
  await checkOutputDir(out);
  const parts: ShardState[] = [];
  for (const path of positionals) parts.push(await readStateFile(path));
  const merged = mergeStates(parts, positionals);
  await writeStateFile(out, merged, { signal: io.signal });
  // The next step on stdout, one word for a driver's loop (`pass=$(pureneuron merge … --quiet)`);
  // the human line on stderr.
  const next = await nextStep(merged);
  io.out(String(next));
  if (!v.quiet) io.err(`wrote ${out} (${describe(merged)}); next: ${next === 'finish' ? 'pureneuron finish' : `pureneuron accumulate --pass ${next}`}`);
}

export async function finishCommand(argv: string[], io: Io): Promise<void> {
  const { values: v } = parse(argv, { state: { type: 'string' }, out: { type: 'string' }, ...optionFlags(['backend']), quiet: { type: 'boolean' } });
  if (v.help) return io.out(finishHelp);
  const statePath = required('state', v.state);
  const out = required('out', v.out);
  const run = optionsFromFlags(v, ['backend']);
  await checkOutputDir(out);
  const model = await finishShards(await readStateFile(statePath), run);
  await writeFileAtomic(out, JSON.stringify(model.toJSON()) + '\n', { signal: io.signal });
  if (!v.quiet) {
    const dg = model.diagnostics!;
    io.err(`built k = ${model.k} units from ${dg.n} samples (d = ${model.d}, l = ${model.l}) with the ${model.backend} backend; wrote ${out}`);
    const est = dg.errorEstimate === undefined ? 'n/a' : dg.errorEstimate.toExponential(2);
    io.err(`estimated W error ${est}; null-space ratio σ_k/σ_k+1 = ${dg.nullSpaceRatio.toExponential(2)}, joint-diagonalization residual ${dg.jointDiagResidual.toExponential(2)}`);
    for (const w of dg.warnings) io.err(`warning: ${w}`);
  }
}
