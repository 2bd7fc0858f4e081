/**
 * The browser build's entry (package.json exports["."].browser → dist/browser/index.js): the
 * Node API minus file paths — generate, learn, compare, Model (toONNX included) — and blobSource
 * for File and Blob objects (every format the file source reads). scripts/browser-build.mjs
 * swaps the platform, the worker threads and the path opener for their browser twins and fails
 * the build if any `node:` import is reached.
 */
export { learn } from './api/learn.js';
export { generate, DISTRIBUTIONS } from './api/generate.js';
export type { Distribution, GenerateOptions, Generated } from './api/generate.js';
export { compare } from './api/compare.js';
export type { Comparison, CompareOptions } from './api/compare.js';
export { Model, parseNetworkJSON } from './api/model.js';
export type { ModelJSON } from './api/model.js';
export { resolveLearnOptions, LEARN_OPTIONS } from './api/options.js';
export type { LearnOptions } from './api/options.js';
export type { Diagnostics } from './method/diagnostics.js';
export { arraySource } from './sources/array.js';
export { blobSource } from './sources/blob.js';
export type { BlobFormat, BlobSourceOptions } from './sources/blob.js';
export { PureneuronError } from './errors.js';
export type { ErrorCode } from './errors.js';
export type { ArrayInput, Chunk, Network, NumericArray, Phase, Progress, SampleSource } from './types.js';
