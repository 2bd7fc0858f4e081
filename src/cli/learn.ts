/** `pureneuron learn`: learns a network from sample files and writes model.json. */
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PureneuronError } from '../errors.js';
import { learn } from '../api/learn.js';
import { resolveChunkRows, resolveWorkers, type LearnOptions } from '../api/options.js';
import { runTimeEstimate, spectralFits } from '../method/capacity.js';
import { refinePlan } from '../method/refine.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { SampleSource } from '../types.js';
import type { Model } from '../api/model.js';
import { parse, required, UsageError } from './args.js';
import { optionFlags, optionsFromFlags, optionsHelp } from './options.js';
import type { Io } from './io.js';
import { progressReporter } from './progress.js';
import { openSource, SOURCE_FLAGS, SOURCE_HELP, sourceFlags } from './source.js';

/** The learn options `pureneuron learn` takes as flags: all of them (signal and onProgress are the CLI's own). */
const LEARN_FLAGS = ['k', 'backend', 'detector', 'refine', 'refineSamples', 'weighting', 'robustScale', 'polish', 'jennrichPairs', 'whitenY', 'reduceX', 'errorEstimate', 'seed', 'workers', 'chunkRows', 'cacheBytes'] as const;

export const learnHelp = `Usage: pureneuron learn (--x FILE --y FILE | --data FILE --x-columns SPEC --y-columns SPEC) --k K --out model.json [options]
       pureneuron learn --shards MANIFEST --redis URL --k K --out model.json [options]

Learns y = A·relu(W·x) from samples (x and y in separate files, or as columns of one file)
and writes the model as JSON.

Options:
${SOURCE_HELP}
  --out FILE             where to write the model (JSON)
${optionsHelp(LEARN_FLAGS)}
  --quiet                print nothing but errors (no progress, no summary)

Across machines (docs/distributed.md), with 'pureneuron worker' processes on a Redis server:
  --shards MANIFEST      a JSON array of shards in data order, each { "x", "y" } or
                         { "data", "xColumns", "yColumns" } (paths relative to the manifest)
  --redis URL            redis://[user:password@]host:port[/db] (rediss:// for TLS)
  --queue NAME           the workers' queue (default pureneuron)
  (--workers is then the worker threads per job on the worker machines.)
`;

/** Fails before any work when the output file's directory is missing (not after a long run). */
export async function checkOutputDir(out: string): Promise<void> {
  const dir = dirname(out);
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new PureneuronError('BAD_FILE', `cannot write ${out}: directory ${dir} does not exist`);
}

/** Runs estimated above this many seconds get a note before they start. */
const LONG_RUN_SECONDS = 60;

