/**
 * The browser build (dist/browser/index.js) in a real Chromium (Debian's, driven by playwright-core):
 * learn() in a page gives Node's model bit for bit on both backends (isolated page and not),
 * blobSource over Blobs gives the arrays' model, and no `node:` import reaches the bundle. Skipped
 * with a notice where Chromium is missing.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../src/api/generate.js';
import { learn } from '../src/api/learn.js';
import { chromiumPath, launchChromium, serveRepo } from './helpers/browser.js';
import { ROOT } from './helpers/cli.js';
import { loadDuckDB, tableCsv, writeArrow, writeParquet } from './helpers/tables.js';

type Browser = Awaited<ReturnType<typeof launchChromium>>;
const PROBLEM = { distribution: 'mixture', n: 20_000, d: 10, k: 5, l: 8, noise: 0.05, seed: 4 } as const;

/** learn() in the page on the planted problem; W and A as plain arrays, and the page's isolation. */
async function learnInPage(browser: Browser, url: string, backend: 'wasm' | 'js', viaBlobs = false, workers: number | 'auto' = 'auto') {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${url}/test/pages/blank.html`);
  // A string, not a function: vitest would rewrite a function's import() for Node.
  const out = (await page.evaluate(`(async () => {
    const [problem, backend, viaBlobs, workers] = ${JSON.stringify([PROBLEM, backend, viaBlobs, workers])};
    const pn = await import('/dist/browser/index.js');
    const g = pn.generate(problem);
    const input = viaBlobs ? await pn.blobSource({ x: new Blob([g.x]), y: new Blob([g.y]), format: 'f64', d: g.d, l: g.l }) : { x: g.x, y: g.y, d: g.d, l: g.l };
    const m = await pn.learn(input, { k: problem.k, backend, workers, chunkRows: 4096 });
    return { W: Array.from(m.W), A: Array.from(m.A), backend: m.backend, workers: m.diagnostics.workers, isolated: globalThis.crossOriginIsolated };
  })()`)) as { W: number[]; A: number[]; backend: string; workers: number; isolated: boolean };
  await page.close();
  return { ...out, errors };
}

describe.runIf(chromiumPath)('the browser build in Chromium', () => {
  let browser: Browser;
  const servers: { url: string; close: () => Promise<void> }[] = [];
  beforeAll(async () => {
    browser = await launchChromium();
    servers.push(await serveRepo(true), await serveRepo(false));
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await Promise.all(servers.map((s) => s.close()));
  });

  it.each(['wasm', 'js'] as const)('learn() in a page on 2 Web Workers and on none gives Node\'s model bit for bit (%s backend; isolated and not)', async (backend) => {
    const g = generate(PROBLEM);
    const node = await learn({ x: g.x, y: g.y, d: g.d, l: g.l }, { k: PROBLEM.k, backend, workers: 0, chunkRows: 4096 });
    for (const [i, server, workers] of [0, 1].flatMap((i) => [[i, servers[i]!, 2], [i, servers[i]!, 0]] as const)) {
      const page = await learnInPage(browser, server.url, backend, false, workers);
      expect(page.errors).toEqual([]);
      expect(page.isolated).toBe(i === 0);
      expect(page.backend).toBe(backend);
      expect(page.workers).toBe(workers);
      expect(page.W.every((v, j) => Object.is(v, node.W[j]))).toBe(true);
      expect(page.A.every((v, j) => Object.is(v, node.A[j]))).toBe(true);
    }
  }, 120_000);

  it('blobSource over Blobs in the page: the same model', async () => {
    const g = generate(PROBLEM);
    const node = await learn({ x: g.x, y: g.y, d: g.d, l: g.l }, { k: PROBLEM.k, workers: 0, chunkRows: 4096 });
    const page = await learnInPage(browser, servers[1]!.url, 'wasm', true);
    expect(page.W.every((v, j) => Object.is(v, node.W[j]))).toBe(true);
  }, 60_000);

  it('no node: import reaches the bundle or its chunks', async () => {
    const dir = join(ROOT, 'dist', 'browser');
    const files = (await readdir(dir, { recursive: true })).filter((f) => String(f).endsWith('.js'));
    expect(files.length).toBeGreaterThan(1);
    for (const f of files) expect(await readFile(join(dir, String(f)), 'utf8'), String(f)).not.toMatch(/from\s*["']node:|import\(\s*["']node:|require\(\s*["']node:/);
  });
});

describe.runIf(chromiumPath)('the demo page (examples/browser/index.html)', () => {
  it('runs its problem on load to "done" without page errors; a screenshot is kept', async () => {
    const server = await serveRepo(true);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 820 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await page.goto(`${server.url}/examples/browser/index.html`);
      await page.waitForFunction("['done', 'error'].includes(document.body.dataset.state)", undefined, { timeout: 90_000 });
      const state = await page.evaluate('document.body.dataset.state');
      const status = await page.textContent('#status');
      expect(state, status ?? '').toBe('done');
      expect(errors).toEqual([]);
      // The page shows the errors against the planted network and the wasm speed-up.
      expect(await page.textContent('#stats')).toMatch(/W error \(vs planted\)[\s\S]*wasm speed-up/);
      await mkdir(join(ROOT, 'build', 'test-artifacts'), { recursive: true });
      await page.screenshot({ path: join(ROOT, 'build', 'test-artifacts', 'demo.png'), fullPage: true });
    } finally {
      await browser.close();
      await server.close();
    }
  }, 120_000);
});

describe.runIf(chromiumPath)('table files as Files in a page (blobSource)', () => {
  it('CSV with a header, Parquet (DuckDB) and Arrow IPC give the model of the same numbers in memory', async () => {
    const dir = join(ROOT, 'build', 'test-artifacts', 'tables');
    await mkdir(dir, { recursive: true });
    const g = generate({ ...PROBLEM, n: 6000 });
    const cols = { x: Float64Array.from(g.x), y: Float64Array.from(g.y), n: 6000, d: PROBLEM.d, l: PROBLEM.l };
    const files: [string, string, string][] = [['named.csv', 'x*', 'y*']];
    await writeFile(join(dir, 'named.csv'), tableCsv(cols));
    await writeArrow(join(dir, 'data.arrow'), cols, { batchRows: 2500 });
    files.push(['data.arrow', 'x', 'y*']);
    if (await loadDuckDB()) {
      await writeParquet(join(dir, 'data.parquet'), cols, { layout: 'list', codec: 'snappy', rowGroupRows: 2000 });
      files.push(['data.parquet', 'x', 'y']);
    }
    const node = await learn({ x: cols.x, y: cols.y, d: cols.d, l: cols.l }, { k: PROBLEM.k, workers: 0, chunkRows: 2048 });
    const server = await serveRepo(false);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${server.url}/test/pages/blank.html`);
      for (const [name, xColumns, yColumns] of files) {
        const W = (await page.evaluate(`(async () => {
          const pn = await import('/dist/browser/index.js');
          const blob = await (await fetch('/build/test-artifacts/tables/${name}')).blob();
          const source = await pn.blobSource({ data: new File([blob], '${name}'), xColumns: '${xColumns}', yColumns: '${yColumns}' });
          const m = await pn.learn(source, { k: ${PROBLEM.k}, chunkRows: 2048 });
          return Array.from(m.W);
        })()`)) as number[];
        expect(W.every((v, j) => Object.is(v, node.W[j])), name).toBe(true);
      }
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      await server.close();
    }
  }, 120_000);
});
