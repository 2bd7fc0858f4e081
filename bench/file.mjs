#!/usr/bin/env node
// File throughput and memory of `pureneuron learn`, run as a user runs it: a child process
// reading raw f64 files.
//
//   npm run bench:file                          # n = 1e7, workers 1 and 2, 3 repeats → bench/results/file.{json,md}
//   node bench/file.mjs --n 1e6 --repeats 1     # quick run → build/file-partial.{json,md}
//   node bench/file.mjs --n 2e6 --workers 0,1,2 --chunk-rows 16384,65536 --repeats 1   # memory vs chunk size
//   node bench/file.mjs --memory-check 4.3e9    # one learn of an x.f64 of ≥ 4.3e9 bytes (and y.f64 as large):
//                                               # peak RSS against --rss-limit (300 MB), wall time, W error
//
// Runs the built CLI (dist/cli.js; `npm run build` first, or pass --build): it warns when a
// file under src/ or assembly/ is newer than dist/cli.js, i.e. the run would time stale code.
//
// Protocol:
// 1. Data: a Gaussian planted problem, (d,k,l) = (32,16,32), noise σ = 0.05, seed 1, written
//    once by the streaming `pureneuron generate` to build/file-bench/<name>/ (x.f64, y.f64,
//    truth.json, meta.json) and reused by later runs (build/ is not committed; --delete-data
//    removes it at the end). Generation is timed and its peak RSS recorded when it happens.
// 2. Read baseline: x.f64 and y.f64 read once in 1 MiB blocks by this process, doing nothing
//    with the bytes: the I/O ceiling. The files were just written or read, so they are in the
//    page cache when they fit in RAM (the figures are then warm-cache figures: CPU-bound, not
//    disk-bound; the report says whether they fit).
// 3. Runs: `node --require bench/lib/maxrss.cjs dist/cli.js learn --x … --y … --k 16
//    --backend wasm --workers W [--chunk-rows R] --out … --quiet`, for every (W, R) of the grid,
//    repeats interleaved (W=1, W=2, W=1, W=2, …) so load from other processes hits all alike.
//    Per run: wall time from spawn to exit (node start-up and wasm compilation included), the
//    model's diagnostics.timings (per phase, in-process), the child's peak RSS (getrusage
//    ru_maxrss at exit, worker threads included), and the W error against truth.json
//    (`pureneuron compare`, first run of each cell). Models of the same chunk size must be
//    bitwise identical for every worker count (W and A), or the script fails.
// 4. Figures per cell: medians over the repeats (each phase independently); samples/s both as
//    n / wall (data-set samples per second, end to end) and n·passes / wall (samples read per
//    second over the passes: pass 1, 2, the refinement's, the last of them pass 3 — 4 by
//    default at this size); peak RSS as median and maximum over the
//    repeats. Ratio W=2 / W=1 = W=1 median / W=2 median (of the wall time and of each pass).
//
// Outputs: Markdown on stdout (progress on stderr), and <out>.json + <out>.md, where <out> is
// bench/results/file for the default run (n = 1e7, workers 1,2, default chunk rows, 3 repeats),
// bench/results/file-memory for --memory-check ≥ 4e9 bytes, and build/file-partial (or
// build/file-memory-partial) otherwise, unless --out PREFIX is given.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, openSync, readSync, closeSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { root } from './lib/bundle.mjs';
import { median, round } from './lib/stats.mjs';
import { machineEnv, sourceProvenance } from './lib/env.mjs';

const log = (...a) => console.error(...a);
const CLI = join(root, 'dist/cli.js');
const MAXRSS = join(root, 'bench/lib/maxrss.cjs');
const SHAPE = { d: 32, k: 16, l: 32 };
const GEN = { distribution: 'gaussian', noise: 0.05, seed: 1 };
const DEFAULT_N = 1e7;

