#!/usr/bin/env node
// Whole processes, as users run pureneuron: `pureneuron learn` once, on files, in a fresh
// process — against the project's own baselines measured in the same run (the JS backend, one
// worker against two, the NumPy reference of the spectral method) and the start-up of the CLI
// itself.
//
//   npm run bench:cli                        # every case → bench/results/cli.{json,md}
//   node bench/cli.mjs --only wasm-vs-js     # one group → build/cli-partial.{json,md}
//   node bench/cli.mjs --repeats 3
//
// Runs the built CLI (dist/cli.js: `npm run build` first). Data: planted problems written once
// by `pureneuron generate` to build/cli-bench/<name>/ (raw f64 files, truth.json, meta.json) and
// reused; the timed runs read them from the page cache.
//
// Protocol: per group, the commands of the group run interleaved (A, B, A, B, …), after one
// untimed run of each, so that load from other processes hits all alike; "wall" is spawn to exit
// (Node start-up, module loading and wasm compilation included). Per run the model's
// diagnostics.timings give the phases inside the process; the first run of each command is
// compared with truth.json (W error). Ratios are of medians measured in the same run.
//
// Yardsticks: at (32,16,32), n = 1e6 (group 'big') the NumPy/OpenBLAS float64 reference of the
// spectral method (bench/numpy-reference.py, docs/reference.md's "reduced + whitened + even part
// + Gauss–Newton polish"), a whole `python3` process reading the same files, interleaved with
// the pureneuron runs under the protocol above; its W error from its --out JSON, its phases from
// the JSON line it prints last on stderr. Without python3 or NumPy the group runs pureneuron
// alone and the table says so. Adam in TensorFlow.js on the same files (bench/tfjs-adam.mjs,
// training time to W error 1e-3, at its default learning rate and the faster one its header
// names), after the timed pureneuron runs of each (20,10,15) group.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './lib/bundle.mjs';
import { machineEnv, sourceProvenance } from './lib/env.mjs';
import { median, round } from './lib/stats.mjs';

const CLI = join(root, 'dist/cli.js');
const NUMPY_REFERENCE = join(root, 'bench/numpy-reference.py');
const DATA = join(root, 'build/cli-bench');
const log = (...a) => console.error(...a);

/** A planted problem on files. */
const problem = (distribution, n, d, k, l, noise) => ({ name: `${distribution}-${d}-${k}-${l}-s${noise}-n${n}`, distribution, n, d, k, l, noise });
const SMALL = [problem('gaussian', 1e4, 20, 10, 15, 0), problem('gaussian', 1e5, 20, 10, 15, 0), problem('mixture', 1e4, 20, 10, 15, 0), problem('mixture', 1e5, 20, 10, 15, 0)];
const MID = problem('gaussian', 2e5, 32, 16, 32, 0.05);
const BIG = problem('gaussian', 1e6, 32, 16, 32, 0.05);

/**
 * The groups: commands run interleaved, with the target for the group where there is one.
 * A run is `pureneuron learn` with extra args, or (numpy: true) bench/numpy-reference.py on the
 * same files. Two-run groups get a ratio row: of medians, runs[ratio[0]] / runs[ratio[1]]
 * (default [1, 0]: the second run over the first).
 */
const GROUPS = [
  { id: 'start-up', what: '`pureneuron --help`: Node and the CLI module, no work', runs: [{ label: '--help', args: ['--help'] }] },
  ...SMALL.map((p) => ({ id: `small-${p.name}`, what: `(20,10,15) ${p.distribution}, n = ${p.n}, noiseless, default options`, target: "Adam's training time to W error 1e-3 ≥ 5× the whole process", problem: p, runs: [{ label: 'default', args: [] }], adam: true })),
  { id: 'big', what: '(32,16,32) gaussian σ = 0.05, n = 1e6, default options', target: 'whole run ≤ 0.8× the NumPy reference', problem: BIG, runs: [{ label: 'pureneuron', args: [] }, { label: 'numpy reference', numpy: true }], ratio: [0, 1] },
  { id: 'wasm-vs-js', what: '(32,16,32), n = 2e5: --backend wasm against --backend js', target: 'js / wasm ≥ 4', problem: MID, runs: [{ label: 'wasm', args: ['--backend', 'wasm'] }, { label: 'js', args: ['--backend', 'js'] }] },
  { id: 'workers', what: '(32,16,32), n = 1e6: --workers 2 against --workers 1', target: '1 worker / 2 workers ≥ 1.7', problem: BIG, runs: [{ label: 'workers 2', args: ['--workers', '2'] }, { label: 'workers 1', args: ['--workers', '1'] }] },
];

function parseArgs(argv) {
  const o = { repeats: 5, only: undefined };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--repeats') o.repeats = Number(argv[++i]);
    else if (argv[i] === '--only') o.only = argv[++i];
    else throw new Error(`unknown argument ${argv[i]}; usage: node bench/cli.mjs [--repeats N] [--only GROUP-ID-PREFIX]`);
  }
  if (!(Number.isInteger(o.repeats) && o.repeats >= 1)) throw new Error('--repeats needs an integer ≥ 1');
  return o;
}

