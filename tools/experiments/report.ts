/**
 * Markdown from sweep results: the tables of medians and worst cases, the command, the machine.
 * One block per sweep, written to <out>/<sweep>.md and spliced into docs/experiments.md between
 * the markers <!-- experiment:NAME:begin --> and <!-- experiment:NAME:end -->, so the prose
 * around the tables stays hand-written and the numbers always come from the JSON.
 */
import type { BaselineResult, Machine, SpectralAggregate, SpectralResult, Stat, SweepResult } from './types.js';

/** A number in 2 significant digits, exponent form below 1e-3; ✗ for a failed run. */
export function num(v: number | null): string {
  if (v === null) return '✗';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e4) return String(Number(v.toPrecision(2)));
  return v.toExponential(1).replace('e-', 'e−');
}

const cell = (s: Stat): string => `${num(s.median)} [${num(s.worst)}]`;

export function duration(ms: number): string {
  const s = ms / 1000;
  if (s < 1) return `${Math.round(ms)} ms`;
  if (s < 10) return `${s.toFixed(2)} s`;
  if (s < 120) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - 60 * m)} s`;
}

const fmtX = (x: number, log: boolean): string => {
  if (!log || x < 1000) return String(x);
  const e = Math.floor(Math.log10(x) + 1e-9);
  const m = x / 10 ** e;
  return Math.abs(m - 1) < 1e-9 ? `1e${e}` : `${+m.toFixed(2)}e${e}`;
};

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function machineLine(m: Machine, backend: string): string {
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node} (${m.platform}), ${backend} backend`;
}

function header(r: SweepResult, relDir: string): string[] {
  const seeds = r.seeds.length > 1 ? `${r.seeds[0]}–${r.seeds[r.seeds.length - 1]}` : String(r.seeds[0]);
  return [
    `![${r.title}](${relDir}${r.sweep}.svg)`,
    '',
    `${r.description}`,
    '',
    `- command: \`${r.command}\` (scale ${r.scale}, seeds ${seeds}); took ${duration(r.durationMs)} on ${r.date.slice(0, 10)}${r.revision ? ` at revision ${r.revision}` : ''}`,
    `- machine: ${machineLine(r.machine, r.backend)}; load average ${r.load ? `${r.load[0]} at the start, ${r.load[1]} at the end` : 'not recorded'} (other work on the machine slows the timings)`,
    `- raw data (every seed) and aggregates: [${r.sweep}.json](${relDir}${r.sweep}.json)`,
    '',
  ];
}

/**
 * Pivot: one table per facet, rows = series, columns = swept values. With `withReference`, each
 * series row is followed by the reference figures (docs/reference.md) for that series, in italics.
 */
function pivot(r: SpectralResult, value: (a: SpectralAggregate) => string, withReference = false): Map<string, string> {
  const log = r.xScale === 'log';
  const out = new Map<string, string>();
  const facets = [...new Set(r.aggregates.map((a) => a.facet))];
  for (const f of facets) {
    const ag = r.aggregates.filter((a) => a.facet === f);
    const xs = [...new Set(ag.map((a) => a.x))].sort((a, b) => a - b);
    const series = [...new Set(ag.map((a) => a.series))];
    const rows: string[][] = [];
    for (const s of series) {
      rows.push([
        s,
        ...xs.map((x) => {
          const a = ag.find((g) => g.series === s && g.x === x);
          return a ? value(a) : '';
        }),
      ]);
      const refs = withReference ? (r.reference ?? []).filter((p) => p.facet === f && p.series === s) : [];
      for (const label of new Set(refs.map((p) => p.label))) {
        rows.push([
          `↳ *${label}*`,
          ...xs.map((x) => {
            const p = refs.find((q) => q.label === label && q.x === x);
            return p ? `*${num(p.median)}${p.worst === null ? '' : ` [${num(p.worst)}]`}*` : '';
          }),
        ]);
      }
    }
    const xName = r.xLabel.replace(/ .*$/, '') === 'samples' ? 'n' : r.xLabel;
    out.set(f, table([`${r.seriesLabel} \\ ${xName}`, ...xs.map((x) => fmtX(x, log))], rows));
  }
  return out;
}

