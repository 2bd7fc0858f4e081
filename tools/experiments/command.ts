/** `pureneuron experiment <sweep|all>`: run a reproducible sweep, write its JSON, SVG and tables. */
import { rewriteFromJson, runExperiment, SWEEP_NAMES, type SweepName } from './index.js';
import { duration } from './report.js';
import { intFlag, parse, UsageError } from '../../src/cli/args.js';
import type { Io } from '../../src/cli/io.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DEFAULT_OUT = 'docs/experiments';
const DEFAULT_DOC = 'docs/experiments.md';

export const experimentHelp = `Usage: pureneuron experiment <sweep|all> [options]

Runs a named sweep of planted problems (generate → learn → compare, several seeds per
configuration) and writes, in the output directory:
  SWEEP.json   every run (errors, learn time, diagnostics) and the median/worst per configuration
  SWEEP.svg    the plot (vega-lite, rendered headless)
  SWEEP.md     the tables of medians and worst cases
With the default output directory the tables are also spliced into ${DEFAULT_DOC}.

Sweeps:
  n          W error vs n (1e3 … 1e6), every input distribution, (10,10,10) and (20,10,15)
  noise      vs output noise σ (0 … 0.3), (20,10,15), n = 3e5
  condition  vs cond(W) (1 … 1000), (20,10,15) and (10,10,10), n = 1e5
  variants   default learner vs its ablations and the paper-literal detector, vs n
  baseline   spectral vs Adam from random starts vs Adam from the spectral estimate
  optimum    the default vs the least-squares optimum of all n samples (n = 1e4 … 1e7,
             computed independently by Gauss–Newton from the truth), the error estimate's
             calibration, exactly symmetric [X; −X] samples; 3 seeds; hours (not in 'all')
  all        all of the above but optimum, cheapest first

Options:
  --quick          a reduced grid (n ≤ 1e5, 3 seeds): ~2 min for all instead of ~10
  --seeds N        seeds 1..N per configuration (default 5, optimum 3; 3 with --quick)
  --max-n N        skip configurations with more than N samples (e.g. 3e5 to leave out n = 1e6)
  --cells GLOBS    optimum: only the cells whose id matches one of the comma-separated globs
                   (* any text, ? one character), e.g. 'gaussian/*/n1e6,*/20-10-15/s0.1/n1e7'
  --out DIR        output directory (default ${DEFAULT_OUT})
  --doc FILE       markdown file to splice the tables into (default ${DEFAULT_DOC} when
                   --out is the default, else none)
  --no-doc         do not touch any markdown document besides DIR/SWEEP.md
  --report-only    do not run anything: re-render the SVG and tables from DIR/SWEEP.json
  --resume         optimum: keep the runs an interrupted run left in its checkpoint
                   (TMPDIR/pureneuron-experiment-optimum-SCALE.jsonl, written as it goes)
  --quiet          no progress lines on stderr
`;

const ORDER: SweepName[] = ['condition', 'noise', 'variants', 'baseline', 'n'];

export async function experimentCommand(argv: string[], io: Io): Promise<void> {
  const { values: v, positionals } = parse(
    argv,
    {
      quick: { type: 'boolean' },
      seeds: { type: 'string' },
      'max-n': { type: 'string' },
      out: { type: 'string' },
      doc: { type: 'string' },
      'no-doc': { type: 'boolean' },
      'report-only': { type: 'boolean' },
      resume: { type: 'boolean' },
      cells: { type: 'string' },
      quiet: { type: 'boolean' },
    },
    true,
  );
  if (v.help) return io.out(experimentHelp);
  if (positionals.length !== 1) throw new UsageError(`experiment takes one sweep name (${SWEEP_NAMES.join(', ')} or all); got ${positionals.length}`);
  const name = positionals[0];
  if (name !== 'all' && !(SWEEP_NAMES as readonly string[]).includes(name)) {
    throw new UsageError(`unknown sweep "${name}"; sweeps: ${SWEEP_NAMES.join(', ')}, all`);
  }
  if (v.doc !== undefined && v['no-doc']) throw new UsageError('--doc and --no-doc exclude each other');
  const scale = v.quick ? 'quick' : 'full';
  // Unset: each sweep's own default (5; the optimum sweep 3), or 3 with --quick.
  const seeds = intFlag('seeds', v.seeds, 1, 1000) ?? (v.quick ? 3 : undefined);
  const maxN = intFlag('max-n', v['max-n'], 1);
  if (v.cells !== undefined && name !== 'optimum') throw new UsageError('--cells applies to the optimum sweep only');
  const cells = v.cells?.split(',').filter(Boolean);
  if (cells !== undefined && cells.length === 0) throw new UsageError('--cells needs at least one glob');
  const out = v.out ?? DEFAULT_OUT;
  const doc = v['no-doc'] ? undefined : (v.doc ?? (v.out === undefined ? DEFAULT_DOC : undefined));
  const names = name === 'all' ? ORDER : [name as SweepName];

  for (const sweep of names) {
    const t0 = performance.now();
    if (v['report-only']) {
      const { files } = await rewriteFromJson(sweep, { out, doc });
      io.out(`${sweep}: re-rendered ${files.join(', ')}`);
      continue;
    }
    const flags = [v.quick ? '--quick' : '', v.seeds !== undefined ? `--seeds ${seeds}` : '', maxN !== undefined ? `--max-n ${maxN}` : '', cells ? `--cells '${cells.join(',')}'` : ''].filter(Boolean);
    const command = ['pureneuron experiment', sweep, ...flags].join(' ');
    const { files } = await runExperiment(
      sweep,
      {
        scale,
        seeds,
        maxN,
        cells,
        command,
        signal: io.signal,
        log: v.quiet ? undefined : (line) => io.err(line),
        checkpoint: sweep === 'optimum' ? join(tmpdir(), `pureneuron-experiment-optimum-${scale}.jsonl`) : undefined,
        resume: v.resume,
      },
      { out, doc },
    );
    io.out(`${sweep}: ${duration(performance.now() - t0)}; wrote ${files.join(', ')}`);
  }
}
