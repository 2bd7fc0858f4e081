/**
 * Choosing x and y among the named columns of one table file (Parquet, Arrow IPC, CSV with a
 * header). A SPEC is a comma-separated list (or an array) of column names and glob patterns
 * (`*` any run of characters, `?` one character); the chosen columns are taken in the file's
 * column order, whatever the order of the SPEC, so `x*` over x0 … x19 gives x0 … x19. A
 * fixed-size list / array column counts as its elements, in order.
 */
import { PureneuronError } from '../../errors.js';

/** A column of a table file as the learner sees it. */
export interface TableColumn {
  readonly name: string;
  /** Values per row: 1 for a scalar column, the list size for a fixed-size list / array column; undefined until probed. */
  width: number | undefined;
  /** Why the column cannot be learned from, e.g. "text (UTF8)"; undefined for numeric columns. */
  readonly unsupported?: string;
}

/** Column names and glob patterns: "x0,x1,feat_*" or ["x0", "x1", "feat_*"]. */
export type ColumnSpec = string | readonly string[];

/** The patterns of a SPEC (trimmed, none empty). */
export function specPatterns(flag: string, spec: ColumnSpec): string[] {
  const parts = typeof spec === 'string' ? spec.split(',') : Array.isArray(spec) ? spec : undefined;
  if (!parts || parts.some((p) => typeof p !== 'string')) {
    throw new TypeError(`${flag} must be a comma-separated string or an array of column names / patterns, got ${JSON.stringify(spec)}`);
  }
  const patterns = parts.map((p) => p.trim());
  if (patterns.length === 0 || patterns.some((p) => p === '')) {
    throw new PureneuronError('BAD_OPTION', `${flag} ${JSON.stringify(spec)} has an empty column name`);
  }
  return patterns;
}

function globRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 's');
}

function listNames(columns: readonly TableColumn[]): string {
  const names = columns.map((c) => c.name);
  return names.length <= 12 ? names.join(', ') : `${names.slice(0, 12).join(', ')}, … (${names.length} in all)`;
}

/** Indices (file order) of the columns matched by `patterns`; every pattern must match one. */
function matchColumns(path: string, flag: string, columns: readonly TableColumn[], patterns: string[]): number[] {
  const chosen = new Set<number>();
  for (const p of patterns) {
    const re = globRegExp(p);
    let hit = false;
    columns.forEach((c, i) => {
      if (re.test(c.name)) {
        chosen.add(i);
        hit = true;
      }
    });
    if (!hit) throw new PureneuronError('BAD_OPTION', `${flag}: ${JSON.stringify(p)} matches no column of ${path} (its columns: ${listNames(columns)})`);
  }
  return [...chosen].sort((a, b) => a - b);
}

/**
 * The columns of x and of y, by index in file order. Errors (BAD_OPTION) name the pattern that
 * matches nothing, a column chosen for both, or (BAD_FILE) a chosen column of a type the
 * learner cannot use.
 */
export function selectColumns(
  path: string,
  columns: readonly TableColumn[],
  xSpec: ColumnSpec,
  ySpec: ColumnSpec | undefined,
  flags: { x: string; y: string },
): { x: number[]; y: number[] } {
  const x = matchColumns(path, flags.x, columns, specPatterns(flags.x, xSpec));
  const y = ySpec === undefined ? [] : matchColumns(path, flags.y, columns, specPatterns(flags.y, ySpec));
  const both = x.filter((i) => y.includes(i));
  if (both.length > 0) {
    throw new PureneuronError(
      'BAD_OPTION',
      `${both.map((i) => JSON.stringify(columns[i]!.name)).join(', ')} ${both.length === 1 ? 'is' : 'are'} chosen by both ${flags.x} and ${flags.y}; a column is either an input or an output`,
    );
  }
  for (const i of [...x, ...y]) {
    const c = columns[i]!;
    if (c.unsupported !== undefined) {
      throw new PureneuronError('BAD_FILE', `column ${JSON.stringify(c.name)} of ${path} is ${c.unsupported}; only float64, float32 and integer columns (or fixed-size lists of them) can be learned from`);
    }
  }
  return { x, y };
}

/** Values per row of the chosen columns (their widths must be known). */
export function totalWidth(columns: readonly TableColumn[], chosen: readonly number[]): number {
  return chosen.reduce((s, i) => s + columns[i]!.width!, 0);
}
