/**
 * examples/slurm/pureneuron-slurm.sh on a real one-node Slurm cluster on localhost
 * (examples/slurm/local-cluster.sh: Debian's slurm-wlm and munge, as root; CI installs them). One
 * job array per pass with --dependency=afterok: 3 shards give the model of one `pureneuron learn`
 * on all the data, bit for bit (whole-chunk shards); a missing shard cancels the rest of the run,
 * writes FAILED naming the file, and no model. Skipped, with a notice, without Slurm or root.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../src/api/generate.js';
import type { ModelJSON } from '../src/api/model.js';
import { CLI, cliBuilt, makeTempDir, readJson, removeTempDir, ROOT, runCliOk } from './helpers/cli.js';

const SCRIPT = join(ROOT, 'examples', 'slurm', 'pureneuron-slurm.sh');
const CLUSTER = join(ROOT, 'examples', 'slurm', 'local-cluster.sh');
const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const available = ['slurmctld', 'slurmd', 'munged', 'sbatch'].every(have) && process.getuid?.() === 0 && cliBuilt();
if (!available) console.warn('Slurm (slurm-wlm, munge) is not installed or not root: the Slurm example test is skipped (apt-get install slurm-wlm munge)');

const D = 8;
const K = 4;
const L = 6;
const ROWS = 10_000;
let dir: string;
let env: NodeJS.ProcessEnv;

const weights = (m: ModelJSON) => JSON.stringify([m.W, m.A]);

/** Polls for one of `files` (a hang guard, not a timing). */
async function waitFor(files: string[], ms: number): Promise<string> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const found = files.find((f) => existsSync(f));
    if (found) return found;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`none of ${files.join(', ')} after ${ms / 1000} s`);
}

describe.runIf(available)('the Slurm example on a localhost cluster', () => {
  beforeAll(async () => {
    dir = await makeTempDir('pureneuron-slurm-');
    const up = spawnSync(CLUSTER, ['start', join(dir, 'cluster')], { encoding: 'utf8' });
    if (up.status !== 0) throw new Error(`local Slurm cluster: ${up.stderr}`);
    env = { ...process.env, SLURM_CONF: join(dir, 'cluster', 'slurm.conf'), PURENEURON: `${process.execPath} ${CLI}` };
    const g = generate({ n: 3 * ROWS, d: D, k: K, l: L, seed: 9, noise: 0.05 });
    const lines = [];
    for (let i = 0; i < 3; i++) {
      await writeFile(join(dir, `x${i}.f64`), g.x.slice(i * ROWS * D, (i + 1) * ROWS * D));
      await writeFile(join(dir, `y${i}.f64`), g.y.slice(i * ROWS * L, (i + 1) * ROWS * L));
      lines.push(`--x ${join(dir, `x${i}.f64`)} --y ${join(dir, `y${i}.f64`)} --d ${D} --l ${L}`);
    }
    await writeFile(join(dir, 'shards.txt'), lines.join('\n') + '\n');
    await writeFile(join(dir, 'bad-shards.txt'), [...lines, `--x ${join(dir, 'gone.f64')} --y ${join(dir, 'y0.f64')} --d ${D} --l ${L}`].join('\n') + '\n');
    await writeFile(join(dir, 'x.f64'), g.x);
    await writeFile(join(dir, 'y.f64'), g.y);
  }, 60_000);
  afterAll(async () => {
    spawnSync(CLUSTER, ['stop', join(dir, 'cluster')]);
    await removeTempDir(dir);
  });

  it('3 shards, one job array per pass: the model of one learn, bit for bit', async () => {
    const r = spawnSync(SCRIPT, ['submit', join(dir, 'shards.txt'), join(dir, 'run'), '--k', String(K), '--chunk-rows', String(ROWS)], { env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^submitted: plan job \d+, then one array of 3 tasks per pass/);
    const done = await waitFor([join(dir, 'run', 'model.json'), join(dir, 'run', 'FAILED')], 120_000);
    expect(done, existsSync(join(dir, 'run', 'FAILED')) ? await readFile(join(dir, 'run', 'FAILED'), 'utf8') : '').toBe(join(dir, 'run', 'model.json'));
    await runCliOk(['learn', '--x', 'x.f64', '--y', 'y.f64', '--d', String(D), '--l', String(L), '--k', String(K), '--chunk-rows', String(ROWS), '--out', 'single.json', '--quiet'], dir);
    expect(weights(await readJson(join(dir, 'run', 'model.json')))).toBe(weights(await readJson(join(dir, 'single.json'))));
  }, 150_000);

  it('a missing shard: the run stops, FAILED names the file, no model', async () => {
    const r = spawnSync(SCRIPT, ['submit', join(dir, 'bad-shards.txt'), join(dir, 'bad'), '--k', String(K), '--chunk-rows', String(ROWS)], { env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const done = await waitFor([join(dir, 'bad', 'model.json'), join(dir, 'bad', 'FAILED')], 120_000);
    expect(done).toBe(join(dir, 'bad', 'FAILED'));
    expect(await readFile(done, 'utf8')).toMatch(/step1-3\.out:pureneuron: cannot open .*gone\.f64: no such file/);
    // Nothing runs after the failed step.
    await new Promise((res) => setTimeout(res, 3000));
    expect(spawnSync('squeue', ['-h'], { env, encoding: 'utf8' }).stdout.trim()).toBe('');
    expect(existsSync(join(dir, 'bad', 'model.json'))).toBe(false);
  }, 150_000);
});