/** Learning rates of the Adam yardstick: bench/tfjs-adam.mjs's default and the faster one its header names. */
const ADAM_LRS = [0.01, 0.03];

/** bench/tfjs-adam.mjs on `dir`: the median training time (ms) to W error ≤ 1e-3 over 5 seeds, and how many reached it. */
function adam(dir, lr) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'bench/tfjs-adam.mjs'), '--dir', dir, '--seeds', '5', '--lr', String(lr), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (s) => (out += s));
    child.stderr.on('data', (s) => (err += s));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`tfjs-adam.mjs --dir ${dir} exited ${code}: ${err.trim()}`));
      const j = JSON.parse(out);
      resolve({ lr, medianTrainMs: j.medianTrainMs, reached: j.seeds.filter((x) => x.reached).length, seeds: j.seeds.length });
    });
  });
}

/** Runs `node dist/cli.js …args` (or `cmd …args`); resolves with its wall time and stderr, or rejects with its stderr. */
function run(args, cmd = process.execPath, pre = [CLI]) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, [...pre, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (s) => (err += s));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve({ wallMs: Number(process.hrtime.bigint() - t0) / 1e6, stderr: err }) : reject(new Error(`${cmd === process.execPath ? 'pureneuron' : cmd} ${[...pre, ...args].join(' ')} exited ${code}: ${err.trim()}`))));
  });
}

/** Why the NumPy reference cannot run here (python3 or NumPy missing), or undefined when it can. */
function numpyMissing() {
  const r = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (r.error) return `python3 not found (${r.error.code ?? r.error.message})`;
  if (r.status !== 0) return `python3 -c "import numpy" failed: ${(r.stderr || '').trim().split('\n').at(-1)}`;
  return undefined;
}

/** bench/numpy-reference.py's phases (its last stderr line) in the table's columns: pass1 includes reading the files and the reduction. */
function numpyPhases(stderr) {
  const p = JSON.parse(stderr.trim().split('\n').at(-1)).phasesMs;
  return { ...p, pass1: p.read + p.pass1 + p.reduce };
}

