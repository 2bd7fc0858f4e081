/**
 * Plots of sweep results as SVG, rendered headless in Node by vega + vega-lite
 * (`new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' }).toSVG()`: no
 * canvas, no browser). Both are development dependencies: they are loaded at run time (not
 * bundled into dist/), so only the experiment command needs them.
 */
import type { BaselineResult, OptimumResult, SpectralResult, SweepResult } from './types.js';

/** The part of the vega API used here. */
interface VegaModule {
  parse(spec: unknown): unknown;
  View: new (runtime: unknown, options: { renderer: 'none' }) => { toSVG(): Promise<string>; finalize(): void };
}
interface VegaLiteModule {
  compile(spec: unknown, options?: { logger?: unknown }): { spec: unknown };
}

/** vega-lite's compiler warns on stdout about layout heuristics; keep the CLI output clean. */
const quietLogger = {
  level(): number {
    return 0;
  },
  error(...args: unknown[]) {
    throw new Error(`vega-lite: ${args.join(' ')}`);
  },
  warn() {},
  info() {},
  debug() {},
};

let loaded: Promise<{ vega: VegaModule; vl: VegaLiteModule }> | undefined;

async function loadVega(): Promise<{ vega: VegaModule; vl: VegaLiteModule }> {
  // Specifiers in variables: esbuild leaves these imports to run time instead of bundling vega.
  const names = ['vega', 'vega-lite'];
  loaded ??= Promise.all([import(names[0]), import(names[1])]).then(
    ([vega, vl]) => ({ vega: vega as VegaModule, vl: vl as VegaLiteModule }),
    (e: Error) => {
      loaded = undefined;
      throw new Error(`plotting needs the development dependencies vega and vega-lite (run npm install in the package): ${e.message}`);
    },
  );
  return loaded;
}

