/**
 * Table files — one file, many named columns (Parquet, Arrow IPC / Feather, CSV with a header) —
 * as the x and y FileSpecs the file source pairs. Each side reads only its own columns: Parquet
 * and Arrow are columnar, so two readers over one file fetch disjoint bytes.
 */
import { PureneuronError } from '../../errors.js';
import { refName, type FileRef } from '../blocks.js';
import { csvColumnsSpec, csvHeader } from '../csv.js';
import type { FileSpec, TableFormat } from '../spec.js';
import { selectColumns, totalWidth, type ColumnSpec, type TableColumn } from './columns.js';

export type { ColumnSpec } from './columns.js';

/** An open table file: its columns, and specs over chosen ones. */
interface Table {
  readonly columns: TableColumn[];
  probeWidths(chosen: readonly number[]): Promise<void>;
  spec(chosen: readonly number[]): FileSpec;
}

async function openTable(ref: FileRef, format: TableFormat, blockBytes: number): Promise<Table> {
  const path = refName(ref);
  switch (format) {
    case 'parquet':
    case 'arrow': {
      const t = format === 'parquet' ? await (await import('./parquet.js')).ParquetTable.open(ref) : await (await import('./arrow.js')).ArrowTable.open(ref);
      return {
        columns: t.columns,
        probeWidths: (chosen) => t.probeWidths(chosen),
        spec: (chosen) => ({ path, format, width: totalWidth(t.columns, chosen), n: t.n, open: () => t.reader(chosen) }),
      };
    }
    case 'csv': {
      const names = await csvHeader(ref, blockBytes);
      return { columns: names.map((name) => ({ name, width: 1 })), probeWidths: async () => undefined, spec: (chosen) => csvColumnsSpec(ref, chosen, names.length) };
    }
  }
}

/**
 * The specs of the x and y columns of one table file (y undefined when no yColumns are given:
 * predictions read x alone). Errors: BAD_OPTION for a SPEC matching nothing or columns chosen
 * twice, BAD_FILE for unreadable files and chosen columns of other types.
 */
export async function tableSpecs(
  ref: FileRef,
  format: TableFormat,
  xColumns: ColumnSpec,
  yColumns: ColumnSpec | undefined,
  blockBytes: number,
): Promise<{ x: FileSpec; y: FileSpec | undefined }> {
  const path = refName(ref);
  const table = await openTable(ref, format, blockBytes);
  const chosen = selectColumns(path, table.columns, xColumns, yColumns, { x: 'x columns', y: 'y columns' });
  await table.probeWidths([...chosen.x, ...chosen.y]);
  const x = table.spec(chosen.x);
  if (x.n === 0) throw new PureneuronError('BAD_FILE', `${path} has no rows`);
  return { x, y: yColumns === undefined ? undefined : table.spec(chosen.y) };
}
