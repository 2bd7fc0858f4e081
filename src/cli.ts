/**
 * The `pureneuron` command line. Library code never prints; this file is the only place that
 * writes to the terminal and sets exit codes: 0 success, 1 a failure of the data or the fit,
 * 2 a usage error, 128 + the signal number when interrupted (130 SIGINT, 143 SIGTERM).
 * Errors are one human line on stderr, never a stack trace.
 *
 * SIGINT/SIGTERM abort the running command: learn() stops at its next check, atomic writes in
 * progress are abandoned (temporary files removed, destinations untouched), and the command
 * exits with the signal's status. A second signal is not caught: it kills the process at once.
 */
import { constants as osConstants } from 'node:os';
import { UsageError } from './cli/args.js';
import { compareCommand, compareHelp } from './cli/compare.js';
import { demoCommand, demoHelp } from './cli/demo.js';
import { generateCommand, generateHelp } from './cli/generate.js';
import type { Io } from './cli/io.js';
import { learnCommand, learnHelp } from './cli/learn.js';
import { exportCommand, exportHelp } from './cli/export.js';
import { predictCommand, predictHelp } from './cli/predict.js';
import { workerCommand, workerHelp } from './cli/worker.js';
import { accumulateCommand, accumulateHelp, finishCommand, finishHelp, mergeCommand, mergeHelp, planCommand, planHelp } from './cli/shard.js';
import { PureneuronError } from './errors.js';
import { abortWritesOn } from './io/atomic.js';

const commands: Record<string, { run: (argv: string[], io: Io) => Promise<void>; help: string; summary: string }> = {
  demo: { run: demoCommand, help: demoHelp, summary: 'plant a network, learn it, print errors and timings' },
  generate: { run: generateCommand, help: generateHelp, summary: 'write a planted problem (samples and truth) to files' },
  learn: { run: learnCommand, help: learnHelp, summary: 'learn a network from sample files' },
  predict: { run: predictCommand, help: predictHelp, summary: 'the outputs of a model for every row of an input file' },
  export: { run: exportCommand, help: exportHelp, summary: 'write a model as ONNX, for ONNX Runtime and other runtimes' },
  compare: { run: compareCommand, help: compareHelp, summary: 'recovery errors of a model against the truth' },
  worker: { run: workerCommand, help: workerHelp, summary: 'run shard jobs from a Redis queue for learn --shards (BullMQ)' },
  plan: { run: planCommand, help: planHelp, summary: 'sharded learning: the plan (options, weighting scales) from the first shard' },
  accumulate: { run: accumulateCommand, help: accumulateHelp, summary: 'sharded learning: one pass over one shard → a part state' },
  merge: { run: mergeCommand, help: mergeHelp, summary: 'sharded learning: add part states of one pass → the merged state' },
  finish: { run: finishCommand, help: finishHelp, summary: 'sharded learning: the merged pass-3 state → model.json' },
  experiment: { run: experimentCommand, help: "see 'pureneuron experiment --help'", summary: 'run a reproducible sweep (JSON, SVG plot, tables)' },
};

/**
 * The experiments are developer tooling (tools/experiments/), built apart into dist/experiments.js
 * and loaded only by this command: `pureneuron learn` never parses them. The specifier is a
 * value, not a literal, so the bundler leaves the import to run time.
 */
const EXPERIMENTS = new URL('./experiments.js', import.meta.url).href;
async function experimentCommand(argv: string[], io: Io): Promise<void> {
  const tools = (await import(EXPERIMENTS)) as { experimentCommand: (argv: string[], io: Io) => Promise<void> };
  try {
    await tools.experimentCommand(argv, io);
  } catch (e) {
    // That bundle has its own copies of the error classes: map them by name, so a usage mistake
    // exits 2 with its message and a PureneuronError 1, as for every other command.
    const err = e as Error;
    if (err?.name === 'UsageError') throw new UsageError(err.message);
    if (err?.name === 'PureneuronError') throw new PureneuronError((err as PureneuronError).code, err.message);
    throw e;
  }
}

const usage = `Usage: pureneuron <command> [options]

Learns two-layer ReLU networks y = A·relu(W·x) + noise from samples of a symmetric input
distribution by a spectral method of moments. plan / accumulate / merge / finish split the
passes over shards of the data on many processes or machines (docs/distributed.md).

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(12)}${c.summary}`)
  .join('\n')}

Run 'pureneuron <command> --help' for a command's options.
`;

/** The exit status shells give a process stopped by `sig`: 128 + its number (SIGINT 130, SIGTERM 143). */
function signalStatus(sig: NodeJS.Signals): number {
  return 128 + (osConstants.signals[sig] ?? 2);
}

async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  let caught: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    caught ??= sig;
    // The reason ends up in the one-line message: "aborted while reading x.f64: interrupted by SIGINT".
    controller.abort(new Error(`interrupted by ${sig}`));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  abortWritesOn(controller.signal);
  const io: Io = {
    out: (s) => process.stdout.write(s.endsWith('\n') ? s : s + '\n'),
    err: (s) => process.stderr.write(s.endsWith('\n') ? s : s + '\n'),
    signal: controller.signal,
  };
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      io.out(usage);
      return name === undefined ? 2 : 0;
    }
    const cmd = commands[name];
    if (!cmd) throw new UsageError(`unknown command "${name}"; commands: ${Object.keys(commands).join(', ')}`);
    await cmd.run(rest, io);
    return 0;
  } catch (e) {
    const err = e as Error;
    if (caught) {
      // Whatever the interruption surfaced as, say that it was one and exit with the signal's status.
      const aborted = err instanceof PureneuronError && err.code === 'ABORTED';
      io.err(`pureneuron: ${aborted ? err.message : `interrupted by ${caught} (${err?.message ?? String(e)})`}`);
      return signalStatus(caught);
    }
    if (err instanceof UsageError) {
      io.err(`pureneuron: ${err.message}`);
      return 2;
    }
    if (err instanceof PureneuronError || err instanceof RangeError || err instanceof TypeError) {
      io.err(`pureneuron: ${err.message}`);
      return 1;
    }
    io.err(`pureneuron: unexpected error: ${err?.message ?? String(e)}`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    abortWritesOn(undefined);
  }
}

process.exitCode = await main(process.argv.slice(2));
