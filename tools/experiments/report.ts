/**
 * Markdown from sweep results: the tables of medians and worst cases, the command, the machine.
 * One block per sweep, written to <out>/<sweep>.md and spliced into docs/experiments.md between
 * the markers <!-- experiment:NAME:begin --> and <!-- experiment:NAME:end -->, so the prose
 * around the tables stays hand-written and the numbers always come from the JSON.
 */
import { augmentedPassed, AUGMENTED_CHECK, optimumRatio, quantile } from './harness.js';
import type { AugmentedCell, BaselineResult, Machine, OptimumCell, OptimumResult, OptimumRow, SpectralAggregate, SpectralResult, Stat, SweepResult } from './types.js';

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
    `Adam: minibatch ${r.adam.batchSize}, step ${r.adam.lr}, β = (0.9, 0.999), Glorot-normal start, squared loss, plain-JS float64 (tools/experiments/adam.ts), one thread; ` +
      `early stopping on the loss of the first 4096 samples after every epoch (timed): plateau = not 1% below the loss ${r.adam.window} epochs earlier, converged = below 1e-14 of the zero predictor's loss ½·mean‖y‖²; the weights of the best epoch are kept (Keras' restore_best_weights). ` +
      `spectral+adam: the same trainer with step ${r.refine.lr} and minibatch ${r.refine.batchSize} started from learn()'s estimate. Monitoring (the W error after every epoch) is not timed.` +
      (r.refineLearner ? ` spectral+refine: learn() with its own local refinement, options \`${JSON.stringify({ refine: 'auto', ...r.refineLearner })}\` (the default).` : ''),
    '',
  );
  return lines.join('\n');
}

const shapeOf = (c: { d: number; k: number; l: number }): string => `(${c.d},${c.k},${c.l})`;
const fmtN = (n: number): string => fmtX(n, true);
const cellLabel = (c: OptimumCell): string => `${c.distribution} ${shapeOf(c)}, σ = ${c.noise}, n = ${fmtN(c.n)}`;
const augLabel = (c: AugmentedCell): string => `[X; −X], X ${c.base} ${shapeOf(c)}, σ = ${c.noise}, n = ${fmtN(c.n)}`;
const ratioText = (v: number | null): string => (v === null ? '✗' : v.toFixed(3));
const uniq = <T,>(v: T[]): T[] => [...new Set(v)];

/** Rows of a table of quantiles of the estimate/measured ratio for groups of runs ({ default: measured W error, errorEstimate }). */
function calibrationRows(groups: [string, Pick<OptimumRow, 'default' | 'errorEstimate'>[]][]): string[][] {
  const out: string[][] = [];
  for (const [label, rs] of groups) {
    const q = rs.filter((x) => x.errorEstimate !== null && x.default !== null && x.default > 0).map((x) => x.errorEstimate! / x.default!);
    if (!q.length) continue;
    const within2 = q.filter((v) => v >= 0.5 && v <= 2).length;
    out.push([label, String(q.length), num(quantile(q, 0.1)), num(quantile(q, 0.5)), num(quantile(q, 0.9)), `${within2}/${q.length}`]);
  }
  return out;
}

