/**
 * The layout of src/ as an architecture that stays true: imports run one way, from the CLI down
 * to the kernels and math, and never around a circle.
 *
 *   cli.ts, index.ts, bullmq.ts     entry points (the CLI, the public API, pureneuron/bullmq)
 *   cli/                            the commands
 *   distributed/                    learning on BullMQ workers (Redis): driver, worker, manifest
 *   api/                            learn, options, model, compare, generate, the shard steps
 *   parallel/                       runs passes over chunks, on the calling thread or workers
 *   passes/                         one module per pass: its chunk job and its state fields
 *   method/                         the method's steps and the stages that chain them
 *   sources/                        samples in (arrays, files)
 *   io/                             bytes out and file containers
 *   kernels/                        the Kernels interface, JS twins, wasm glue
 *   math/                           small linear algebra, assignment, random numbers
 *   errors.ts, types.ts             leaves everything may import
 *
 * A module may import from its own folder or from a folder ranked below its own (type-only
 * imports included: a type is a dependency too). tools/ (the experiments) is outside the graph.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

/** Layers from the top; a module's layer is its folder (or its name, at the root). */
const LAYERS = [['cli.ts', 'index.ts', 'bullmq.ts', 'browser.ts'], ['cli'], ['distributed'], ['api'], ['parallel'], ['passes'], ['method'], ['sources'], ['io'], ['kernels'], ['math'], ['errors.ts', 'types.ts']];
const rank = (unit: string): number => LAYERS.findIndex((names) => names.includes(unit));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : name.endsWith('.ts') ? [p] : [];
  });
}

/** The folder (or root file name) a source file belongs to. */
const unitOf = (file: string): string => relative(SRC, file).split('/')[0];

/** Relative imports and re-exports of a file, resolved to .ts paths (generated modules included). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
    out.push(resolve(dirname(file), m[1].replace(/\.js$/, '.ts')));
  }
  for (const m of text.matchAll(/\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g)) out.push(resolve(dirname(file), m[1].replace(/\.js$/, '.ts')));
  return out;
}

const all = files(SRC);
const graph = new Map(all.map((f) => [f, importsOf(f)]));

describe('layout of src/', () => {
  it('the root holds only the public surface: at most 6 files', () => {
    const root = readdirSync(SRC).filter((n) => statSync(join(SRC, n)).isFile());
    expect(root.length, root.join(', ')).toBeLessThanOrEqual(6);
    for (const name of root) expect(rank(name), `${name} has no layer`).toBeGreaterThanOrEqual(0);
  });

  it('every folder has a layer', () => {
    for (const f of all) expect(rank(unitOf(f)), `${relative(SRC, f)}: folder without a layer`).toBeGreaterThanOrEqual(0);
  });

  it('imports run one way: to the same folder or to a lower layer', () => {
    const upward: string[] = [];
    for (const [file, deps] of graph) {
      for (const dep of deps) {
        if (!dep.startsWith(SRC)) {
          upward.push(`${relative(SRC, file)} imports ${relative(SRC, dep)}, outside src/`);
          continue;
        }
        const [a, b] = [unitOf(file), unitOf(dep)];
        if (a !== b && rank(a) >= rank(b)) upward.push(`${relative(SRC, file)} (${a}) imports ${relative(SRC, dep)} (${b})`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('no module imports itself around a circle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string) => {
      state.set(f, 'open');
      stack.push(f);
      for (const dep of graph.get(f) ?? []) {
        if (state.get(dep) === 'open') cycles.push([...stack.slice(stack.indexOf(dep)), dep].map((p) => relative(SRC, p)).join(' → '));
        else if (!state.has(dep) && graph.has(dep)) visit(dep);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of all) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });

  it('every relative import resolves to a file', () => {
    const missing = [...graph].flatMap(([file, deps]) => deps.filter((d) => !graph.has(d)).map((d) => `${relative(SRC, file)} → ${relative(SRC, d)}`));
    // Generated modules (wasm bytes, worker bundle) exist once `npm run build` has run.
    expect(missing.filter((m) => !m.endsWith('.generated.ts'))).toEqual([]);
  });
});
