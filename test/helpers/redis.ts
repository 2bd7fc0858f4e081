/**
 * A real Redis server for the tests: Debian's redis-server started on a free loopback port, no
 * persistence (`--save '' --appendonly no`), stopped afterwards. Where redis-server is missing,
 * `redisAvailable` is false and the tests skip with a notice (`npm test` runs anywhere; CI
 * installs it: .ci/run).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';

export const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server';

export const redisAvailable = spawnSync(REDIS_SERVER, ['--version'], { stdio: 'ignore' }).status === 0;
if (!redisAvailable) console.warn(`${REDIS_SERVER} is not installed: the BullMQ / Redis tests are skipped (apt-get install redis-server)`);

/** A free TCP port on 127.0.0.1 (the OS picks one; it is released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface RedisServer {
  port: number;
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** TLS files for the server (PEM paths); clients trust `ca`. */
export interface RedisTls {
  cert: string;
  key: string;
  ca: string;
}

export async function startRedis(o: { password?: string; tls?: RedisTls } = {}): Promise<RedisServer> {
  const port = await freePort();
  const args = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'];
  if (o.tls) args.push('--port', '0', '--tls-port', String(port), '--tls-cert-file', o.tls.cert, '--tls-key-file', o.tls.key, '--tls-ca-cert-file', o.tls.ca, '--tls-auth-clients', 'no');
  else args.push('--port', String(port));
  if (o.password) args.push('--requirepass', o.password);
  const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (b: Buffer) => (log += b));
  child.stderr!.on('data', (b: Buffer) => (log += b));
  // Ready once the port accepts connections.
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`redis-server exited ${child.exitCode}: ${log}`);
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect(port, '127.0.0.1');
      c.on('connect', () => (c.destroy(), resolve(true)));
      c.on('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`redis-server did not listen on ${port} within 10 s: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    url: `${o.tls ? 'rediss' : 'redis'}://${o.password ? `:${encodeURIComponent(o.password)}@` : ''}127.0.0.1:${port}`,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}


/**
 * A CA and a server certificate for 127.0.0.1 made with openssl in `dir`, or undefined (with a
 * notice) where openssl is missing.
 */
export function makeTlsFiles(dir: string): RedisTls | undefined {
  const run = (args: string[]) => spawnSync('openssl', args, { cwd: dir, stdio: 'ignore' }).status === 0;
  const ok =
    run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=pureneuron test CA']) &&
    run(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']) &&
    run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', writeExt(dir)]);
  if (!ok) {
    console.warn('openssl is not available: the rediss:// (TLS) test is skipped');
    return undefined;
  }
  return { cert: join(dir, 'server.crt'), key: join(dir, 'server.key'), ca: join(dir, 'ca.crt') };
}

function writeExt(dir: string): string {
  const p = join(dir, 'ext.cnf');
  writeFileSync(p, 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  return p;
}
