/** `pureneuron demo` (npm start): plant a network, learn it, print the errors and timings. */
import { compare } from '../api/compare.js';
import { DISTRIBUTIONS, generate, type Distribution } from '../api/generate.js';
import { learn } from '../api/learn.js';
import { choice, intFlag, numFlag, parse, PROBLEM_FLAGS } from './args.js';
import type { Io } from './io.js';

export const demoHelp = `Usage: pureneuron demo [options]

Plants a network y = A·relu(W·x) + noise with symmetric-mixture inputs, learns it from the
samples and prints the recovery errors and the time of each phase.

Options:
  --distribution NAME  ${DISTRIBUTIONS.join(' | ')} (default mixture)
  --n N                samples (default 200000)
  --d D, --k K, --l L  shape (default 20, 10, 15)
  --noise S            std of output noise (default 0.05)
  --seed S             seed (default 1)
  --backend B          auto | js | wasm (default auto)
`;

export async function demoCommand(argv: string[], io: Io): Promise<void> {
  const { values: v } = parse(argv, {
    ...PROBLEM_FLAGS,
    backend: { type: 'string' },
  });
  if (v.help) return io.out(demoHelp);
  const distribution = choice<Distribution>('distribution', v.distribution, DISTRIBUTIONS) ?? 'mixture';
  const n = intFlag('n', v.n) ?? 200_000;
  const d = intFlag('d', v.d) ?? 20;
  const k = intFlag('k', v.k) ?? 10;
  const l = intFlag('l', v.l) ?? 15;
  const noise = numFlag('noise', v.noise, 0) ?? 0.05;
  const seed = intFlag('seed', v.seed, -(2 ** 31), 2 ** 31 - 1) ?? 1;
  const backend = choice('backend', v.backend, ['auto', 'js', 'wasm'] as const);
  io.out(`planting y = A·relu(W·x) + noise: ${distribution} inputs, n = ${n}, (d, k, l) = (${d}, ${k}, ${l}), noise σ = ${noise}, seed ${seed}`);
  const g = generate({ distribution, n, d, k, l, noise, seed });
  const model = await learn({ x: g.x, y: g.y, d, l }, { k, backend, signal: io.signal });
  const c = compare(model, g.truth);
  const dg = model.diagnostics!;
  io.out(`learned with the ${model.backend} backend`);
  io.out(`errors:  W ${c.wError.toExponential(3)}   A ${c.aError.toExponential(3)}   prediction ${c.predictionError.toExponential(3)}`);
  io.out(`estimated W error (from the data alone): ${dg.errorEstimate === undefined ? 'n/a' : dg.errorEstimate.toExponential(3)}`);
  io.out(`diagnostics: null-space ratio ${dg.nullSpaceRatio.toExponential(2)}, joint-diagonalization residual ${dg.jointDiagResidual.toExponential(2)}`);
  io.out('timings (ms): ' + Object.entries(dg.timings).map(([p, t]) => `${p} ${t.toFixed(1)}`).join(', '));
  for (const w of dg.warnings) io.out(`warning: ${w}`);
}
