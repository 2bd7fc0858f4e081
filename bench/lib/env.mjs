// The machine a benchmark ran on, recorded in every results file (bench/*.mjs).
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { round } from './stats.mjs';


/** Node, V8, CPU, cores, platform, memory, date and the load average now. */
export function machineEnv() {
  return {
    node: process.version,
    v8: process.versions.v8,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    platform: `${os.platform()} ${os.arch()}`,
    memoryGiB: round(os.totalmem() / 2 ** 30),
    date: new Date().toISOString(),
    loadavgStart: os.loadavg().map((v) => round(v)),
  };
}

/**
 * The commit of `root` and the source files (src/, assembly/) that differ from it: a benchmark
 * measures the working tree. Empty outside a git checkout.
 */
export function sourceProvenance(root) {
  try {
    const git = (args) => execFileSync('git', args, { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    const commit = git(['rev-parse', 'HEAD']).trim();
    const uncommittedSources = git(['status', '--porcelain', '--', 'src', 'assembly']).split('\n').filter(Boolean).map((line) => line.slice(3));
    return { commit, uncommittedSources };
  } catch {
    return {}; // not a git checkout
  }
}
