#!/usr/bin/env node
// Reading the formats users have: samples/s read from Parquet and Arrow next to raw f64, and
// whole `pureneuron learn` processes on each (wall time, peak RSS, W error).
//
//   npm run bench:formats                    # n = 1e6, 3 repeats → bench/results/formats.{json,md}
//   node bench/formats.mjs --n 2e5 --repeats 1    # quick → build/formats-partial.{json,md}
//   node bench/formats.mjs --memory-check 2.2e6   # one learn each from raw, Parquet and Arrow files
//                                                 # of > 1 GB of samples: peak RSS against 400 MB
//                                                 # → bench/results/formats-memory.{json,md}
//   … --dir DIR --out PREFIX                     # data in DIR, results in PREFIX.{json,md}
//
// Data: a planted network (d, k, l) = (32, 16, 32), Gaussian inputs, noise σ = 0.05, written
// by DuckDB itself (SQL: Box–Muller normals, h = relu(x·Wᵀ), y = h·Aᵀ + noise) as Parquet with
// x and y as DOUBLE[32] list columns (snappy, DuckDB's default 122 880-row row groups) — an
// independent writer, as users' files are — then as 64 flat DOUBLE columns (DuckDB reading the
// first file), and by pureneuron's own readers as raw x.f64 / y.f64 and an Arrow IPC file
// (apache-arrow's writer, x a FixedSizeList, 65 536-row batches, uncompressed). Files go to
// build/formats-bench/n<N>/ and are reused. truth.json holds W and A for `pureneuron compare`.
//
// Reading: in this process, each format's fileSource read whole in 65 536-row chunks, the
// formats interleaved per repeat (raw, list, flat, arrow, raw, …), medians; the files are in
// the page cache after the first repeat (the figures are CPU-bound). Learning: `node --require
// bench/lib/maxrss.cjs dist/cli.js learn … --k 16 --quiet`, interleaved likewise; wall time
// from spawn to exit and the child's peak RSS (getrusage, worker threads included).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { machineEnv, sourceProvenance } from './lib/env.mjs';
import { median, round } from './lib/stats.mjs';
import { root } from './lib/bundle.mjs';

const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const memoryCheck = flag('memory-check') !== undefined;
const n = Math.round(Number(flag('memory-check') ?? flag('n', '1e6')));
const repeats = Number(flag('repeats', memoryCheck ? '1' : '3'));
const D = 32;
const K = 16;
const L = 32;
const CLI = join(root, 'dist', 'cli.js');
const MAXRSS = join(root, 'bench', 'lib', 'maxrss.cjs');
const RSS_LIMIT = 400e6;
const out = flag('out', memoryCheck ? 'bench/results/formats-memory' : n === 1e6 && repeats >= 3 ? 'bench/results/formats' : 'build/formats-partial');
const log = (s) => process.stderr.write(s + '\n');

const { fileSource, generate } = await import(join(root, 'dist', 'index.js'));

// ---- data ----------------------------------------------------------------------------------
const dir = flag('dir', join(root, 'build', 'formats-bench', `n${n}`));
mkdirSync(dir, { recursive: true });
const file = (name) => join(dir, name);

/** A planted network with generate()'s conventions (unit rows of W), for DuckDB to evaluate. */
function truth() {
  if (existsSync(file('truth.json'))) return JSON.parse(readFileSync(file('truth.json'), 'utf8'));
  const t = generate({ n: 1, d: D, k: K, l: L, seed: 1 }).truth;
  const rows = (M, r, c) => Array.from({ length: r }, (_, i) => Array.from(M.subarray(i * c, (i + 1) * c)));
  const json = { d: D, k: K, l: L, W: rows(t.W, K, D), A: rows(t.A, L, K) };
  writeFileSync(file('truth.json'), JSON.stringify(json));
  return json;
}

async function writeData() {
  const t = truth();
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const normal = 'sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())';
  const lit = (v) => `[${v.map((a) => a.toPrecision(17)).join(', ')}]::DOUBLE[${v.length}]`;
  if (!existsSync(file('list.parquet'))) {
    log(`writing ${n} samples with DuckDB → ${file('list.parquet')}`);
    const h = t.W.map((w) => `greatest(array_inner_product(x, ${lit(w)}), 0)`).join(', ');
    const y = t.A.map((a) => `array_inner_product(h, ${lit(a)}) + 0.05 * ${normal}`).join(', ');
    await c.run(
      `COPY (WITH s AS (SELECT list_transform(range(${D}), i -> ${normal})::DOUBLE[${D}] AS x FROM range(${n})),
                  h AS (SELECT x, [${h}]::DOUBLE[${K}] AS h FROM s)
             SELECT x, [${y}]::DOUBLE[${L}] AS y FROM h) TO '${file('list.parquet')}' (FORMAT PARQUET, COMPRESSION snappy)`,
    );
  }
  if (!memoryCheck && !existsSync(file('flat.parquet'))) {
    log(`→ ${file('flat.parquet')}`);
    const cols = [...Array.from({ length: D }, (_, j) => `x[${j + 1}] AS x${j}`), ...Array.from({ length: L }, (_, j) => `y[${j + 1}] AS y${j}`)];
    await c.run(`COPY (SELECT ${cols.join(', ')} FROM '${file('list.parquet')}') TO '${file('flat.parquet')}' (FORMAT PARQUET, COMPRESSION snappy)`);
  }
  c.closeSync();
  db.closeSync();
  writeFileSync(file('meta.json'), JSON.stringify({ n, d: D, l: L, k: K }));
  if (!existsSync(file('data.arrow'))) await writeRawAndArrow();
}