export function spectralMarkdown(r: SpectralResult, relDir = ''): string {
  const lines = header(r, relDir);
  const nSeeds = r.seeds.length;
  const failures = (a: SpectralAggregate) => (a.failures ? ` (${a.failures}✗)` : '');
  const w = pivot(r, (a) => cell(a.wError) + failures(a), true);
  for (const [f, t] of w) lines.push(`**W error, median [worst] over ${nSeeds} seeds, ${f}**`, '', t, '');
  const errors = r.rows.filter((x) => x.error !== undefined).map((x) => x.error!.split(':')[0]);
  if (errors.length) {
    const counts = [...new Set(errors)].map((c) => `${c} ×${errors.filter((e) => e === c).length}`).join(', ');
    lines.push(`✗: learn() threw (the count in parentheses; ${counts}); such a run counts as an infinite error in the median and the worst.`, '');
  }
  lines.push(...selfCheck(r), '');
  const details: [string, (a: SpectralAggregate) => string][] = [
    ['A error, median [worst]', (a) => cell(a.aError)],
    ['prediction error (relative RMS on Gaussian inputs), median [worst]', (a) => cell(a.predictionError)],
    ['learn() wall time, median [worst] (s)', (a) => `${num(a.learnMs.median === null ? null : a.learnMs.median / 1000)} [${num(a.learnMs.worst === null ? null : a.learnMs.worst / 1000)}]`],
    ['diagnostics: null-space ratio σ_k/σ_k+1, median [worst]; runs with warnings', (a) => `${cell(a.nullSpaceRatio)}${a.warned ? `; ${a.warned}⚠` : ''}`],
  ];
  if (r.aggregates.some((a) => a.errorEstimate && a.errorEstimate.median !== null)) {
    details.push(["the learner's own W-error estimate (diagnostics.errorEstimate), median [worst]: compare with the W error table", (a) => (a.errorEstimate ? cell(a.errorEstimate) : '')]);
  }
  lines.push('<details><summary>A error, prediction error, learn() time and diagnostics</summary>', '');
  for (const [title, f] of details) {
    for (const [facet, t] of pivot(r, f)) lines.push(`**${title}, ${facet}**`, '', t, '');
  }
  lines.push('</details>', '');
  return lines.join('\n');
}

/**
 * Does the learner say when it has failed? Over every run of the sweep: how many runs with a
 * bad W error (> 0.1) carried a warning or an error estimate above 0.1, and how many good runs
 * were flagged anyway.
 */
function selfCheck(r: SpectralResult): string[] {
  const ok = r.rows.filter((x) => x.wError !== null);
  const bad = ok.filter((x) => x.wError! > 0.1);
  const good = ok.filter((x) => x.wError! <= 0.1);
  const threw = r.rows.length - ok.length;
  const parts = [
    `**Does learn() say when it failed?** Of ${r.rows.length} runs, ${threw} threw and ${bad.length} returned a W error > 0.1.`,
  ];
  if (bad.length) {
    const warned = bad.filter((x) => x.warnings > 0).length;
    parts.push(`Of those ${bad.length}, ${warned} carried a warning`);
    const withEst = bad.filter((x) => x.errorEstimate !== null);
    if (withEst.length) parts[parts.length - 1] += ` and ${withEst.filter((x) => x.errorEstimate! > 0.1).length} had an error estimate (diagnostics.errorEstimate) above 0.1`;
    parts[parts.length - 1] += '.';
  }
  if (good.length) {
    const est = good.filter((x) => x.errorEstimate !== null && x.errorEstimate > 0.1).length;
    parts.push(`Of the ${good.length} runs with W error ≤ 0.1, ${good.filter((x) => x.warnings > 0).length} carried a warning and ${est} had an error estimate above 0.1.`);
  }
  return [parts.join(' ')];
}

