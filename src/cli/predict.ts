/** `pureneuron predict`: the model's outputs for every row of an input file, streamed. */
import { checkFinite } from '../sources/check.js';
import { DEFAULT_BLOCK_BYTES } from '../sources/blocks.js';
import { openRowsWriter, rowsFormat } from '../io/rowsWriter.js';
import { PureneuronError, throwIfAborted } from '../errors.js';
import { parse, required } from './args.js';
import { readModelFile } from './compare.js';
import type { Io } from './io.js';
import { checkOutputDir } from './learn.js';
import { openInputs, SOURCE_FLAGS, sourceFlags } from './source.js';

export const predictHelp = `Usage: pureneuron predict --model MODEL.json (--x FILE | --data FILE --x-columns SPEC) --out FILE

Writes y = A·relu(W·x) for every row of the inputs, streamed (memory does not grow with
the file). The output format follows --out's extension: .npy (float64, n×l), .csv (a header
y0,y1,… then one row per input) or .f64 (raw little-endian float64, n×l); the file appears,
complete, at the end.

Options:
  --model FILE           a model.json written by 'pureneuron learn'
  --x FILE               inputs (n×d): .f64, .f32, .npy, .csv (--d for raw files, else meta.json)
  --data FILE            or one file with named columns (Parquet, Arrow IPC / Feather, CSV
  --x-columns SPEC       with a header) and the columns that make x, as for 'pureneuron learn'
  --format F             the input format when the extension does not tell it
  --d D                  row length of a raw --x file
  --out FILE             where to write the predictions
`;

/** Rows predicted per step: ~8 MB of inputs or outputs. */
const STEP_BYTES = 8 << 20;

export async function predictCommand(argv: string[], io: Io): Promise<void> {
  const { values: v } = parse(argv, { ...SOURCE_FLAGS, model: { type: 'string' }, out: { type: 'string' } });
  if (v.help) return io.out(predictHelp);
  const out = required('out', v.out);
  rowsFormat(out);
  const inputs = sourceFlags(v, false);
  const model = await readModelFile(required('model', v.model));
  await checkOutputDir(out);
  const spec = await openInputs({ ...inputs, d: inputs.d ?? ('x' in inputs ? model.d : undefined) });
  if (spec.width !== model.d) {
    throw new PureneuronError('BAD_SHAPE', `${spec.path} gives ${spec.width} values per row but the model takes d = ${model.d}`);
  }
  const rows = Math.max(1, Math.floor(STEP_BYTES / (8 * Math.max(model.d, model.l))));
  const x = new Float64Array(rows * model.d);
  const reader = await spec.open(DEFAULT_BLOCK_BYTES, io.signal);
  const writer = await openRowsWriter(out, model.l);
  try {
    let done = 0;
    for (;;) {
      throwIfAborted(io.signal, `predicting ${out}`);
      const got = await reader.read(x, rows);
      if (got === 0) break;
      const xs = x.subarray(0, got * model.d);
      checkFinite('x', xs, model.d, done, (r) => reader.where(r));
      await writer.write(model.predict(xs));
      done += got;
      if (got < rows) break;
    }
    await writer.commit();
  } catch (e) {
    await writer.abort();
    throw e;
  } finally {
    await reader.close();
  }
}