// ---------------------------------------------------------------------------------------------
// Arguments
const USAGE = `usage: node bench/file.mjs [--n N] [--repeats N] [--workers 1,2] [--chunk-rows R,...] [--backend wasm|js]
                          [--memory-check BYTES] [--rss-limit MB] [--build] [--delete-data|--keep-data]
                          [--out PREFIX] [--render FILE.json]
  --n N              samples (default 1e7: x.f64 and y.f64 of 2.56 GB each)
  --repeats N        runs per cell (default 3; medians are quoted)
  --workers LIST     worker counts (default 1,2)
  --chunk-rows LIST  --chunk-rows values passed to learn (default: none, the CLI's default)
  --backend B        kernels (default wasm)
  --memory-check B   instead: one learn (--workers 2 unless --workers is given) of a data set whose
                     x.f64 alone has ≥ B bytes (y.f64 is as large, d = l); data deleted afterwards
                     unless --keep-data
  --rss-limit MB     memory check: peak RSS limit in MB (10^6 bytes; default 300); exit 1 above it
  --build            run \`npm run build\` first
  --delete-data      delete the generated data at the end (the default for --memory-check)
  --keep-data        keep it (the default otherwise)
  --out PREFIX       write PREFIX.json and PREFIX.md
  --render FILE.json rewrite FILE.md from a saved result, running nothing`;

function fail(msg) {
  console.error(`bench:file: ${msg}\n${USAGE}`);
  process.exit(2);
}
const intList = (s, name, min) => {
  const v = s.split(',').map(Number);
  if (!v.every((x) => Number.isSafeInteger(x) && x >= min)) fail(`${name} takes comma-separated integers ≥ ${min}`);
  return v;
};
function parseArgs(argv) {
  const o = { n: undefined, repeats: undefined, workers: undefined, chunkRows: undefined, backend: 'wasm', memoryCheck: undefined, rssLimitMB: 300, build: false, deleteData: undefined, out: undefined, render: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => (i + 1 < argv.length ? argv[++i] : fail(`${a} needs a value`));
    if (a === '--n') {
      o.n = Number(val());
      if (!Number.isSafeInteger(o.n) || o.n < 1) fail('--n takes a positive integer (1e6 is fine)');
    } else if (a === '--repeats') {
      o.repeats = Number(val());
      if (!Number.isInteger(o.repeats) || o.repeats < 1) fail('--repeats must be a positive integer');
    } else if (a === '--workers') o.workers = intList(val(), '--workers', 0);
    else if (a === '--chunk-rows') o.chunkRows = intList(val(), '--chunk-rows', 1);
    else if (a === '--backend') {
      o.backend = val();
      if (!['wasm', 'js'].includes(o.backend)) fail('--backend is wasm or js');
    } else if (a === '--memory-check') {
      o.memoryCheck = Number(val());
      if (!(o.memoryCheck >= 1)) fail('--memory-check takes a byte count such as 4.3e9');
    } else if (a === '--rss-limit') {
      o.rssLimitMB = Number(val());
      if (!(o.rssLimitMB > 0)) fail('--rss-limit takes megabytes');
    } else if (a === '--build') o.build = true;
    else if (a === '--delete-data') o.deleteData = true;
    else if (a === '--keep-data') o.deleteData = false;
    else if (a === '--out') o.out = resolve(val());
    else if (a === '--render') o.render = resolve(val());
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else fail(`unknown argument ${JSON.stringify(a)}`);
  }
  if (o.memoryCheck !== undefined && o.n !== undefined) fail('--memory-check sets n itself; drop --n');
  return o;
}
const args = parseArgs(process.argv.slice(2));
const memoryMode = args.memoryCheck !== undefined;

