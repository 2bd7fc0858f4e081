#!/usr/bin/env node
// `npm run demo:web`: serves the repository on 127.0.0.1 with the headers that make a page
// cross-origin isolated (COOP/COEP: SharedArrayBuffers for the Web Workers), and prints the
// demo page's address. PORT=… picks the port (default 8080; 0 for any free one).
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.html': 'text/html; charset=utf-8', '.css': 'text/css', '.json': 'application/json', '.map': 'application/json', '.png': 'image/png', '.svg': 'image/svg+xml' };

const server = createServer(async (req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
  const file = join(ROOT, path === '/' ? 'examples/browser/index.html' : path);
  if (!file.startsWith(ROOT + '/') || file.includes('/node_modules/')) return void res.writeHead(403).end();
  try {
    const body = await readFile(file);
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
      'cache-control': 'no-store',
    });
    res.end(body);
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  }
});
server.listen(Number(process.env.PORT ?? 8080), '127.0.0.1', () => {
  const { port } = server.address();
  console.log(`pureneuron demo: http://127.0.0.1:${port}/  (Ctrl-C to stop; run 'npm run build' first if dist/ is missing)`);
});