export function baselineMarkdown(r: BaselineResult, relDir = ''): string {
  const lines = header(r, relDir);
  const label = new Map(r.problems.map((p) => [p.id, p.label]));
  const n = r.seeds.length;
  const rows = r.aggregates.map((a) => {
    const stops = r.rows.filter((x) => x.problem === a.problem && x.method === a.method && x.stop).map((x) => x.stop!);
    const counts = [...new Set(stops)].map((s) => `${s} ${stops.filter((x) => x === s).length}`).join(', ');
    return [
      label.get(a.problem) ?? a.problem,
      a.method,
      cell(a.wError),
      cell(a.aError),
      cell(a.predictionError),
      `${a.successes}/${a.runs}`,
      a.msToTargetMedian === null ? '—' : duration(a.msToTargetMedian),
      a.msToFineMedian === null ? `— (0/${a.runs})` : `${duration(a.msToFineMedian)} (${a.fineSuccesses}/${a.runs})`,
      a.msMedian === null ? '—' : duration(a.msMedian) + (counts ? ` (${counts})` : ''),
    ];
  });
  lines.push(
    `**${n} seeds per problem. Success: W error < ${r.target}. Times to a target: median over the runs that reached it (how many in parentheses). Total: learn(); Adam until its stop (plateau, converged, or the ${duration(r.adam.maxMs)} budget); spectral+adam: both.**`,
    '',
    table(['problem', 'method', 'W error, median [worst]', 'A error', 'prediction error', 'successes', `time to W error < ${r.target}`, `time to W error < ${(r.fineTarget ?? 1e-6).toExponential(0).replace('e-', 'e−')}`, 'total time, median (stops)'], rows),
    '',
    `Adam: minibatch ${r.adam.batchSize}, step ${r.adam.lr}, β = (0.9, 0.999), Glorot-normal start, squared loss, plain-JS float64 (src/experiments/adam.ts), one thread; ` +
      `early stopping on the loss of the first 4096 samples after every epoch (timed): plateau = not 1% below the loss ${r.adam.window} epochs earlier, converged = below 1e-14 of the zero predictor's loss ½·mean‖y‖²; the weights of the best epoch are kept (Keras' restore_best_weights). ` +
      `spectral+adam: the same trainer with step ${r.refine.lr} and minibatch ${r.refine.batchSize} started from learn()'s estimate. Monitoring (the W error after every epoch) is not timed.` +
      (r.refineLearner ? ` spectral+refine: learn() with its own local refinement, options \`${JSON.stringify({ refine: 'auto', ...r.refineLearner })}\` (the default).` : ''),
    '',
  );
  return lines.join('\n');
}

export function sweepMarkdown(r: SweepResult, relDir = ''): string {
  return r.kind === 'spectral' ? spectralMarkdown(r, relDir) : baselineMarkdown(r, relDir);
}

export const beginMarker = (name: string) => `<!-- experiment:${name}:begin (generated from ${name}.json by pureneuron experiment; do not edit) -->`;
export const endMarker = (name: string) => `<!-- experiment:${name}:end -->`;

/**
 * Replaces the generated block of `name` in a document (between its markers), or appends a
 * new section with the block when the markers are missing.
 */
export function splice(doc: string, name: string, title: string, block: string): string {
  const begin = doc.indexOf(`<!-- experiment:${name}:begin`);
  const endTag = endMarker(name);
  const end = doc.indexOf(endTag);
  const body = `${beginMarker(name)}\n\n${block.trimEnd()}\n\n${endTag}`;
  if (begin >= 0 && end > begin) return doc.slice(0, begin) + body + doc.slice(end + endTag.length);
  return `${doc.trimEnd()}\n\n## ${title}\n\n${body}\n`;
}