export function optimumMarkdown(r: OptimumResult, relDir = ''): string {
  const lines = header(r, relDir);
  if (r.resumed) lines.splice(lines.length - 1, 0, `- resumed: ${r.resumed} of the runs come from the checkpoint of an interrupted run of the same command (the time includes theirs)`);
  const cellById = new Map(r.cells.map((c) => [c.id, c]));
  const augById = new Map(r.augmented.map((c) => [c.id, c]));
  const aggById = new Map(r.aggregates.map((a) => [a.cell, a]));
  const nSeeds = r.seeds.length;
  const head = `first ${fmtN(r.headRows)}`;
  const noisy = r.aggregates.filter((a) => cellById.get(a.cell)!.noise > 0);
  const quiet = r.aggregates.filter((a) => cellById.get(a.cell)!.noise === 0);

  // --- Headline numbers.
  const summary: string[] = [];
  const byMedian = noisy.filter((a) => a.ratio.median !== null).sort((a, b) => b.ratio.median! - a.ratio.median!);
  const byWorst = noisy.filter((a) => a.ratio.worst !== null).sort((a, b) => b.ratio.worst! - a.ratio.worst!);
  if (byMedian.length) {
    const m = byMedian[0];
    const w = byWorst[0];
    const flagged = noisy.filter((a) => a.flagged);
    const over = noisy.reduce((s, a) => s + a.over, 0);
    summary.push(
      `- **default / optimum (σ > 0, ${noisy.length} cells × ${nSeeds} seeds):** largest median ${ratioText(m.ratio.median)} (${cellLabel(cellById.get(m.cell)!)}); ` +
        `largest single seed ${ratioText(w.ratio.worst)} (${cellLabel(cellById.get(w.cell)!)}); ` +
        `median over all cells ${ratioText(quantile(noisy.map((a) => a.ratio.median ?? Infinity), 0.5))}. ` +
        `Cells whose median exceeds ${r.flagRatio}: ${flagged.length ? flagged.map((a) => cellLabel(cellById.get(a.cell)!)).join('; ') : 'none'}; single seeds above ${r.flagRatio}: ${over}.`,
    );
  }
  const dist = noisy.filter((a) => a.toOptimum?.median != null);
  if (dist.length) {
    const all = r.rows.filter((x) => x.toOptimum !== undefined && x.optimum);
    const rel = all.map((x) => x.toOptimum! / x.optimum!);
    const worst = dist.filter((a) => a.toOptimum.worst !== null).sort((a, b) => b.toOptimum.worst! - a.toOptimum.worst!)[0];
    summary.push(
      `- **distance of the default from the optimum** (compare(default, optimum).wError ÷ the optimum's W error, σ > 0): median ${num(quantile(rel, 0.5))}, 90th percentile ${num(quantile(rel, 0.9))}` +
        (worst ? `, largest ${num(worst.toOptimum.worst)} (${cellLabel(cellById.get(worst.cell)!)})` : '') +
        '.',
    );
  }
  if (quiet.length) {
    const worst = quiet.filter((a) => a.default.worst !== null).sort((a, b) => b.default.worst! - a.default.worst!)[0];
    const failed = quiet.filter((a) => a.default.worst === null);
    const quietRows = r.rows.filter((x) => cellById.get(x.cell)!.noise === 0);
    const good = quietRows.filter((x) => x.default !== null && x.default <= 1e-10).length;
    summary.push(
      `- **noiseless (the optimum is the truth):** the default's W error is ≤ 1e-10 on ${good} of ${quietRows.length} runs; largest ${worst ? `${num(worst.default.worst)} (${cellLabel(cellById.get(worst.cell)!)})` : '—'}` +
        (failed.length ? `; failed (threw) on ${failed.map((a) => cellLabel(cellById.get(a.cell)!)).join('; ')}` : '') +
        '.',
    );
  }
  const noisyRows = r.rows.filter((x) => cellById.get(x.cell)!.noise > 0);
  const cal = calibrationRows([['all', noisyRows]]);
  if (cal.length) {
    const [, count, p10, p50, p90, within] = cal[0];
    summary.push(`- **error estimate / measured W error (σ > 0, ${count} runs):** median ${p50}, 10th–90th percentile ${p10}–${p90}; within a factor 2: ${within}.`);
  }
  if (r.augmentedAggregates.length) {
    const q = r.augmentedAggregates.filter((a) => a.passed !== undefined);
    const passed = q.reduce((s, a) => s + a.passed!, 0);
    const runs = q.reduce((s, a) => s + a.runs, 0);
    summary.push(
      `- **exactly symmetric [X; −X] samples, noiseless:** ${passed} of ${runs} runs pass every check (W error ≤ ${AUGMENTED_CHECK.wError}, error estimate ≤ ${AUGMENTED_CHECK.errorEstimate}, no warning, k: 'auto' finds k).`,
    );
  }
  lines.push(...summary, '');

  // --- Ratio tables, one per (shape, σ > 0).
  const groups = uniq(noisy.map((a) => { const c = cellById.get(a.cell)!; return `${shapeOf(c)}|${c.noise}`; }));
  const pivotCells = (sel: (c: OptimumCell) => boolean, value: (c: OptimumCell) => string): string => {
    const cs = r.cells.filter(sel);
    const ns = uniq(cs.map((c) => c.n)).sort((a, b) => a - b);
    const dists = uniq(cs.map((c) => c.distribution));
    return table(['distribution \\ n', ...ns.map(fmtN)], dists.map((dist) => [dist, ...ns.map((n) => { const c = cs.find((x) => x.distribution === dist && x.n === n); return c ? value(c) : ''; })]));
  };
  const ratioCell = (c: OptimumCell): string => {
    const a = aggById.get(c.id)!;
    return `${ratioText(a.ratio.median)} [${ratioText(a.ratio.worst)}]${a.flagged ? ' ⚑' : ''}`;
  };
  for (const g of groups) {
    const [shape, noise] = g.split('|');
    lines.push(`**default / optimum W error, median [largest] over ${nSeeds} seeds, (d,k,l) = ${shape}, σ = ${noise}** (⚑: median above ${r.flagRatio})`, '');
    lines.push(pivotCells((c) => shapeOf(c) === shape && String(c.noise) === noise, ratioCell), '');
  }

  // --- Noiseless.
  const quietShapes = uniq(quiet.map((a) => shapeOf(cellById.get(a.cell)!)));
  for (const shape of quietShapes) {
    lines.push(`**noiseless: the default's W error, median [worst] over ${nSeeds} seeds, (d,k,l) = ${shape}** (the optimum is the truth: 0)`, '');
    lines.push(pivotCells((c) => shapeOf(c) === shape && c.noise === 0, (c) => cell(aggById.get(c.id)!.default)), '');
  }

  // --- Calibration.
  if (noisyRows.length) {
    const nOf = (x: OptimumRow) => cellById.get(x.cell)!.n;
    const augNoisy = r.augmentedRows.filter((x) => augById.get(x.cell)!.noise > 0).map((x) => ({ default: x.wError, errorEstimate: x.errorEstimate }));
    const calGroups: [string, Pick<OptimumRow, 'default' | 'errorEstimate'>[]][] = [
      ['all (σ > 0)', noisyRows],
      ...uniq(noisyRows.map((x) => shapeOf(cellById.get(x.cell)!))).map((s): [string, OptimumRow[]] => [`(d,k,l) = ${s}`, noisyRows.filter((x) => shapeOf(cellById.get(x.cell)!) === s)]),
      ...uniq(noisyRows.map((x) => cellById.get(x.cell)!.noise)).map((s): [string, OptimumRow[]] => [`σ = ${s}`, noisyRows.filter((x) => cellById.get(x.cell)!.noise === s)]),
      ...uniq(noisyRows.map((x) => cellById.get(x.cell)!.distribution)).map((s): [string, OptimumRow[]] => [s, noisyRows.filter((x) => cellById.get(x.cell)!.distribution === s)]),
      ...uniq(noisyRows.map(nOf)).sort((a, b) => a - b).map((n): [string, OptimumRow[]] => [`n = ${fmtN(n)}`, noisyRows.filter((x) => nOf(x) === n)]),
      ['[X; −X] augmented, σ > 0', augNoisy],
    ];
    lines.push(
      '**Calibration: diagnostics.errorEstimate / measured W error of the default, σ > 0** (runs with an estimate; the estimate is the standard error of the optimum, so ≈ 1 means calibrated)',
      '',
      table(['runs', 'count', '10th percentile', 'median', '90th percentile', 'within 2×'], calGroups.length ? calibrationRows(calGroups) : []),
      '',
    );
    const missing = noisyRows.filter((x) => x.errorEstimate === null && x.default !== null).length;
    if (missing) lines.push(`${missing} noisy runs had no error estimate.`, '');
  }
  const quietRows = r.rows.filter((x) => cellById.get(x.cell)!.noise === 0);
  if (quietRows.length) {
    const est = quietRows.map((x) => x.errorEstimate).filter((v): v is number => v !== null);
    lines.push(
      `Noiseless runs: error estimate median ${num(quantile(est, 0.5))}, largest ${num(est.length ? Math.max(...est) : null)} (${est.length} of ${quietRows.length} runs gave one); ` +
        `measured W error median ${num(quantile(quietRows.map((x) => x.default ?? Infinity), 0.5))}.`,
      '',
    );
  }

  // --- Augmented.
  if (r.augmentedAggregates.length) {
    lines.push(
      `**Exactly symmetric samples built by augmentation, x = [X; −X] as one block, ${nSeeds} seeds** (✓: every seed has W error ≤ ${AUGMENTED_CHECK.wError}, error estimate ≤ ${AUGMENTED_CHECK.errorEstimate}, no warning and k: 'auto' = k)`,
      '',
    );
    const rowsA = r.augmentedAggregates.map((a) => {
      const c = augById.get(a.cell)!;
      return [
        augLabel(c),
        cell(a.wError),
        cell(a.errorEstimate),
        c.noise > 0 ? `${num(a.optimum.median)}; ${ratioText(a.ratio.median)} [${ratioText(a.ratio.worst)}]` : '0 (truth)',
        `${a.warned}/${a.runs}`,
        `${a.kAutoRight}/${a.runs}`,
        a.passed === undefined ? '' : a.passed === a.runs ? '✓' : `✗ ${a.runs - a.passed} of ${a.runs}`,
      ];
    });
    lines.push(table(['samples', 'W error, median [worst]', 'error estimate, median [worst]', 'optimum W error; default / optimum', 'runs with warnings', "k: 'auto' right", 'noiseless checks'], rowsA), '');
    const failures = r.augmentedRows.filter((x) => {
      const c = augById.get(x.cell)!;
      return (c.noise === 0 && !augmentedPassed(x, c.k)) || x.kAuto !== c.k || x.errors?.length;
    });
    if (failures.length) {
      lines.push('Runs that failed a check (verbatim diagnostics):', '');
      for (const x of failures) {
        const c = augById.get(x.cell)!;
        lines.push(
          `- ${augLabel(c)}, seed ${x.seed}: W error ${num(x.wError)}, error estimate ${num(x.errorEstimate)}, k: 'auto' chose ${x.kAuto ?? '✗'} (planted ${c.k})` +
            (x.warnings.length ? `; warnings: ${x.warnings.map((w) => `“${w}”`).join(' ')}` : '; no warning') +
            (x.kAuto !== c.k && x.kAutoWarnings.length ? `; k: 'auto' warnings: ${x.kAutoWarnings.map((w) => `“${w}”`).join(' ')}` : '') +
            (x.errors?.length ? `; errors: ${x.errors.join('; ')}` : ''),
        );
      }
      lines.push('');
    }
  }

  // --- Errors of every estimate, and costs.
  const failed = r.rows.filter((x) => x.errors?.length);
  if (failed.length) {
    lines.push('Runs where an estimate failed:', '');
    for (const x of failed) lines.push(`- ${cellLabel(cellById.get(x.cell)!)}, seed ${x.seed}: ${x.errors!.join('; ')}`);
    lines.push('');
  }
  const fits = r.rows.flatMap((x) => (x.optimumFit ? [x.optimumFit] : [])).concat(r.augmentedRows.flatMap((x) => (x.optimumFit ? [x.optimumFit] : [])));
  if (fits.length) {
    const stops = uniq(fits.map((f) => f.stop)).map((s) => `${s} ${fits.filter((f) => f.stop === s).length}`).join(', ');
    const passes = fits.map((f) => f.passes);
    const rel = [...r.rows, ...r.augmentedRows].flatMap((x) => (x.optimumFit && x.optimum ? [x.optimumFit.step / x.optimum] : []));
    lines.push(
      `The optimum's Gauss–Newton fits (${fits.length}): stopped by ${stops}; passes over the samples median ${quantile(passes, 0.5)}, at most ${Math.max(...passes)}; ` +
        `last relative step ‖Δθ‖/‖θ‖ at most ${num(Math.max(...fits.map((f) => f.step)))}; that step ÷ the optimum's W error (how precisely the optimum is located): median ${num(quantile(rel, 0.5))}, largest ${num(Math.max(...rel))}.`,
      '',
    );
  }
  lines.push('<details><summary>W errors of the four estimates, the learner\'s own estimate, and times</summary>', '');
  const shapesNoise = uniq(r.cells.map((c) => `${shapeOf(c)}|${c.noise}`));
  for (const g of shapesNoise) {
    const [shape, noise] = g.split('|');
    const cs = r.cells.filter((c) => shapeOf(c) === shape && String(c.noise) === noise);
    const ns = uniq(cs.map((c) => c.n)).sort((a, b) => a - b);
    const rowsW: string[][] = [];
    for (const dist of uniq(cs.map((c) => c.distribution))) {
      const pick = (f: (a: OptimumResult['aggregates'][number]) => string) => ns.map((n) => { const c = cs.find((x) => x.distribution === dist && x.n === n); return c ? f(aggById.get(c.id)!) : ''; });
      rowsW.push([`${dist}: spectral`, ...pick((a) => num(a.spectral.median))]);
      rowsW.push([`${dist}: ${head}`, ...pick((a) => num(a.head.median))]);
      rowsW.push([`${dist}: default`, ...pick((a) => cell(a.default))]);
      rowsW.push([`${dist}: optimum`, ...pick((a) => (Number(noise) > 0 ? cell(a.optimum) : '0'))]);
      if (Number(noise) > 0) rowsW.push([`${dist}: ‖default − optimum‖ ÷ optimum's error`, ...pick((a) => (a.toOptimum ? cell(a.toOptimum) : ''))]);
      rowsW.push([`${dist}: error estimate`, ...pick((a) => num(a.errorEstimate.median))]);
    }
    lines.push(`**W error, median [worst] over ${nSeeds} seeds, (d,k,l) = ${shape}, σ = ${noise}**`, '', table(['estimate \\ n', ...ns.map(fmtN)], rowsW), '');
  }
  const timeRows: string[][] = [];
  for (const shape of uniq(r.cells.map(shapeOf))) {
    const cs = r.cells.filter((c) => shapeOf(c) === shape);
    for (const n of uniq(cs.map((c) => c.n)).sort((a, b) => a - b)) {
      const rs = r.rows.filter((x) => { const c = cellById.get(x.cell)!; return shapeOf(c) === shape && c.n === n; });
      const med = (v: number[]) => quantile(v, 0.5);
      const sec = (v: number | null) => (v === null ? '—' : duration(v));
      const opt = rs.flatMap((x) => (x.optimumFit ? [x.optimumFit] : []));
      timeRows.push([
        shape,
        fmtN(n),
        sec(med(rs.map((x) => x.spectralMs))),
        sec(med(rs.map((x) => x.learnMs))),
        sec(med(rs.flatMap((x) => (x.headFit ? [x.headFit.ms] : [])))),
        opt.length ? `${sec(med(opt.map((f) => f.ms)))} (${med(opt.map((f) => f.passes))} passes)` : '—',
      ]);
    }
  }
  lines.push('**Wall time, median over runs** (learn() on the machine above, both cores; the least-squares fits on one thread)', '');
  lines.push(table(['(d,k,l)', 'n', 'learn(), refine 0', 'learn(), default', `least squares, ${head}`, 'least squares, all n from the truth'], timeRows), '');
  lines.push('</details>', '');
  return lines.join('\n');
}

export function sweepMarkdown(r: SweepResult, relDir = ''): string {
  if (r.kind === 'optimum') return optimumMarkdown(r, relDir);
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
