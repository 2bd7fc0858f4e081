/**
 * Table files written by independent writers, for the readers' tests: Parquet by DuckDB
 * (@duckdb/node-api, a dev dependency with its native library inside), Arrow IPC by
 * apache-arrow's own writer (the reference implementation's JS writer; no other Arrow writer
 * is installable here without a network download). Values travel to DuckDB as CSV text in
 * shortest round-trip form, which its parser reads back to the same doubles.
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';

type Duck = typeof import('@duckdb/node-api');
let duck: Promise<Duck | undefined> | undefined;
/** DuckDB's Node package, or undefined (with the reason) where its native library cannot load. */
export function loadDuckDB(): Promise<Duck | undefined> {
  duck ??= import('@duckdb/node-api').catch((e: unknown) => {
    console.warn(`DuckDB is not available (${(e as Error).message}): the Parquet tests are skipped`);
    return undefined;
  });
  return duck;
}

export interface Columns {
  x: Float64Array;
  y: Float64Array;
  n: number;
  d: number;
  l: number;
}

/** CSV text of x (x0 … x{d−1}), a text column "note" in between, and y (y0 … y{l−1}). */
export function tableCsv({ x, y, n, d, l }: Columns): string {
  const head = [...Array.from({ length: d }, (_, j) => `x${j}`), 'note', ...Array.from({ length: l }, (_, j) => `y${j}`)].join(',');
  const lines = [head];
  for (let i = 0; i < n; i++) lines.push([...x.subarray(i * d, (i + 1) * d), `row ${i}`, ...y.subarray(i * l, (i + 1) * l)].join(','));
  return lines.join('\n') + '\n';
}

export interface ParquetOptions {
  /** 'flat': one DOUBLE column per value; 'list': x and y as DOUBLE[d] / DOUBLE[l] array columns. */
  layout?: 'flat' | 'list';
  codec?: string;
  rowGroupRows?: number;
  /** SQL type of the value columns (e.g. FLOAT): DuckDB casts. */
  type?: string;
  /** A SELECT over the table `t` (columns x0…, note, y0…) instead of the layout's. */
  select?: string;
}

/** Writes `cols` as a Parquet file with DuckDB. */
export async function writeParquet(path: string, cols: Columns, o: ParquetOptions = {}): Promise<void> {
  const duckdb = (await loadDuckDB())!;
  const csv = `${path}.src.csv`;
  await writeFile(csv, tableCsv(cols));
  const { d, l } = cols;
  const type = o.type ?? 'DOUBLE';
  const xs = Array.from({ length: d }, (_, j) => `x${j}`);
  const ys = Array.from({ length: l }, (_, j) => `y${j}`);
  const select =
    o.select ??
    (o.layout === 'list'
      ? `SELECT [${xs.join(',')}]::${type}[${d}] AS x, note, [${ys.join(',')}]::${type}[${l}] AS y FROM t`
      : `SELECT ${xs.map((c) => `${c}::${type} AS ${c}`).join(', ')}, note, ${ys.map((c) => `${c}::${type} AS ${c}`).join(', ')} FROM t`);
  const db = await duckdb.DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    await c.run(`CREATE TABLE t AS SELECT * FROM read_csv('${csv}', header = true, columns = {${[...xs.map((x) => `'${x}': 'DOUBLE'`), `'note': 'VARCHAR'`, ...ys.map((y) => `'${y}': 'DOUBLE'`)].join(', ')}})`);
    await c.run(`COPY (${select}) TO '${path}' (FORMAT PARQUET, COMPRESSION ${o.codec ?? 'snappy'}, ROW_GROUP_SIZE ${o.rowGroupRows ?? 122880})`);
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

/** Whether a command-line program runs here (`zstd`, `lz4`: the reference encoders). */
export function hasProgram(name: string): boolean {
  try {
    execFileSync(name, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Compresses bytes with a reference command-line encoder (one frame). */
const encodeWith = (program: string) => (b: Uint8Array) => new Uint8Array(execFileSync(program, ['-c', '-q'], { input: b }));

/**
 * Writes `cols` as an Arrow IPC file (or stream) with apache-arrow: x as FixedSizeList<Float64>[d],
 * a Utf8 "note", y as y0 … y{l−1}. Compressed bodies: `lz4` frames by the lz4 program when it is
 * installed (else lz4js), `zstd` by the zstd program — the encoders pyarrow's Feather writer links.
 */
export async function writeArrow(path: string, cols: Columns, o: { format?: 'file' | 'stream'; batchRows?: number; lz4?: boolean; zstd?: boolean } = {}): Promise<void> {
  const A = await import('apache-arrow');
  const { x, y, n, d, l } = cols;
  const registry = A.compressionRegistry;
  if (o.lz4) {
    const lz4 = (await import('lz4js')) as { compress(b: Uint8Array): ArrayLike<number> };
    const encode = hasProgram('lz4') ? encodeWith('lz4') : (b: Uint8Array) => Uint8Array.from(lz4.compress(b));
    registry.set(A.CompressionType.LZ4_FRAME, { ...registry.get(A.CompressionType.LZ4_FRAME), encode });
  }
  if (o.zstd) registry.set(A.CompressionType.ZSTD, { ...registry.get(A.CompressionType.ZSTD), encode: encodeWith('zstd') });
  const rows = o.batchRows ?? n;
  const batches = [];
  for (let s = 0; s < n; s += rows) {
    const m = Math.min(rows, n - s);
    const xd = A.makeData({ type: new A.Float64(), length: m * d, data: x.slice(s * d, (s + m) * d) });
    const fields: Record<string, unknown> = {
      x: A.makeVector(A.makeData({ type: new A.FixedSizeList(d, new A.Field('item', new A.Float64(), false)), length: m, nullCount: 0, child: xd })),
      note: A.vectorFromArray(Array.from({ length: m }, (_, i) => `row ${s + i}`), new A.Utf8()),
    };
    for (let j = 0; j < l; j++) fields[`y${j}`] = A.makeVector(Float64Array.from({ length: m }, (_, i) => y[(s + i) * l + j]!));
    batches.push(...new A.Table(fields as never).batches);
  }
  const table = new A.Table(batches);
  const writer = o.format === 'stream' ? A.RecordBatchStreamWriter : A.RecordBatchFileWriter;
  const w = new writer({ compressionType: o.lz4 ? A.CompressionType.LZ4_FRAME : o.zstd ? A.CompressionType.ZSTD : null } as never);
  w.write(table);
  w.finish();
  await writeFile(path, await w.toUint8Array());
}