// ---------------------------------------------------------------------------------------------
// Helpers
const nName = (n) => {
  const e = Math.floor(Math.log10(n));
  const m = n / 10 ** e;
  return Number.isInteger(m) && e > 0 ? `${m}e${e}` : n.toLocaleString('en-US');
};
const secs = (ms) => (ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`);
const MiB = 2 ** 20;
const fmtRate = (v) => (v >= 1e6 ? `${(v / 1e6).toPrecision(3)} M` : v >= 1e3 ? `${(v / 1e3).toPrecision(3)} k` : v.toPrecision(3));
const fmtMs = (v) => (v === undefined ? '–' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

/** Newest files under src/ and assembly/ that are newer than dist/cli.js (a stale build). */
function staleSources() {
  if (!existsSync(CLI)) return ['dist/cli.js is missing'];
  const built = statSync(CLI).mtimeMs;
  const newer = [];
  const walk = (dir) => {
    for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (!e.name.endsWith('.generated.ts') && statSync(join(root, p)).mtimeMs > built) newer.push(p);
    }
  };
  for (const d of ['src', 'assembly']) if (existsSync(join(root, d))) walk(d);
  return newer;
}

/** Current RSS of a process from /proc (bytes), or undefined where /proc is missing. */
function procRss(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

let runCounter = 0;
/**
 * Runs `node --require maxrss.cjs dist/cli.js ...cliArgs` and resolves with its wall time, exit
 * code, stderr, peak RSS (ru_maxrss at exit) and an RSS profile sampled from /proc every 250 ms.
 */
function runChild(cliArgs) {
  const rssFile = join(root, 'build', `file-bench-rss-${process.pid}-${runCounter++}.json`);
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--require', MAXRSS, CLI, ...cliArgs], {
      cwd: root,
      env: { ...process.env, PURENEURON_MAXRSS_FILE: rssFile, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s) => (stderr += s));
    const profile = [];
    const timer = setInterval(() => {
      const r = procRss(child.pid);
      if (r !== undefined) profile.push([Math.round(performance.now() - t0), r]);
    }, 250);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const wallMs = performance.now() - t0;
      clearInterval(timer);
      let usage;
      try {
        usage = JSON.parse(readFileSync(rssFile, 'utf8'));
        rmSync(rssFile, { force: true });
      } catch {
        usage = undefined;
      }
      resolvePromise({ code, signal, stdout, stderr, wallMs, maxRssBytes: usage ? usage.maxRssKiB * 1024 : undefined, usage, profile });
    });
  });
}

function mustSucceed(r, what) {
  if (r.code !== 0) {
    console.error(`bench:file: ${what} failed (exit ${r.code}${r.signal ? `, ${r.signal}` : ''}):\n${r.stderr}`);
    process.exit(1);
  }
}

/** The data set for n samples: generated with the streaming CLI unless already there. */
async function ensureData(n) {
  const name = `gaussian-${SHAPE.d}-${SHAPE.k}-${SHAPE.l}-noise${GEN.noise}-seed${GEN.seed}-n${n}`;
  const dir = join(root, 'build/file-bench', name);
  const files = { dir, x: join(dir, 'x.f64'), y: join(dir, 'y.f64'), truth: join(dir, 'truth.json'), meta: join(dir, 'meta.json') };
  const expected = { x: n * SHAPE.d * 8, y: n * SHAPE.l * 8 };
  const have = () => {
    try {
      const meta = JSON.parse(readFileSync(files.meta, 'utf8'));
      return meta.n === n && meta.d === SHAPE.d && meta.l === SHAPE.l && meta.k === SHAPE.k && statSync(files.x).size === expected.x && statSync(files.y).size === expected.y && existsSync(files.truth);
    } catch {
      return false;
    }
  };
  if (have()) {
    log(`data: reusing ${relative(process.cwd(), dir)} (x.f64 ${(expected.x / 1e9).toFixed(2)} GB, y.f64 ${(expected.y / 1e9).toFixed(2)} GB)`);
    return { files, bytes: expected, generated: undefined };
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dirname(dir), { recursive: true });
  const free = os.freemem();
  log(`data: generating n = ${nName(n)} into ${relative(process.cwd(), dir)} (x.f64 + y.f64 = ${((expected.x + expected.y) / 1e9).toFixed(2)} GB) …`);
  const r = await runChild(['generate', '--distribution', GEN.distribution, '--n', String(n), '--d', String(SHAPE.d), '--k', String(SHAPE.k), '--l', String(SHAPE.l), '--noise', String(GEN.noise), '--seed', String(GEN.seed), '--out', dir]);
  mustSucceed(r, 'pureneuron generate');
  if (!have()) fail(`generate did not write the expected files in ${dir}`);
  const generated = { wallMs: round(r.wallMs, 4), maxRssMiB: round(r.maxRssBytes / MiB), samplesPerSecond: round(n / (r.wallMs / 1000)), freeMemoryBeforeGiB: round(free / 2 ** 30) };
  log(`data: generated in ${secs(r.wallMs)}, peak RSS ${generated.maxRssMiB} MiB`);
  return { files, bytes: expected, generated };
}

/** Reads x and y once, in 1 MiB blocks, doing nothing with the bytes: the I/O ceiling. */
function readBaseline(files, n) {
  const buf = Buffer.allocUnsafe(MiB);
  const t0 = performance.now();
  let total = 0;
  for (const p of [files.x, files.y]) {
    const fd = openSync(p, 'r');
    try {
      for (;;) {
        const got = readSync(fd, buf, 0, buf.length, null);
        if (got === 0) break;
        total += got;
      }
    } finally {
      closeSync(fd);
    }
  }
  const ms = performance.now() - t0;
  return { ms: round(ms, 4), bytes: total, gbPerSecond: round(total / 1e9 / (ms / 1000)), samplesPerSecond: round(n / (ms / 1000)) };
}

/** One `pureneuron learn` child. */
async function learnOnce(files, { workers, chunkRows }, tag) {
  const modelPath = join(root, 'build', `file-bench-model-${tag}.json`);
  const cli = ['learn', '--x', files.x, '--y', files.y, '--k', String(SHAPE.k), '--backend', args.backend, '--workers', String(workers), '--out', modelPath, '--quiet'];
  if (chunkRows !== undefined) cli.push('--chunk-rows', String(chunkRows));
  const r = await runChild(cli);
  mustSucceed(r, `pureneuron ${cli.join(' ')}`);
  const model = JSON.parse(readFileSync(modelPath, 'utf8'));
  return { r, model, modelPath };
}

async function compareModel(modelPath, truthPath) {
  const r = await runChild(['compare', modelPath, truthPath]);
  mustSucceed(r, 'pureneuron compare');
  return JSON.parse(r.stdout);
}

/** Passes over the data: pass 1, pass 2, and the refinement's (its last is pass 3), or pass 3 alone. */
const passesOf = (diagnostics) => 2 + (diagnostics.refinement?.passes.length ?? 1);
const PHASE_ORDER = ['pass1', 'reduce', 'pass2', 'nullspace', 'extract', 'errorEstimate', 'refine', 'pass3'];
const phasesOf = (timingsList) => {
  const keys = new Set(timingsList.flatMap((t) => Object.keys(t)));
  keys.delete('total');
  return [...PHASE_ORDER.filter((p) => keys.has(p)), ...[...keys].filter((p) => !PHASE_ORDER.includes(p)), 'total'];
};

// --render FILE.json: rewrite FILE.md from a saved result (e.g. after a change of the layout).
if (args.render) {
  const res = JSON.parse(readFileSync(args.render, 'utf8'));
  const md = res.rssProfileMiBPerSecond ? renderMemory(res) : renderThroughput(res);
  const prefix = args.render.replace(/\.json$/, '');
  writeFileSync(`${prefix}.md.tmp`, md);
  renameSync(`${prefix}.md.tmp`, `${prefix}.md`);
  process.stdout.write(md);
  process.exit();
}

// ---------------------------------------------------------------------------------------------
// Environment
if (args.build) {
  log('bench:file: npm run build …');
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 2, 2] });
}
if (!existsSync(CLI)) fail(`${relative(process.cwd(), CLI)} is missing: run \`npm run build\` (or pass --build)`);
mkdirSync(join(root, 'build'), { recursive: true });
const tStart = performance.now();
const env = {
  ...machineEnv(),
  cli: relative(root, CLI),
  staleBuild: staleSources(),
};
Object.assign(env, sourceProvenance(root));
if (env.staleBuild.length) log(`bench:file: WARNING: dist/cli.js is older than ${env.staleBuild.length} source file(s) (${env.staleBuild.slice(0, 3).join(', ')}…): run \`npm run build\` or pass --build`);
log(`bench:file: Node ${env.node}, ${env.cpu} (${env.cores} cores, ${env.memoryGiB} GiB), load ${env.loadavgStart.join(' ')}`);

