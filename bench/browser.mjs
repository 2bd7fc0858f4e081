#!/usr/bin/env node
// wasm vs js in Chromium: learn() in a cross-origin isolated page (Web Workers on
// SharedArrayBuffers, workers 'auto' = the cores), (32,16,32) Gaussian n = 2e5, noise 0.05,
// the backends interleaved over 5 repeats, medians; the page's own timer around learn()
// (generate() excluded). Debian's chromium via playwright-core. → bench/results/browser.{json,md}
//
//   npm run build && node bench/browser.mjs [--n 2e5] [--repeats 5]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machineEnv } from './lib/env.mjs';
import { median, round } from './lib/stats.mjs';
import { root } from './lib/bundle.mjs';
import { chromium } from 'playwright-core';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';

const args = process.argv.slice(2);
const flag = (name, dflt) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : dflt);
const n = Math.round(Number(flag('n', '2e5')));
const repeats = Number(flag('repeats', '5'));
const problem = { distribution: 'gaussian', n, d: 32, k: 16, l: 32, noise: 0.05, seed: 1 };

const server = createServer(async (req, res) => {
  try {
    const body = await readFile(join(root, new URL(req.url, 'http://x').pathname));
    res.writeHead(200, { 'content-type': req.url.endsWith('.js') ? 'text/javascript' : 'text/html', 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' });
    res.end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}`;
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'] });
const page = await browser.newPage();
await page.goto(`${url}/test/pages/blank.html`);
const version = browser.version();
const times = { wasm: [], js: [] };
let info;
for (let r = 0; r < repeats; r++) {
  for (const backend of ['wasm', 'js']) {
    const out = await page.evaluate(`(async () => {
      const pn = await import('/dist/browser/index.js');
      const g = pn.generate(${JSON.stringify(problem)});
      const t0 = performance.now();
      const m = await pn.learn({ x: g.x, y: g.y, d: g.d, l: g.l }, { k: 16, backend: '${backend}' });
      const ms = performance.now() - t0;
      return { ms, workers: m.diagnostics.workers, isolated: crossOriginIsolated, wError: pn.compare(m, g.truth).wError, cores: navigator.hardwareConcurrency };
    })()`);
    times[backend].push(out.ms / 1000);
    info = out;
    process.stderr.write(`repeat ${r + 1} ${backend}: ${(out.ms / 1000).toFixed(2)} s\n`);
  }
}
await browser.close();
server.close();
const wasm = median(times.wasm);
const js = median(times.js);
const result = { env: machineEnv(), chromium: version, problem, repeats, workers: info.workers, isolated: info.isolated, cores: info.cores, wError: info.wError, seconds: { wasm: round(wasm), js: round(js) }, runs: { wasm: times.wasm.map((v) => round(v)), js: times.js.map((v) => round(v)) }, speedup: round(js / wasm) };
const md = `# wasm vs js in Chromium ${version}\n\n${result.env.cpu} · ${result.cores} cores · ${repeats} interleaved repeats, medians · ${new Date().toISOString().slice(0, 10)}\n\n` +
  `learn() in an isolated page, (32,16,32) Gaussian, n = ${n}, ${info.workers} Web Workers on SharedArrayBuffers:\n\n` +
  `| backend | learn() | runs |\n|---|---|---|\n| wasm | ${wasm.toFixed(2)} s | ${times.wasm.map((v) => v.toFixed(2)).join(', ')} |\n| js | ${js.toFixed(2)} s | ${times.js.map((v) => v.toFixed(2)).join(', ')} |\n\n` +
  `wasm speed-up: **${(js / wasm).toFixed(2)}×** (same model bit for bit; W error ${info.wError.toExponential(2)}).\n`;
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(join(root, 'bench', 'results', 'browser.json'), JSON.stringify(result, null, 2) + '\n');
writeFileSync(join(root, 'bench', 'results', 'browser.md'), md);
process.stdout.write(md);