/** "this will take about …" when the run's long stages (method/capacity.ts) add up to over a minute; k given, n known. */
function longRunNote(source: SampleSource, o: Partial<LearnOptions>): string | undefined {
  const { k } = o;
  // Problems that cannot run get learn()'s error instead.
  if (typeof k !== 'number' || source.n === undefined || k > Math.min(source.d, source.l) || !spectralFits(k, source.d, o.reduceX ?? true)) return undefined;
  const chunkRows = resolveChunkRows(o.chunkRows ?? 'auto', source.d, source.l);
  const parts = runTimeEstimate({
    n: source.n, k, d: source.d, reduceX: o.reduceX ?? true, workers: resolveWorkers(o.workers ?? 'auto', source.n, chunkRows), wasm: o.backend !== 'js',
    refine: refinePlan({ refine: o.refine ?? 'auto', refineSamples: o.refineSamples ?? 'auto' }, source.n, k, source.d, source.l).passes > 0,
  });
  const total = parts.reduce((s, p) => s + p.seconds, 0);
  if (total < LONG_RUN_SECONDS) return undefined;
  const minutes = (s: number): string => (s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`);
  return `pureneuron: k = ${k} on ${source.n} samples will take about ${minutes(total)} here (${parts.filter((p) => p.seconds >= 1).map((p) => `${p.stage} ~${minutes(p.seconds)}`).join(', ')}); the detector grows as k⁴`;
}

const DISTRIBUTED_FLAGS = { shards: { type: 'string' }, redis: { type: 'string' }, queue: { type: 'string' } } as const;

export async function learnCommand(argv: string[], io: Io): Promise<void> {
  const { values: v } = parse(argv, { ...SOURCE_FLAGS, ...optionFlags(LEARN_FLAGS), ...DISTRIBUTED_FLAGS, out: { type: 'string' }, quiet: { type: 'boolean' } });
  if (v.help) return io.out(learnHelp);
  if (v.shards !== undefined || v.redis !== undefined) return learnOnShards(v, io);
  const files = sourceFlags(v);
  const options = optionsFromFlags(v, LEARN_FLAGS);
  const out = required('out', v.out);
  await checkOutputDir(out);
  const source = await openSource(files);
  if (!v.quiet) {
    const long = longRunNote(source, options);
    if (long) io.err(long);
  }
  const progress = progressReporter(v.quiet ? 'quiet' : process.stderr.isTTY ? 'bar' : 'lines', io.err);
  const model: Model = await learn(source, { ...options, k: options.k!, signal: io.signal, onProgress: (p) => progress.update(p) }).then(
    (m) => (progress.stop(true), m),
    (e: unknown) => {
      progress.stop(false);
      throw e;
    },
  );
  await writeFileAtomic(out, JSON.stringify(model.toJSON()) + '\n');
  if (!v.quiet) summary(model, out, `with the ${model.backend} backend in ${(model.diagnostics!.timings.total / 1000).toFixed(2)} s`, io);
}

/** The model's summary lines after a run. */
function summary(model: Model, out: string, how: string, io: Io): void {
  const dg = model.diagnostics!;
  io.err(`learned k = ${model.k} units from ${dg.n} samples (d = ${model.d}, l = ${model.l}) ${how}; wrote ${out}`);
  const est = dg.errorEstimate === undefined ? 'n/a' : dg.errorEstimate.toExponential(2);
  io.err(`estimated W error ${est}; null-space ratio σ_k/σ_k+1 = ${dg.nullSpaceRatio.toExponential(2)}, joint-diagonalization residual ${dg.jointDiagResidual.toExponential(2)}`);
  for (const w of dg.warnings) io.err(`warning: ${w}`);
}

/** `learn --shards MANIFEST --redis URL`: the learner across BullMQ workers (distributed/driver.ts). */
async function learnOnShards(v: Record<string, string | boolean | undefined>, io: Io): Promise<void> {
  const manifest = required('shards', v.shards as string | undefined);
  const redis = required('redis', v.redis as string | undefined);
  for (const flag of ['x', 'y', 'data', 'x-columns', 'y-columns', 'format', 'd', 'l', 'backend', 'cache-bytes']) {
    if (v[flag] !== undefined) throw new UsageError(`--${flag} does not apply to --shards: the manifest names each shard's files and options, and the workers run the passes`);
  }
  const { workers, ...options } = optionsFromFlags(v, LEARN_FLAGS);
  const out = required('out', v.out as string | undefined);
  await checkOutputDir(out);
  const { learnDistributed } = await import('../distributed/driver.js');
  const lines = !v.quiet;
  const tty = lines && process.stderr.isTTY;
  const t0 = performance.now();
  let stepStart = t0;
  const model = await learnDistributed({
    ...options,
    k: options.k!,
    connection: redis,
    shards: manifest,
    queue: v.queue as string | undefined,
    workersPerJob: workers,
    signal: io.signal,
    onProgress: ({ step, done, total }) => {
      if (!lines) return;
      if (done === 0) return void (stepStart = performance.now());
      const rate = done / ((performance.now() - stepStart) / 1000);
      const line = `${step === 'plan' ? 'plan' : step === 'refine' ? 'refinement pass' : `pass ${step}`}: ${done} of ${total} shard${total === 1 ? '' : 's'} (${rate.toFixed(rate < 10 ? 1 : 0)} shards/s)`;
      // On a terminal one line per step, rewritten as shards finish; plain lines otherwise.
      if (tty) process.stderr.write(`\r\x1b[K${line}${done === total ? '\n' : ''}`);
      else io.err(line);
    },
  });
  await writeFileAtomic(out, JSON.stringify(model.toJSON()) + '\n');
  if (lines) summary(model, out, `on ${manifest} through the workers in ${((performance.now() - t0) / 1000).toFixed(2)} s`, io);
}