function writeOutputs(prefix, result, md) {
  mkdirSync(dirname(prefix), { recursive: true });
  for (const [ext, text] of [['.json', JSON.stringify(result, null, 2) + '\n'], ['.md', md]]) {
    const tmp = `${prefix}${ext}.tmp`;
    writeFileSync(tmp, text);
    renameSync(tmp, `${prefix}${ext}`);
  }
  process.stdout.write(md);
  log(`bench:file: done in ${secs(performance.now() - tStart)}; wrote ${relative(process.cwd(), prefix)}.json and .md`);
}

function envLine(env) {
  const loads = [...env.loadavgStart, ...(env.loadavgEnd ?? [])];
  return (
    `Environment: Node ${env.node} (V8 ${env.v8}), ${env.cpu}, ${env.cores} cores, ${env.memoryGiB} GiB RAM, ${env.platform}, ${env.date.slice(0, 10)}; ` +
    `load average ${env.loadavgStart.join(' ')} at the start, ${env.loadavgEnd?.join(' ')} at the end` +
    (Math.max(...loads) > 1 ? ' (the machine was shared with other processes)' : '') +
    '. ' +
    (env.commit ? `Sources: commit ${env.commit.slice(0, 7)}${env.uncommittedSources?.length ? ` plus uncommitted changes to ${env.uncommittedSources.length} file(s) in src/ or assembly/` : ''}, run as ${env.cli}${env.staleBuild?.length ? ' (STALE: older than some sources)' : ''}. ` : '')
  );
}

