#!/usr/bin/env node
// Worker scaling of learn(): the same in-memory data learned with 1 and with 2 worker threads
// (wasm backend, default options otherwise), runs interleaved (1, 2, 1, 2, …) after one warm-up
// run each, medians per phase; the models must be bitwise identical across worker counts.
//
//   npm run bench:workers                     # (32,16,32), n = 1e6, 5 repeats → bench/results/workers.{json,md}
//   node bench/workers.mjs --n 2e5 --repeats 3 --out build/workers
//
// The figure the issue asks for: pass 2 on 2 workers vs 1 (≥ 1.8×). Pass 1 and pass 3 are
// light per sample, so the calling thread's share (copying each chunk into shared memory)
// weighs more there.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';

import { importFromSource, root } from './lib/bundle.mjs';
import { median, round, sameBits } from './lib/stats.mjs';
import { machineEnv, sourceProvenance } from './lib/env.mjs';

const log = (...a) => console.error(...a);
const args = { n: 1e6, repeats: 5, out: join(root, 'bench/results/workers'), shape: [32, 16, 32] };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  const val = () => process.argv[++i];
  if (a === '--n') args.n = Number(val());
  else if (a === '--repeats') args.repeats = Number(val());
  else if (a === '--out') args.out = resolve(val());
  else {
    console.error(`usage: node bench/workers.mjs [--n N] [--repeats N] [--out PREFIX]; unknown argument ${JSON.stringify(a)}`);
    process.exit(2);
  }
}
if (!Number.isSafeInteger(args.n) || args.n < 1 || !Number.isInteger(args.repeats) || args.repeats < 1) {
  console.error('bench/workers: --n and --repeats take positive integers');
  process.exit(2);
}

const { learn, generate, closeWorkers } = await importFromSource('bench-workers', ["export { learn, generate, closeWorkers } from './src/index.ts';"], log);
const [d, k, l] = args.shape;
const env = { ...machineEnv(), ...sourceProvenance(root) };
log(`bench/workers: Node ${env.node}, ${env.cpu} (${env.cores} cores); (${d},${k},${l}), n = ${args.n}`);
const data = generate({ distribution: 'gaussian', noise: 0.05, seed: 1, n: args.n, d, k, l });

const COUNTS = [1, 2];
const runs = Object.fromEntries(COUNTS.map((w) => [w, []]));
let reference;
for (let r = -1; r < args.repeats; r++) {
  for (const workers of COUNTS) {
    const model = await learn(data, { k, backend: 'wasm', workers });
    if (!reference) reference = model;
    else if (!sameBits(model.W, reference.W) || !sameBits(model.A, reference.A)) {
      console.error(`bench/workers: ${workers} worker(s) gave a different model than 1: aborting`);
      process.exit(1);
    }
    if (r < 0) continue; // warm-up
    runs[workers].push(model.diagnostics.timings);
    log(`  workers ${workers} run ${r + 1}/${args.repeats}: total ${model.diagnostics.timings.total.toFixed(0)} ms (pass 2 ${model.diagnostics.timings.pass2.toFixed(0)} ms)`);
  }
}
await closeWorkers();
env.loadavgEnd = os.loadavg().map((v) => round(v));

const PHASES = ['pass1', 'pass2', 'pass3', 'refine', 'total'].filter((p) => runs[1].some((t) => t[p] !== undefined));
const med = Object.fromEntries(COUNTS.map((w) => [w, Object.fromEntries(PHASES.map((p) => [p, median(runs[w].map((t) => t[p] ?? 0))]))]));
const ratio = Object.fromEntries(PHASES.map((p) => [p, med[1][p] / med[2][p]]));

const lines = [
  `Environment: Node ${env.node}, ${env.cpu}, ${env.cores} cores, ${env.platform}, ${env.date.slice(0, 10)}; load average ${env.loadavgStart.join(' ')} at the start, ${env.loadavgEnd.join(' ')} at the end. ` +
    (env.commit ? `Sources: commit ${env.commit.slice(0, 7)}${env.uncommittedSources.length ? ` plus uncommitted changes to ${env.uncommittedSources.length} file(s)` : ''}. ` : '') +
    `learn() on in-memory Gaussian data, (d,k,l) = (${d},${k},${l}), n = ${args.n}, noise 0.05, wasm backend, default options, workers 1 and 2 interleaved after a warm-up run each; ` +
    `medians over ${args.repeats} runs, in ms; every model bitwise identical to the first.`,
  '',
  `| workers | ${PHASES.join(' | ')} |`,
  `|---|${PHASES.map(() => '---').join('|')}|`,
  ...COUNTS.map((w) => `| ${w} | ${PHASES.map((p) => med[w][p].toFixed(0)).join(' | ')} |`),
  `| speed-up 2 over 1 | ${PHASES.map((p) => `**${ratio[p].toFixed(2)}×**`).join(' | ')} |`,
  '',
];
const md = lines.join('\n');
console.log(md);
mkdirSync(dirname(args.out), { recursive: true });
for (const [ext, text] of [['.json', JSON.stringify({ benchmark: 'learn() worker scaling (bench/workers.mjs)', env, settings: { shape: args.shape, n: args.n, repeats: args.repeats }, runs, medians: med, speedup: ratio }, null, 2)], ['.md', md]]) {
  const tmp = `${args.out}${ext}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, `${args.out}${ext}`);
}
log(`bench/workers: wrote ${args.out}.json and .md`);
