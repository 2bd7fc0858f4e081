/**
 * Internal interfaces between the file source (which pairs x and y) and the per-format
 * readers. A FileSpec is what was learned when the source was created (path, width, maybe n);
 * each pass opens a fresh RowReader from it and closes it at the end of the pass.
 */

/** Which side of the data a file holds: inputs x (width d) or outputs y (width l). */
export type Role = 'x' | 'y';

export function widthName(role: Role): 'd' | 'l' {
  return role === 'x' ? 'd' : 'l';
}

/** Formats of one file per side (x or y). */
export type ArrayFormat = 'f64' | 'f32' | 'csv' | 'npy';
/** Formats of one file holding named columns, x and y among them. */
export type TableFormat = 'parquet' | 'arrow' | 'csv';
export type FileFormat = ArrayFormat | TableFormat;

export interface FileSpec {
  readonly path: string;
  readonly format: FileFormat;
  /** Values per row (d for x, l for y). */
  readonly width: number;
  /** Rows, when known before reading (binary and table formats); CSV leaves it undefined. */
  readonly n: number | undefined;
  open(blockBytes: number, signal?: AbortSignal): Promise<RowReader>;
}

export interface RowReader {
  /**
   * Reads up to maxRows rows into out (row-major, ≥ maxRows·width values) and returns how
   * many were read; fewer than maxRows only at the end of the file.
   */
  read(out: Float64Array, maxRows: number): Promise<number>;
  /** Rows left after the current position (reads the rest of a text file). For error messages. */
  countRest(): Promise<number>;
  /** Location of row `row` of the most recent read, e.g. " in x.csv line 19". */
  where(row: number): string;
  close(): Promise<void>;
}