/** The Markdown report of a --memory-check result (from its JSON alone). */
function renderMemory(res) {
  const st = res.settings;
  const t = res.timingsMs;
  return (
    envLine(res.env) +
    '\n\n' +
    `Memory check: \`pureneuron learn --workers ${st.workers} --backend ${st.backend}${st.chunkRows !== 'CLI default' ? ` --chunk-rows ${st.chunkRows}` : ''}\` on a Gaussian planted problem (d,k,l) = (${st.d},${st.k},${st.l}), noise ${st.noise}, ` +
    `n = ${st.n.toLocaleString('en-US')}: x.f64 ${(st.xBytes / 1e9).toFixed(2)} GB and y.f64 ${(st.yBytes / 1e9).toFixed(2)} GB (${((st.xBytes + st.yBytes) / 1e9).toFixed(2)} GB read per pass, ${res.passes} passes; ${st.pageCache}). One run; ` +
    `"wall" is spawn to exit; peak RSS is the child's getrusage ru_maxrss (worker threads included).\n\n` +
    `| peak RSS | limit | wall | samples/s (n / wall) | samples read/s (n·passes / wall) | pass1 | pass2 | pass3 | W error | A error |\n|---|---|---|---|---|---|---|---|---|---|\n` +
    `| **${res.maxRssMiB} MiB** (${res.maxRssMB} MB) | ${st.rssLimitMB} MB: ${res.withinLimit ? 'within' : '**EXCEEDED**'} | ${secs(res.wallMs)} | ${fmtRate(res.samplesPerSecond)} | ${fmtRate(res.samplesReadPerSecond)} | ${secs(t.pass1)} | ${secs(t.pass2)} | ${secs(t.pass3)} | ${res.errors.wError.toExponential(2)} | ${res.errors.aError.toExponential(2)} |\n\n` +
    `RSS over time (MiB, max per second): ${res.rssProfileMiBPerSecond.map((v) => v ?? '–').join(' ')}\n` +
    (res.note ? `\nNote: ${res.note}\n` : '') +
    (res.generated ? `\nData written by the streaming \`pureneuron generate\` in ${secs(res.generated.wallMs)} with a peak RSS of ${res.generated.maxRssMiB} MiB.\n` : '')
  );
}

