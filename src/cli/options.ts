/**
 * The learn options on the command line, all from the one options table (api/options.ts): each
 * option's flag, the parsing of its value, its validation (checkOptions, as learn() itself does)
 * and its --help line. A value the table does not allow is a usage error naming the flag.
 */
import { PureneuronError } from '../errors.js';
import { checkOptions, LEARN_OPTIONS, type LearnOptionName, type LearnOptions } from '../api/options.js';
import { UsageError, type OptionSpec as FlagSpec } from './args.js';

type Flagged = Exclude<LearnOptionName, 'signal' | 'onProgress'>;

/** The parseArgs configuration of the flags of `keys`. */
export function optionFlags(keys: readonly Flagged[]): FlagSpec {
  return Object.fromEntries(keys.map((key) => {
    const spec = LEARN_OPTIONS[key];
    return [spec.flag, { type: 'arg' in spec ? 'string' : 'boolean' }];
  })) as FlagSpec;
}

/** A flag's text as the option's value: numbers as numbers, other words ('auto', 'wasm') as they are. */
const valueOf = (text: string): string | number => (/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(text.trim()) ? Number(text) : text);

/**
 * The options of `keys` given as flags in `values` (parseArgs output), validated. Omitted flags
 * are left out (learn() applies the defaults); a missing required one (--k) or a value the
 * table does not allow is a UsageError.
 */
export function optionsFromFlags(values: Record<string, string | boolean | undefined>, keys: readonly Flagged[]): Partial<LearnOptions> {
  const out: Record<string, unknown> = {};
  const text: Record<string, string> = {};
  for (const key of keys) {
    const spec = LEARN_OPTIONS[key];
    const v = values[spec.flag];
    if (v === undefined) {
      if ('required' in spec && spec.required) throw new UsageError(`--${spec.flag} is required (see --help)`);
      continue;
    }
    if (typeof v === 'boolean') {
      out[key] = 'flagValue' in spec ? spec.flagValue : v;
    } else {
      text[key] = v;
      out[key] = valueOf(v);
    }
  }
  try {
    checkOptions(LEARN_OPTIONS, out, { what: 'the command line', keys, label: (key) => `--${LEARN_OPTIONS[key as Flagged].flag}`, shown: (key) => JSON.stringify(text[key]) });
  } catch (e) {
    if (e instanceof PureneuronError && e.code === 'BAD_OPTION') throw new UsageError(e.message);
    throw e;
  }
  return out as Partial<LearnOptions>;
}

/** How --help shows a default. */
const showDefault = (v: unknown): string => (typeof v === 'string' ? v : String(v));

/** The --help lines of the flags of `keys`: flag and argument, then the option's doc and default, wrapped. */
export function optionsHelp(keys: readonly Flagged[]): string {
  return keys
    .map((key) => {
      const spec: (typeof LEARN_OPTIONS)[Flagged] & { arg?: string; flagValue?: boolean; default?: unknown } = LEARN_OPTIONS[key];
      const head = `  --${spec.flag}${spec.arg ? ` ${spec.arg}` : ''}`;
      const tail = spec.arg
        ? spec.default === undefined ? '' : ` (default\u00a0${showDefault(spec.default)})`
        : `; on by default, --${spec.flag} turns it off`;
      return wrap(head, spec.doc + tail);
    })
    .join('\n');
}

/** `head` padded to the doc column, then `doc` wrapped at 92 columns under that column (never at a no-break space). */
export function wrap(head: string, doc: string): string {
  const column = 25;
  const width = 92 - column;
  const lines: string[] = [];
  let line = '';
  for (const word of doc.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  const first = head.length < column - 1 ? head.padEnd(column) + lines[0] : `${head}\n${' '.repeat(column)}${lines[0]}`;
  return [first, ...lines.slice(1).map((l) => ' '.repeat(column) + l)].join('\n').replaceAll('\u00a0', ' ');
}
