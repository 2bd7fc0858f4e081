/** File writers and the .npy codec. */
export { openAtomicWriter, writeFileAtomic } from './atomic.js';
export type { AtomicWriteOptions, AtomicWriter } from './atomic.js';
export { decodeNpy, encodeNpy, parseNpyHeader, readNpyPreamble } from './npy.js';
export type { NpyDtype, NpyHeader } from './npy.js';
export { writeNpy, writeRawF32, writeRawF64 } from './raw.js';