/** The Markdown report of a throughput result (from its JSON alone). */
function renderThroughput(res) {
  const st = res.settings;
  const cells = res.cells;
  const withChunks = cells.some((c) => c.chunkRows !== undefined);
  const lines = [];
  const phases = phasesOf(cells.map((c) => c.medianMs));
  const b = res.readBaseline;
  lines.push(
    envLine(res.env) +
      `Data: Gaussian planted problem (d,k,l) = (${st.d},${st.k},${st.l}), noise σ = ${st.noise}, seed ${st.seed}, n = ${nName(st.n)} samples in raw f64 files ` +
      `(x.f64 ${(st.xBytes / 1e9).toFixed(2)} GB, y.f64 ${(st.yBytes / 1e9).toFixed(2)} GB), ` +
      (st.pageCache.startsWith('x + y fit') ? `which fit in RAM: they were in the page cache (warm-cache figures, CPU-bound rather than disk-bound). ` : `larger than half the RAM: partly read from disk. `) +
      `Reading both files once in 1 MiB blocks, doing nothing else, took ${secs(b.ms)} (${b.gbPerSecond} GB/s, ${fmtRate(b.samplesPerSecond)} samples/s). ` +
      `Each run is a child process \`pureneuron learn --k ${st.k} --backend ${st.backend} --workers W${!withChunks && typeof st.chunkRows?.[0] === 'number' ? ` --chunk-rows ${st.chunkRows[0]}` : ''}\` (dist/cli.js); ` +
      `medians over ${st.repeats} interleaved repeat(s). "wall" is spawn to exit (node start-up included), each run's in brackets; phase times are the model's diagnostics.timings. ` +
      `samples/s = n / median wall (data-set samples per second, end to end); read/s = n·passes / median wall (samples read per second over the ${cells[0].passes} passes). ` +
      `Peak RSS is the child's getrusage ru_maxrss (worker threads included), median [max] over the repeats. ` +
      `The models of every worker count were bitwise identical.`,
  );
  lines.push('');
  const cols = ['workers', ...(withChunks ? ['chunk rows'] : []), 'runs', 'wall [runs]', ...phases.map((p) => (p === 'total' ? 'learn total' : p)), 'samples/s', 'read/s', 'peak RSS MiB', 'W error'];
  lines.push(`| ${cols.join(' | ')} |`);
  lines.push(`|${cols.map(() => '---').join('|')}|`);
  for (const c of cells) {
    const row = [String(c.workers)];
    if (withChunks) row.push(String(c.chunkRows ?? 'default'));
    const runs = c.runs.map((r) => (r.wallMs / 1000).toFixed(1)).join(', ');
    row.push(String(c.runs.length), `**${secs(c.wallMs)}** [${runs}]`, ...phases.map((p) => fmtMs(c.medianMs[p])), fmtRate(c.samplesPerSecond), fmtRate(c.samplesReadPerSecond), `${c.maxRssMiB.median.toFixed(0)} [${c.maxRssMiB.max.toFixed(0)}]`, c.errors ? c.errors.wError.toExponential(2) : '–');
    lines.push(`| ${row.join(' | ')} |`);
  }
  lines.push('');
  lines.push('Times in ms unless marked. Speed-up of 2 workers over 1 (median 1-worker time / median 2-worker time):');
  lines.push('');
  for (const r of res.ratios) {
    lines.push(`- ${r.chunkRows === 'default' ? '' : `chunk rows ${r.chunkRows}: `}wall ${r.wall.toFixed(2)}×, learn total ${r.learnTotal.toFixed(2)}×, pass 1 ${r.pass1?.toFixed(2)}×, pass 2 ${r.pass2?.toFixed(2)}×, refine ${r.refine?.toFixed(2)}×, pass 3 ${r.pass3?.toFixed(2)}×`);
  }
  if (res.note) {
    lines.push('');
    lines.push(`Note: ${res.note}`);
  }
  if (res.generated) {
    lines.push('');
    lines.push(`Data written by the streaming \`pureneuron generate\` in ${secs(res.generated.wallMs)} (${fmtRate(res.generated.samplesPerSecond)} samples/s) with a peak RSS of ${res.generated.maxRssMiB} MiB.`);
  }
  return lines.join('\n') + '\n';
}


