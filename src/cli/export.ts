/** `pureneuron export MODEL.json --format onnx --out model.onnx`: the model for other runtimes. */
import { writeFileAtomic } from '../io/atomic.js';
import { choice, parse, required, UsageError } from './args.js';
import { readModelFile } from './compare.js';
import type { Io } from './io.js';
import { checkOutputDir } from './learn.js';

export const exportHelp = `Usage: pureneuron export MODEL.json --format onnx --out model.onnx [--dtype float64|float32]

Writes the model as an ONNX graph x → MatMul → Relu → MatMul → y (input "x" of shape
[n, d], output "y" of shape [n, l], n dynamic; IR 8, opset 17) that ONNX Runtime and other
ONNX runtimes load.

Options:
  --format onnx          the output format (the only one so far)
  --out FILE             where to write it
  --dtype T              float64 (default; reproduces 'pureneuron predict' to ~1e-15) or
                         float32 (for runtimes without double MatMul; ~1e-7 relative)
`;

export async function exportCommand(argv: string[], io: Io): Promise<void> {
  const { values: v, positionals } = parse(argv, { format: { type: 'string' }, out: { type: 'string' }, dtype: { type: 'string' } }, true);
  if (v.help) return io.out(exportHelp);
  if (positionals.length !== 1) throw new UsageError(`expected one MODEL.json, got ${positionals.length === 0 ? 'none' : positionals.join(' ')} (see --help)`);
  choice('format', required('format', v.format), ['onnx'] as const);
  const dtype = choice('dtype', v.dtype, ['float64', 'float32'] as const);
  const out = required('out', v.out);
  await checkOutputDir(out);
  const model = await readModelFile(positionals[0]!);
  await writeFileAtomic(out, model.toONNX({ dtype }));
}
