/**
 * The file source in the browser build (which substitutes this module for files.ts): a page has
 * no file paths. blobSource reads File and Blob objects instead.
 */
import { PureneuronError } from '../errors.js';

export type { ColumnSpec } from './table/columns.js';
export type FileFormat = 'f64' | 'f32' | 'csv' | 'npy' | 'parquet' | 'arrow';
export type FileSource = never;
export type FileSourceOptions = Record<string, unknown>;

export async function fileSource(): Promise<never> {
  throw new PureneuronError('BAD_OPTION', 'fileSource reads file paths, which a page does not have: use blobSource({ x: File, y: File })');
}

export function formatFromPath(): undefined {
  return undefined;
}
