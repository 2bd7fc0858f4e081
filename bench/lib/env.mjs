// The machine a benchmark ran on, recorded in every results file (bench/*.mjs).
import os from 'node:os';

const round = (v) => Number(v.toPrecision(3));

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
    loadavgStart: os.loadavg().map(round),
  };
}