/** Renders a vega-lite spec to an SVG string. */
export async function renderSvg(spec: object): Promise<string> {
  const { vega, vl } = await loadVega();
  const view = new vega.View(vega.parse(vl.compile(spec, { logger: quietLogger }).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Errors below this are drawn at it (log scale); a failed run is drawn at FAILED. */
const FLOOR = 1e-12;
const FAILED = 2;
const clamp = (v: number | null): number => (v === null ? FAILED : Math.max(v, FLOOR));
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

const fmtX = (x: number): string => (x === 0 ? '0' : String(x));

/** Powers of ten covering the values (for log-axis ticks and grid lines). */
function decades(values: number[]): number[] {
  const lo = Math.floor(Math.log10(Math.min(...values)) + 1e-9);
  const hi = Math.ceil(Math.log10(Math.max(...values)) - 1e-9);
  const out: number[] = [];
  for (let e = lo; e <= hi; e++) out.push(10 ** e);
  return out;
}

const LEGEND = { orient: 'bottom', symbolOpacity: 1, symbolStrokeWidth: 2, labelLimit: 360 };

/** Median W error vs the swept value, one line per series, a band from the median to the worst. */
export function spectralSpec(r: SpectralResult): object {
  const series = [...new Set(r.aggregates.map((a) => a.series))];
  const facets = [...new Set(r.aggregates.map((a) => a.facet))];
  const xOrder = [...new Set(r.aggregates.map((a) => a.x))].sort((a, b) => a - b).map(fmtX);
  const values = r.aggregates.map((a) => ({
    kind: 'agg',
    series: a.series,
    facet: a.facet,
    x: a.x,
    xLabel: fmtX(a.x),
    median: clamp(a.wError.median),
    worst: clamp(a.wError.worst),
    failures: a.failures,
  }));
  const refs = (r.reference ?? []).map((p) => ({
    kind: 'ref',
    series: p.series,
    facet: p.facet,
    x: p.x,
    xLabel: fmtX(p.x),
    median: p.median,
    worst: p.worst ?? p.median,
  }));
  const agg = { filter: "datum.kind === 'agg'" };
  const ref = { filter: "datum.kind === 'ref'" };
  const xs = [...new Set(r.aggregates.map((a) => a.x))];
  const x =
    r.xScale === 'log'
      ? { field: 'x', type: 'quantitative', scale: { type: 'log' }, title: r.xLabel, axis: { format: '~s', grid: true, values: xs } }
      : { field: 'xLabel', type: 'ordinal', sort: xOrder, title: r.xLabel, axis: { labelAngle: 0 } };
  const y = {
    field: 'median',
    type: 'quantitative',
    scale: { type: 'log' },
    title: 'W error: median (line), worst (band, ▲)',
    axis: { format: '.0e', grid: true, values: decades([...values, ...refs].flatMap((v) => [v.median, v.worst])) },
  };
  const color = { field: 'series', type: 'nominal', sort: series, title: null, legend: { ...LEGEND, columns: Math.min(series.length, r.seriesLabel === 'variant' ? 2 : 4) } };
  return {
    $schema: SCHEMA,
    title: {
      text: r.title,
      subtitle: [
        `${r.seeds.length} seeds per point; failed runs drawn at W error ${FAILED}.`,
        ...(refs.length ? ['✕ with a bar: reference figure of docs/reference.md (NumPy), median to worst, in the color of its series.'] : []),
        r.command,
      ],
      anchor: 'start',
    },
    data: { values: [...values, ...refs] },
    facet: { column: { field: 'facet', type: 'nominal', sort: facets, title: null, header: { labelFontSize: 12 } } },
    spec: {
      width: facets.length === 1 ? 520 : 340,
      height: 260,
      layer: [
        { transform: [agg], mark: { type: 'area', opacity: 0.13 }, encoding: { x, y, y2: { field: 'worst' }, color } },
        { transform: [agg], mark: { type: 'line', point: { filled: true, size: 30 }, strokeWidth: 1.6 }, encoding: { x, y, color } },
        {
          transform: [agg],
          mark: { type: 'point', shape: 'triangle-up', size: 22, filled: false, opacity: 0.8 },
          encoding: { x, y: { ...y, field: 'worst' }, color },
        },
        ...(refs.length
          ? [
              { transform: [ref], mark: { type: 'rule', strokeWidth: 2.5, opacity: 0.7 }, encoding: { x, y, y2: { field: 'worst' }, color } },
              {
                transform: [ref],
                mark: { type: 'point', shape: 'cross', angle: 45, size: 110, filled: true, opacity: 1, stroke: 'black', strokeWidth: 0.6 },
                encoding: { x, y, color },
              },
            ]
          : []),
      ],
    },
    config: { font: 'sans-serif', view: { stroke: '#ccc' } },
  };
}

/**
 * W error vs time for every run of the baseline sweep: Adam curves (thin, one per seed), the
 * spectral estimate (a point), and Adam started from the spectral estimate; target dashed.
 */
export function baselineSpec(r: BaselineResult): object {
  const labels = new Map(r.problems.map((p) => [p.id, p.label]));
  const order = r.problems.map((p) => p.label);
  const values: object[] = [];
  for (const row of r.rows) {
    const problem = labels.get(row.problem) ?? row.problem;
    if (row.method === 'spectral' || row.method === 'spectral+refine') {
      if (row.wError !== null) values.push({ problem, method: row.method, seed: row.seed, t: Math.max(row.ms, 1) / 1000, w: clamp(row.wError), kind: 'point' });
    } else {
      for (const [t, w] of row.trace ?? []) values.push({ problem, method: row.method, seed: row.seed, t: Math.max(t, 1) / 1000, w: clamp(w), kind: 'trace' });
    }
  }
  const methods = ['spectral', 'spectral+refine', 'adam', 'spectral+adam'].filter((m) => r.rows.some((x) => x.method === m));
  const palette: Record<string, string> = { spectral: '#d62728', 'spectral+refine': '#ff7f0e', adam: '#1f77b4', 'spectral+adam': '#2ca02c' };
  const color = {
    field: 'method',
    type: 'nominal',
    sort: methods,
    scale: { domain: methods, range: methods.map((m) => palette[m]) },
    title: null,
    legend: LEGEND,
  };
  const ws = (values as { w: number }[]).map((v) => v.w);
  const ts = (values as { t: number }[]).map((v) => v.t);
  const onePerPanel = { aggregate: [{ op: 'count', as: 'rows' }], groupby: ['problem'] };
  const x = { field: 't', type: 'quantitative', scale: { type: 'log' }, title: 'time (s)', axis: { grid: true, values: decades(ts), format: '~g' } };
  const y = { field: 'w', type: 'quantitative', scale: { type: 'log' }, title: 'W error', axis: { format: '.0e', grid: true, values: decades([...ws, r.target]) } };
  return {
    $schema: SCHEMA,
    title: {
      text: r.title,
      subtitle: [
        `${r.seeds.length} seeds. Points: learn() (spectral, spectral+refine). Lines: W error after each epoch of Adam vs training time;`,
        `spectral+adam starts at learn()'s point and time. W error below ${FLOOR} drawn at ${FLOOR}; dashed: targets ${r.target} and ${(r.fineTarget ?? 1e-6).toExponential(0)}. ${r.command}`,
      ],
      anchor: 'start',
    },
    data: { values },
    facet: { field: 'problem', type: 'nominal', sort: order, title: null, header: { labelFontSize: 11 } },
    columns: 3,
    spec: {
      width: 250,
      height: 200,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'trace'" }],
          mark: { type: 'line', strokeWidth: 1, opacity: 0.6, clip: true },
          encoding: { x, y, color, detail: { field: 'seed', type: 'nominal' } },
        },
        {
          transform: [{ filter: "datum.kind === 'point'" }],
          mark: { type: 'point', filled: true, size: 40, shape: 'diamond' },
          encoding: { x, y, color },
        },
        // One rule per panel (not one per data row): aggregate to a single row per problem first.
        { transform: [onePerPanel], mark: { type: 'rule', strokeDash: [4, 3], color: '#555' }, encoding: { y: { datum: r.target } } },
        { transform: [onePerPanel], mark: { type: 'rule', strokeDash: [1, 3], color: '#555' }, encoding: { y: { datum: r.fineTarget ?? 1e-6 } } },
      ],
    },
    config: { font: 'sans-serif', view: { stroke: '#ccc' } },
  };
}

/** Errors below this are drawn at it in the calibration scatter (noiseless fits reach 1e-16 and estimates 0). */
const CAL_FLOOR = 1e-16;

/**
 * Top: median W error vs n, one panel per (distribution, shape, σ > 0), lines for the spectral
 * estimate, least squares on the first rows, the default and the all-sample optimum, and a
 * dashed c/√n line (c fitted to the optimum's medians). Bottom: the error estimate against the
 * measured W error of the default, every run (σ > 0 and 0, and the augmented samples), with
 * y = x and factor-2 bands.
 */
export function optimumSpec(r: OptimumResult): object {
  const cellById = new Map(r.cells.map((c) => [c.id, c]));
  const shape = (c: { d: number; k: number; l: number }) => `(${c.d},${c.k},${c.l})`;
  const head = `first ${r.headRows >= 1000 ? `1e${Math.round(Math.log10(r.headRows))}` : r.headRows}`;
  const methods = ['spectral', head, 'default', 'optimum'];
  const palette = ['#d62728', '#ff7f0e', '#1f77b4', '#2ca02c'];
  const panelOf = (c: { distribution: string; d: number; k: number; l: number; noise: number }) => `${c.distribution} ${shape(c)}, σ = ${c.noise}`;
  const noisy = r.cells.filter((c) => c.noise > 0);
  const panels = [...new Set(noisy.map(panelOf))];
  const values: object[] = [];
  for (const a of r.aggregates) {
    const c = cellById.get(a.cell)!;
    if (c.noise === 0) continue;
    const stats = [a.spectral, a.head, a.default, a.optimum];
    methods.forEach((m, i) => {
      if (stats[i].median !== null) values.push({ kind: 'agg', panel: panelOf(c), method: m, n: c.n, w: clamp(stats[i].median) });
    });
  }
  // c/√n through the optimum's medians (geometric mean of w·√n over the panel).
  for (const p of panels) {
    const pts = (values as { kind: string; panel: string; method: string; n: number; w: number }[]).filter((v) => v.panel === p && v.method === 'optimum');
    if (!pts.length) continue;
    const c = Math.exp(pts.reduce((s, v) => s + Math.log(v.w * Math.sqrt(v.n)), 0) / pts.length);
    for (const v of pts) values.push({ kind: 'ref', panel: p, n: v.n, w: c / Math.sqrt(v.n) });
  }
  const ws = (values as { w: number }[]).map((v) => v.w);
  const ns = [...new Set(r.cells.map((c) => c.n))].sort((a, b) => a - b);
  const x = { field: 'n', type: 'quantitative', scale: { type: 'log' }, title: 'samples n', axis: { format: '~s', grid: true, values: ns } };
  const y = { field: 'w', type: 'quantitative', scale: { type: 'log' }, title: 'W error (median)', axis: { format: '.0e', grid: true, values: ws.length ? decades(ws) : [] } };
  const color = { field: 'method', type: 'nominal', sort: methods, scale: { domain: methods, range: palette }, title: null, legend: { ...LEGEND, columns: 4 } };

  // The calibration scatter.
  const augById = new Map(r.augmented.map((c) => [c.id, c]));
  const points: object[] = [];
  for (const row of r.rows) {
    const c = cellById.get(row.cell)!;
    if (row.default === null || row.errorEstimate === null) continue;
    points.push({ measured: Math.max(row.default, CAL_FLOOR), estimate: Math.max(row.errorEstimate, CAL_FLOOR), noise: `σ = ${c.noise}`, samples: `${shape(c)}, planted inputs` });
  }
  for (const row of r.augmentedRows) {
    const c = augById.get(row.cell)!;
    if (row.wError === null || row.errorEstimate === null) continue;
    points.push({ measured: Math.max(row.wError, CAL_FLOOR), estimate: Math.max(row.errorEstimate, CAL_FLOOR), noise: `σ = ${c.noise}`, samples: `${shape(c)}, [X; −X] augmented` });
  }
  const scatter = (pts: { measured: number; estimate: number; noise: string; samples: string }[], title: string): object => {
    const all = pts.flatMap((p) => [p.measured, p.estimate]);
    const lo = all.length ? Math.min(...all) / 2 : 1e-6;
    const hi = all.length ? Math.max(...all) * 2 : 1;
    const guide: object[] = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e += 0.125) {
      const v = 10 ** e;
      guide.push({ line: 'y = x', measured: v, estimate: v }, { line: '2× band', measured: v, estimate: 2 * v }, { line: '½× band', measured: v, estimate: v / 2 });
    }
    const cx = { field: 'measured', type: 'quantitative', scale: { type: 'log', domain: [lo, hi] }, title: 'measured W error of the default', axis: { format: '.0e', grid: true } };
    const cy = { field: 'estimate', type: 'quantitative', scale: { type: 'log', domain: [lo, hi] }, title: 'diagnostics.errorEstimate', axis: { format: '.0e', grid: true } };
    return {
      title: { text: title, anchor: 'start', fontSize: 12 },
      width: 380,
      height: 320,
      layer: [
        {
          data: { values: guide },
          mark: { type: 'line', clip: true, color: '#888' },
          encoding: {
            x: cx,
            y: cy,
            detail: { field: 'line', type: 'nominal' },
            strokeDash: { field: 'line', type: 'nominal', sort: ['y = x', '2× band', '½× band'], scale: { domain: ['y = x', '2× band', '½× band'], range: [[1, 0], [4, 3], [4, 3]] }, legend: null },
          },
        },
        {
          data: { values: pts },
          mark: { type: 'point', filled: true, size: 26, opacity: 0.65, clip: true },
          encoding: {
            x: cx,
            y: cy,
            color: { field: 'noise', type: 'nominal', title: null, legend: { orient: 'bottom' } },
            shape: { field: 'samples', type: 'nominal', title: null, legend: { orient: 'bottom', columns: 2, labelLimit: 260 } },
          },
        },
      ],
    };
  };
  const typed = points as { measured: number; estimate: number; noise: string; samples: string }[];
  return {
    $schema: SCHEMA,
    title: {
      text: r.title,
      subtitle: [
        `Median over ${r.seeds.length} seeds per point; dashed: c/√n through the optimum. σ > 0 only (noiseless: the optimum is the truth, see the tables).`,
        r.command,
      ],
      anchor: 'start',
    },
    vconcat: [
      {
        data: { values },
        facet: { field: 'panel', type: 'nominal', sort: panels, title: null, header: { labelFontSize: 11 } },
        columns: 4,
        spec: {
          width: 190,
          height: 150,
          layer: [
            { transform: [{ filter: "datum.kind === 'agg'" }], mark: { type: 'line', point: { filled: true, size: 25 }, strokeWidth: 1.5, clip: true }, encoding: { x, y, color } },
            { transform: [{ filter: "datum.kind === 'ref'" }], mark: { type: 'line', strokeDash: [5, 4], color: '#666', strokeWidth: 1, clip: true }, encoding: { x, y } },
          ],
        },
        resolve: { scale: { y: 'independent' } },
      },
      {
        hconcat: [
          scatter(typed.filter((p) => p.noise !== 'σ = 0'), 'Calibration, σ > 0: error estimate vs measured W error (every run)'),
          scatter(typed.filter((p) => p.noise === 'σ = 0'), `σ = 0 (exact fits; values below ${CAL_FLOOR} drawn at ${CAL_FLOOR})`),
        ],
        resolve: { scale: { color: 'independent', shape: 'independent', strokeDash: 'independent' } },
      },
    ],
    resolve: { scale: { color: 'independent', shape: 'independent', strokeDash: 'independent' }, legend: { color: 'independent', shape: 'independent' } },
    config: { font: 'sans-serif', view: { stroke: '#ccc' } },
  };
}

export function plotSpec(r: SweepResult): object {
  if (r.kind === 'optimum') return optimumSpec(r);
  return r.kind === 'spectral' ? spectralSpec(r) : baselineSpec(r);
}

export async function plotSvg(r: SweepResult): Promise<string> {
  return renderSvg(plotSpec(r));
}