// ---------------------------------------------------------------------------------------------
// Memory check: one large learn.
if (memoryMode) {
  const n = Math.ceil(args.memoryCheck / (8 * SHAPE.d));
  const workers = args.workers?.[0] ?? 2;
  const chunkRows = args.chunkRows?.[0];
  const data = await ensureData(n);
  const cacheFits = data.bytes.x + data.bytes.y < os.totalmem() / 2;
  log(`memory check: learn --workers ${workers} on n = ${n} (x.f64 ${data.bytes.x} bytes) …`);
  const { r, model, modelPath } = await learnOnce(data.files, { workers, chunkRows }, `memory-${process.pid}`);
  const errors = await compareModel(modelPath, data.files.truth);
  rmSync(modelPath, { force: true });
  env.loadavgEnd = os.loadavg().map((v) => round(v));
  if (args.deleteData !== false) rmSync(data.files.dir, { recursive: true, force: true });
  const rssMB = r.maxRssBytes / 1e6;
  const passes = passesOf(model.diagnostics);
  // RSS profile in MiB at ~1 s resolution (the maximum over each second).
  const profile = [];
  for (const [t, b] of r.profile) {
    const s = Math.floor(t / 1000);
    profile[s] = Math.max(profile[s] ?? 0, round(b / MiB));
  }
  const result = {
    benchmark: 'pureneuron learn from raw f64 files: peak memory on a large file (bench/file.mjs --memory-check)',
    env,
    settings: { ...SHAPE, ...GEN, n, xBytes: data.bytes.x, yBytes: data.bytes.y, workers, chunkRows: chunkRows ?? 'CLI default', backend: args.backend, rssLimitMB: args.rssLimitMB, pageCache: cacheFits ? 'x + y fit in RAM: read from the page cache when cached' : 'x + y larger than half the RAM' },
    generated: data.generated,
    wallMs: round(r.wallMs, 4),
    timingsMs: Object.fromEntries(Object.entries(model.diagnostics.timings).map(([k, v]) => [k, round(v, 4)])),
    samplesPerSecond: round(n / (r.wallMs / 1000)),
    samplesReadPerSecond: round((n * passes) / (r.wallMs / 1000)),
    passes,
    maxRssBytes: r.maxRssBytes,
    maxRssMiB: round(r.maxRssBytes / MiB),
    maxRssMB: round(rssMB),
    rssProfileMiBPerSecond: profile.map((v) => v ?? null),
    usageAtExit: r.usage,
    errors: { wError: round(errors.wError), aError: round(errors.aError), predictionError: round(errors.predictionError), errorEstimate: round(model.diagnostics.errorEstimate) },
    withinLimit: rssMB <= args.rssLimitMB,
    dataDeleted: args.deleteData !== false,
  };
  const md = renderMemory(result);
  const prefix = args.out ?? join(root, args.memoryCheck >= 4e9 ? 'bench/results/file-memory' : 'build/file-memory-partial');
  writeOutputs(prefix, result, md);
  if (!result.withinLimit) {
    console.error(`bench:file: peak RSS ${result.maxRssMB} MB exceeds the limit of ${args.rssLimitMB} MB`);
    process.exitCode = 1;
  }
  process.exit();
}

// ---------------------------------------------------------------------------------------------
// Throughput benchmark.
const n = args.n ?? DEFAULT_N;
const repeats = args.repeats ?? 3;
const workerList = args.workers ?? [1, 2];
const chunkList = args.chunkRows ?? [undefined];
const defaultRun = args.n === undefined && args.repeats === undefined && args.workers === undefined && args.chunkRows === undefined && args.backend === 'wasm';
const data = await ensureData(n);
const cacheFits = data.bytes.x + data.bytes.y < os.totalmem() / 2;
const baseline = readBaseline(data.files, n);
log(`read baseline: ${(baseline.bytes / 1e9).toFixed(2)} GB in ${secs(baseline.ms)} (${baseline.gbPerSecond} GB/s)`);

const cells = [];
for (const chunkRows of chunkList) for (const workers of workerList) cells.push({ workers, chunkRows, runs: [] });
const cellName = (c) => `workers ${c.workers}${c.chunkRows ? `, chunk rows ${c.chunkRows}` : ''}`;
const refModel = new Map(); // chunkRows → {W, A} JSON of the first model
for (let rep = 0; rep < repeats; rep++) {
  for (const c of cells) {
    const tag = `${process.pid}-${c.workers}-${c.chunkRows ?? 'd'}`;
    const { r, model, modelPath } = await learnOnce(data.files, c, tag);
    const wa = JSON.stringify([model.W, model.A]);
    const key = String(c.chunkRows);
    if (!refModel.has(key)) refModel.set(key, wa);
    else if (refModel.get(key) !== wa) {
      console.error(`bench:file: the model of ${cellName(c)} differs from the first model of the same chunk size (W/A not bitwise identical): aborting`);
      process.exit(1);
    }
    const run = { wallMs: round(r.wallMs, 4), maxRssMiB: round(r.maxRssBytes / MiB, 4), timings: model.diagnostics.timings, diagnostics: { refinement: model.diagnostics.refinement }, workersReported: model.diagnostics.workers, n: model.diagnostics.n };
    if (rep === 0) c.errors = await compareModel(modelPath, data.files.truth);
    rmSync(modelPath, { force: true });
    c.runs.push(run);
    log(`  ${cellName(c)} run ${rep + 1}/${repeats}: wall ${secs(run.wallMs)} (learn ${secs(run.timings.total)}; pass1 ${secs(run.timings.pass1)}, pass2 ${secs(run.timings.pass2)}, pass3 ${secs(run.timings.pass3)}), peak RSS ${run.maxRssMiB.toFixed(0)} MiB`);
  }
}
env.loadavgEnd = os.loadavg().map((v) => round(v));
if (args.deleteData === true) rmSync(data.files.dir, { recursive: true, force: true });