/** x.f64, y.f64 and data.arrow from list.parquet, by pureneuron's reader (checked bit for bit against DuckDB in test/tables.test.ts). */
async function writeRawAndArrow() {
  log(`→ raw x.f64, y.f64 and data.arrow`);
  const A = await import('apache-arrow');
  const { open } = await import('node:fs/promises');
  const src = await fileSource({ data: file('list.parquet'), xColumns: 'x', yColumns: 'y' });
  const fx = await open(file('x.f64'), 'w');
  const fy = await open(file('y.f64'), 'w');
  const arrow = new A.RecordBatchFileWriter();
  const sink = await open(file('data.arrow'), 'w');
  const pump = (async () => {
    for await (const chunk of arrow) await sink.write(chunk);
  })();
  for await (const c of src.chunks(65536)) {
    await fx.write(new Uint8Array(c.x.buffer, c.x.byteOffset, c.x.byteLength));
    await fy.write(new Uint8Array(c.y.buffer, c.y.byteOffset, c.y.byteLength));
    const list = (M, w) => A.makeVector(A.makeData({ type: new A.FixedSizeList(w, new A.Field('item', new A.Float64(), false)), length: c.rows, nullCount: 0, child: A.makeData({ type: new A.Float64(), length: c.rows * w, data: Float64Array.from(M) }) }));
    for (const b of new A.Table({ x: list(c.x, D), y: list(c.y, L) }).batches) arrow.write(b);
  }
  arrow.finish();
  await pump;
  await Promise.all([fx.close(), fy.close(), sink.close()]);
}

// ---- measurements --------------------------------------------------------------------------
const FORMATS = {
  'raw f64': ['--x', file('x.f64'), '--y', file('y.f64')],
  'parquet (DOUBLE[32] lists)': ['--data', file('list.parquet'), '--x-columns', 'x', '--y-columns', 'y'],
  ...(memoryCheck ? {} : { 'parquet (64 DOUBLE columns)': ['--data', file('flat.parquet'), '--x-columns', 'x*', '--y-columns', 'y*'] }),
  'arrow IPC (FixedSizeList)': ['--data', file('data.arrow'), '--x-columns', 'x', '--y-columns', 'y'],
};

/** fileSource options from the CLI flags above. */
function sourceOptions(flags) {
  const o = { d: flags[0] === '--x' ? D : undefined, l: flags[0] === '--x' ? L : undefined };
  for (let i = 0; i < flags.length; i += 2) o[flags[i].slice(2).replace(/-(\w)/g, (_, c) => c.toUpperCase())] = flags[i + 1];
  return o;
}

async function readOnce(flags) {
  const t0 = performance.now();
  const src = await fileSource(sourceOptions(flags));
  let rows = 0;
  for await (const c of src.chunks(65536)) rows += c.rows;
  if (rows !== n) throw new Error(`read ${rows} rows, expected ${n}`);
  return (performance.now() - t0) / 1000;
}

function run(cmdArgs) {
  const rssFile = join(dir, `.maxrss-${process.pid}.json`);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--require', MAXRSS, CLI, ...cmdArgs], { env: { ...process.env, PURENEURON_MAXRSS_FILE: rssFile }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (s) => (err += s));
    child.stdout.resume();
    child.on('error', reject);
    child.on('close', (code) => {
      const wall = (performance.now() - t0) / 1000;
      if (code !== 0) return reject(new Error(`pureneuron ${cmdArgs.join(' ')} exited ${code}: ${err}`));
      const rss = JSON.parse(readFileSync(rssFile, 'utf8')).maxRssKiB * 1024;
      rmSync(rssFile, { force: true });
      resolve({ wall, rss, stdout: '' });
    });
  });
}

async function wError(model) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'compare', model, file('truth.json')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let s = '';
    child.stdout.on('data', (b) => (s += b));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(s).wError) : reject(new Error(`compare exited ${code}`))));
  });
}