async function ensureData(p) {
  const dir = join(DATA, p.name);
  if (!existsSync(join(dir, 'truth.json'))) {
    log(`data: generating ${p.name}`);
    await run(['generate', '--distribution', p.distribution, '--n', String(p.n), '--d', String(p.d), '--k', String(p.k), '--l', String(p.l), '--noise', String(p.noise), '--seed', '1', '--out', dir]);
  }
  return dir;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run npm run build first');
  const { compare, Model } = await import(join(root, 'dist/index.js'));
  const env = { ...machineEnv(), ...sourceProvenance(root) };
  const groups = GROUPS.filter((g) => !o.only || g.id.startsWith(o.only));
  mkdirSync(join(root, 'build'), { recursive: true });
  const out = [];
  for (const g0 of groups) {
    const dir = g0.problem ? await ensureData(g0.problem) : undefined;
    // Without python3 or NumPy, pureneuron alone, and a note in the table.
    const missing = g0.runs.some((r) => r.numpy) ? numpyMissing() : undefined;
    const g = missing ? { ...g0, runs: g0.runs.filter((r) => !r.numpy), notes: [`numpy reference: not available here (${missing}); pureneuron ran alone`] } : g0;
    if (missing) log(`${g.id}: numpy reference not available (${missing}); pureneuron alone`);
    const outOf = (i) => join(root, `build/cli-bench-${i}.json`);
    const exec = (r, i) => {
      if (!r.numpy) return run(dir ? ['learn', '--x', join(dir, 'x.f64'), '--y', join(dir, 'y.f64'), '--k', String(g.problem.k), '--out', outOf(i), '--quiet', ...r.args] : r.args);
      const { d, k, l } = g.problem;
      return run(['--x', join(dir, 'x.f64'), '--y', join(dir, 'y.f64'), '--d', String(d), '--l', String(l), '--k', String(k), '--out', outOf(i)], 'python3', [NUMPY_REFERENCE]);
    };
    for (const [i, r] of g.runs.entries()) await exec(r, i); // untimed: page cache, disk
    const walls = g.runs.map(() => []);
    const phases = g.runs.map(() => []);
    const wError = [];
    for (let rep = 0; rep < o.repeats; rep++) {
      for (const [i, r] of g.runs.entries()) {
        const { wallMs, stderr } = await exec(r, i);
        walls[i].push(wallMs);
        if (dir) {
          const model = Model.fromJSON(JSON.parse(readFileSync(outOf(i), 'utf8')));
          phases[i].push(r.numpy ? numpyPhases(stderr) : (model.diagnostics?.timings ?? {}));
          if (rep === 0) wError[i] = compare(model, Model.fromJSON(JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')))).wError;
        }
        log(`${g.id} ${r.label} ${rep + 1}/${o.repeats}: ${(wallMs / 1000).toFixed(2)} s`);
      }
    }
    // The yardstick after the timed runs (its time is training only, inside its process).
    const yardstick = g.adam ? [] : undefined;
    for (const lr of g.adam ? ADAM_LRS : []) {
      yardstick.push(await adam(dir, lr));
      log(`${g.id} adam lr ${lr}: ${yardstick.at(-1).medianTrainMs} ms`);
    }
    out.push({
      id: g.id, what: g.what, target: g.target, adam: yardstick, notes: g.notes, ratio: g.runs.length === 2 ? (g.ratio ?? [1, 0]) : undefined,
      runs: g.runs.map((r, i) => ({
        label: r.label,
        wallMs: round(median(walls[i])), minMs: round(Math.min(...walls[i])), maxMs: round(Math.max(...walls[i])),
        phasesMs: dir ? Object.fromEntries(Object.keys(phases[i][0]).map((k) => [k, round(median(phases[i].map((t) => t[k] ?? NaN)))])) : undefined,
        wError: dir ? round(wError[i]) : undefined,
      })),
    });
  }
  const result = { env: { ...env, loadavgEnd: (await import('node:os')).loadavg().map((v) => round(v)) }, repeats: o.repeats, groups: out };
  const prefix = o.only || o.repeats !== 5 ? join(root, 'build/cli-partial') : join(root, 'bench/results/cli');
  writeFileSync(`${prefix}.json`, JSON.stringify(result, null, 1) + '\n');
  writeFileSync(`${prefix}.md`, render(result));
  process.stdout.write(render(result));
  log(`bench:cli: wrote ${prefix}.json and .md`);
}

function render(r) {
  const e = r.env;
  const lines = [
    `Environment: Node ${e.node}, ${e.cpu}, ${e.cores} cores, ${e.platform}, ${e.date.slice(0, 10)}; load average ${e.loadavgStart.join(' ')} at the start, ${e.loadavgEnd.join(' ')} at the end. Sources: commit ${(e.commit ?? '?').slice(0, 7)}, dist/cli.js. ` +
      `Whole processes (spawn to exit), medians of ${r.repeats} interleaved runs after an untimed one; phases from the model's diagnostics.timings (inside the process); raw f64 files in the page cache.`,
    '',
    '| case | command | wall, median [min–max] | in-process learn() total | of which pass1 · pass2 · extract · errorEstimate · refine · pass3 | W error | target |',
    '|---|---|---|---|---|---|---|',
  ];
  const ms = (v) => (v === undefined ? '' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`);
  for (const g of r.groups) {
    for (const [i, x] of g.runs.entries()) {
      const p = x.phasesMs;
      const parts = p ? ['pass1', 'pass2', 'extract', 'errorEstimate', 'refine', 'pass3'].map((k) => ms(p[k]) || '–').join(' · ') : '';
      lines.push(`| ${i === 0 ? g.what : ''} | ${x.label} | **${ms(x.wallMs)}** [${ms(x.minMs)}–${ms(x.maxMs)}] | ${p ? ms(p.total) : ''} | ${parts} | ${x.wError ?? ''} | ${i === 0 ? (g.target ?? '') : ''} |`);
    }
    for (const note of g.notes ?? []) lines.push(`| | ${note} | | | | | |`);
    if (g.runs.length === 2) {
      const [a, b] = (g.ratio ?? [1, 0]).map((i) => g.runs[i]);
      lines.push(`| | ratio ${a.label} / ${b.label} (wall) | **${(a.wallMs / b.wallMs).toFixed(2)}×** | | | | |`);
    }
    for (const a of g.adam ?? []) {
      const t = a.medianTrainMs;
      lines.push(`| | Adam, TensorFlow.js wasm, lr ${a.lr}: training time to W error 1e-3 (median of ${a.seeds} seeds; ${a.reached} reached it) | **${t === null ? 'not reached' : ms(t)}** | | | | |`);
      if (t !== null) lines.push(`| | ratio Adam training / pureneuron process | **${(t / g.runs[0].wallMs).toFixed(2)}×** | | | | |`);
    }
  }
  lines.push(
    '',
    'Adam: bench/tfjs-adam.mjs (tfjs-core + tfjs-backend-wasm, float32, batch 256, Glorot start, one thread), training time only — no Node or tfjs start-up, no file loading, no monitoring.',
    '',
    'numpy reference: bench/numpy-reference.py, the spectral method alone (docs/reference.md\'s reference variant: reduced + whitened + even part + Gauss–Newton polish, then A by least squares; no refinement), float64, NumPy/OpenBLAS with its default threads; ' +
      'its wall is the whole `python3` process (interpreter start, NumPy import, np.fromfile of both files, the computation, writing its JSON); its in-process total runs from the script\'s first line to the end, and its pass1 includes reading the files and the reduction. ' +
      'Its W error is the spectral estimate\'s; pureneuron\'s default goes on to the least-squares optimum (refine), hence its smaller error.',
    '',
  );
  return lines.join('\n');
}

main().catch((e) => {
  console.error(`bench:cli: ${e.message}`);
  process.exit(1);
});