for (const c of cells) {
  const phases = phasesOf(c.runs.map((r) => r.timings));
  c.medianMs = Object.fromEntries(phases.map((p) => [p, round(median(c.runs.map((r) => r.timings[p] ?? 0)), 4)]));
  c.wallMs = round(median(c.runs.map((r) => r.wallMs)), 4);
  c.wallRunsMs = c.runs.map((r) => r.wallMs);
  c.passes = passesOf(c.runs[0].diagnostics);
  c.samplesPerSecond = round(n / (c.wallMs / 1000));
  c.samplesReadPerSecond = round((n * c.passes) / (c.wallMs / 1000));
  c.learnSamplesPerSecond = round(n / (c.medianMs.total / 1000));
  c.maxRssMiB = { median: round(median(c.runs.map((r) => r.maxRssMiB))), max: round(Math.max(...c.runs.map((r) => r.maxRssMiB))), runs: c.runs.map((r) => round(r.maxRssMiB)) };
  c.errors = c.errors && { wError: round(c.errors.wError), aError: round(c.errors.aError), predictionError: round(c.errors.predictionError) };
}
// W=2 / W=1 ratios, per chunk size.
const ratios = [];
for (const chunkRows of chunkList) {
  const one = cells.find((c) => c.workers === 1 && c.chunkRows === chunkRows);
  const two = cells.find((c) => c.workers === 2 && c.chunkRows === chunkRows);
  if (!one || !two) continue;
  const ratio = { chunkRows: chunkRows ?? 'default', wall: round(one.wallMs / two.wallMs), learnTotal: round(one.medianMs.total / two.medianMs.total) };
  for (const p of ['pass1', 'pass2', 'refine', 'pass3']) if (one.medianMs[p] && two.medianMs[p]) ratio[p] = round(one.medianMs[p] / two.medianMs[p]);
  ratios.push(ratio);
}

const result = {
  benchmark: 'pureneuron learn from raw f64 files, child processes (bench/file.mjs)',
  env,
  settings: { ...SHAPE, ...GEN, n, xBytes: data.bytes.x, yBytes: data.bytes.y, backend: args.backend, workers: workerList, chunkRows: chunkList.map((c) => c ?? 'CLI default'), repeats, interleaved: true, pageCache: cacheFits ? 'x + y fit in RAM (warm page cache)' : 'x + y larger than half the RAM', defaultRun },
  definitions: {
    wallMs: 'spawn to exit of the child, median over repeats',
    samplesPerSecond: 'n / median wall (data-set samples per second, end to end)',
    samplesReadPerSecond: 'n × passes / median wall (samples read per second over all passes)',
    learnSamplesPerSecond: 'n / median diagnostics.timings.total (in-process learn time, no start-up)',
    maxRssMiB: "child's getrusage ru_maxrss at exit (MiB), worker threads included",
    ratios: 'median 1-worker time / median 2-worker time',
  },
  generated: data.generated,
  readBaseline: baseline,
  durationSeconds: round((performance.now() - tStart) / 1000),
  cells: cells.map(({ runs, ...c }) => ({ ...c, runs })),
  ratios,
};
const prefix = args.out ?? join(root, defaultRun ? 'bench/results/file' : 'build/file-partial');
writeOutputs(prefix, result, renderThroughput(result));
