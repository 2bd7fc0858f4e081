export { learn } from './learn.js';
export type { LearnOptions, Progress } from './learn.js';
export { Model, parseNetworkJSON } from './model.js';
export type { Diagnostics, ModelJSON } from './model.js';
export { PureneuronError } from './errors.js';
export type { ErrorCode } from './errors.js';
export type { ArrayInput, Chunk, Network, NumericArray, SampleSource } from './types.js';