await writeData();
const results = { env: machineEnv(), source: sourceProvenance(root), n, d: D, k: K, l: L, repeats, reading: {}, learning: {} };
const reads = Object.fromEntries(Object.keys(FORMATS).map((f) => [f, []]));
const learns = Object.fromEntries(Object.keys(FORMATS).map((f) => [f, []]));
for (let r = 0; r < repeats; r++) {
  for (const [name, flags] of Object.entries(FORMATS)) {
    if (!memoryCheck) reads[name].push(await readOnce(flags));
    const model = join(dir, `model-${name.replace(/\W+/g, '-')}.json`);
    learns[name].push({ ...(await run(['learn', ...flags, '--k', String(K), '--out', model, '--quiet'])), model });
    log(`repeat ${r + 1}/${repeats} ${name}: ${!memoryCheck ? `read ${reads[name].at(-1).toFixed(2)} s, ` : ''}learn ${learns[name].at(-1).wall.toFixed(2)} s, peak RSS ${(learns[name].at(-1).rss / 2 ** 20).toFixed(0)} MiB`);
  }
}
for (const name of Object.keys(FORMATS)) {
  const walls = learns[name].map((x) => x.wall);
  const rss = learns[name].map((x) => x.rss);
  if (!memoryCheck) {
    const s = median(reads[name]);
    results.reading[name] = { seconds: round(s), samplesPerSecond: Math.round(n / s), runs: reads[name].map((v) => round(v)) };
  }
  results.learning[name] = { wallSeconds: round(median(walls)), walls: walls.map((v) => round(v)), peakRssMiB: Math.round(Math.max(...rss) / 2 ** 20), wError: await wError(learns[name][0].model) };
}

const fmt = (v) => (v >= 1e6 ? `${(v / 1e6).toFixed(2)} M` : `${(v / 1e3).toFixed(0)} k`);
const lines = [
  `# Reading the formats users have — n = ${n}, (d, k, l) = (${D}, ${K}, ${L})`,
  '',
  `${results.env.cpu} · ${results.env.cores} cores · Node ${results.env.node} · ${repeats} repeat(s), medians · ${new Date().toISOString().slice(0, 10)}`,
  '',
];
if (!memoryCheck) {
  const raw = results.reading['raw f64'].seconds;
  const rawLearn = results.learning['raw f64'].wallSeconds;
  lines.push(
    '| format | read (in process) | samples/s | time vs raw f64 | `pureneuron learn` (whole process) | time vs raw f64 | peak RSS | W error |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const name of Object.keys(FORMATS)) {
    const rd = results.reading[name];
    const ln = results.learning[name];
    lines.push(
      `| ${name} | ${rd.seconds.toFixed(2)} s | ${fmt(rd.samplesPerSecond)} | ${(rd.seconds / raw).toFixed(1)}× | ${ln.wallSeconds.toFixed(2)} s | ${(ln.wallSeconds / rawLearn).toFixed(2)}× | ${ln.peakRssMiB} MiB | ${ln.wError.toExponential(2)} |`,
    );
  }
  lines.push('', `Peak RSS includes the ${((n * (D + L) * 8) / 2 ** 20).toFixed(0)} MiB of samples the cache keeps (cacheBytes 'auto': up to 1 GiB); data beyond it stream on every pass (--memory-check).`);
} else {
  const { statSync } = await import('node:fs');
  results.fileBytes = { parquet: statSync(file('list.parquet')).size, arrow: statSync(file('data.arrow')).size, raw: statSync(file('x.f64')).size + statSync(file('y.f64')).size };
  results.rssLimitBytes = RSS_LIMIT;
  lines.push(
    `${((n * (D + L) * 8) / 1e9).toFixed(2)} GB of float64 samples — more than cacheBytes' 1 GiB, so every pass streams the file — learned by \`pureneuron learn … --k 16\`:`,
    '',
    '| format | file | wall time | peak RSS | within 400 MB | W error |',
    '|---|---|---|---|---|---|',
  );
  const sizes = { 'raw f64': results.fileBytes.raw, 'parquet (DOUBLE[32] lists)': results.fileBytes.parquet, 'arrow IPC (FixedSizeList)': results.fileBytes.arrow };
  for (const name of Object.keys(FORMATS)) {
    const ln = results.learning[name];
    lines.push(`| ${name} | ${(sizes[name] / 1e9).toFixed(2)} GB | ${ln.wallSeconds.toFixed(1)} s | ${ln.peakRssMiB} MiB | ${ln.peakRssMiB * 2 ** 20 < RSS_LIMIT ? 'yes' : '**no**'} | ${ln.wError.toExponential(2)} |`);
  }
}
const md = lines.join('\n') + '\n';
process.stdout.write(md);
const outPath = resolve(root, out);
mkdirSync(dirname(outPath), { recursive: true });
writeFileSync(`${outPath}.json`, JSON.stringify(results, null, 2) + '\n');
writeFileSync(`${outPath}.md`, md);
log(`wrote ${out}.json and ${out}.md`);
