/**
 * Samples in Blobs — a page's File objects, or Node's Blob — through the file source's readers
 * (raw f64/f32, .npy, CSV; Parquet and Arrow as one `data` Blob with column SPECs), read in
 * slices (Blob.slice), never whole: a page can learn from files larger than its memory.
 */
import type { SampleSource } from '../types.js';
import { fileSource, type FileSourceOptions } from './files.js';

export type BlobFormat = NonNullable<FileSourceOptions['format']>;

export interface BlobSourceOptions extends Omit<FileSourceOptions, 'x' | 'y' | 'data' | 'blockBytes'> {
  /** The inputs, n×d (with `y`), or … */
  x?: Blob;
  y?: Blob;
  /** … one Blob of named columns (with xColumns and yColumns). */
  data?: Blob;
}

/**
 * fileSource over Blobs: formats from a File's name (.f64, .f32, .npy, .csv, .parquet, .arrow,
 * .feather), else `format`; the same checks and errors, naming the File.
 */
export function blobSource(options: BlobSourceOptions): Promise<SampleSource> {
  if (options === null || typeof options !== 'object') throw new TypeError('blobSource expects { x, y } or { data, xColumns, yColumns } of Blobs / Files');
  for (const key of ['x', 'y', 'data'] as const) {
    const v = options[key];
    if (v !== undefined && !(typeof Blob === 'function' && v instanceof Blob)) throw new TypeError(`${key} must be a Blob or File, got ${Object.prototype.toString.call(v)}`);
  }
  return fileSource(options);
}
