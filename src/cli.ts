/**
 * The `pureneuron` command line. Library code never prints; this file is the only place that
 * writes to the terminal and sets exit codes: 0 success, 1 a failure of the data or the fit,
 * 2 a usage error. Errors are one human line on stderr, never a stack trace.
 */
import { UsageError } from './cli/args.js';
import { compareCommand, compareHelp } from './cli/compare.js';
import { demoCommand, demoHelp } from './cli/demo.js';
import { generateCommand, generateHelp } from './cli/generate.js';
import type { Io } from './cli/io.js';
import { learnCommand, learnHelp } from './cli/learn.js';
import { PureneuronError } from './errors.js';

const commands: Record<string, { run: (argv: string[], io: Io) => Promise<void>; help: string; summary: string }> = {
  demo: { run: demoCommand, help: demoHelp, summary: 'plant a network, learn it, print errors and timings' },
  generate: { run: generateCommand, help: generateHelp, summary: 'write a planted problem (samples and truth) to files' },
  learn: { run: learnCommand, help: learnHelp, summary: 'learn a network from sample files' },
  compare: { run: compareCommand, help: compareHelp, summary: 'recovery errors of a model against the truth' },
};

const usage = `Usage: pureneuron <command> [options]

Learns two-layer ReLU networks y = A·relu(W·x) + noise from samples of a symmetric input
distribution by a spectral method of moments.

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(10)}${c.summary}`)
  .join('\n')}

Run 'pureneuron <command> --help' for a command's options.
`;

async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
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
    if (err instanceof UsageError) {
      io.err(`pureneuron: ${err.message}`);
      return 2;
    }
    if (err instanceof PureneuronError || err instanceof RangeError || err instanceof TypeError) {
      io.err(`pureneuron: ${err.message}`);
      return controller.signal.aborted ? 130 : 1;
    }
    io.err(`pureneuron: unexpected error: ${err?.message ?? String(e)}`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

process.exitCode = await main(process.argv.slice(2));
