/** `pureneuron compare model.json truth.json`: recovery errors as JSON on stdout. */
import { readFile } from 'node:fs/promises';
import { compare } from '../api/compare.js';
import { PureneuronError } from '../errors.js';
import { Model } from '../api/model.js';
import { parse, UsageError } from './args.js';
import type { Io } from './io.js';

export const compareHelp = `Usage: pureneuron compare MODEL.json TRUTH.json

Matches hidden units (Hungarian assignment on the cosine of W rows), moves each unit's
positive scale into A, and prints {"wError", "aError", "predictionError"} as JSON:
  wError           ‖Ŵ − W‖_F / ‖W‖_F with unit rows
  aError           ‖Â − A‖_F / ‖A‖_F after the scales are moved into A
  predictionError  relative RMS error of the outputs on 4096 standard Gaussian inputs
`;

export async function readModelFile(path: string): Promise<Model> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new PureneuronError('BAD_FILE', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new PureneuronError('BAD_MODEL', `${path} is not valid JSON: ${(e as Error).message}`);
  }
  try {
    return Model.fromJSON(json);
  } catch (e) {
    throw new PureneuronError('BAD_MODEL', `${path}: ${(e as Error).message}`);
  }
}

export async function compareCommand(argv: string[], io: Io): Promise<void> {
  const { values, positionals } = parse(argv, {}, true);
  if (values.help) return io.out(compareHelp);
  if (positionals.length !== 2) throw new UsageError(`compare takes two files, MODEL.json and TRUTH.json; got ${positionals.length}`);
  // Read one after the other: with both files bad, the error is the model's every time
  // (Promise.all reported whichever read failed first, and a test flaked on it).
  const model = await readModelFile(positionals[0]);
  const truth = await readModelFile(positionals[1]);
  const c = compare(model, truth);
  io.out(JSON.stringify({ wError: c.wError, aError: c.aError, predictionError: c.predictionError }));
}
