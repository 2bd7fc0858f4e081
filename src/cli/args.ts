/** Argument parsing shared by the CLI commands (node:util parseArgs, strict: unknown flags are errors). */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** An error whose message is meant for the user as is (printed as one line, exit code 2). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Flag values by name: booleans for boolean flags, strings otherwise; `help` is always accepted. */
export type Values<T extends OptionSpec> = { [K in keyof T]?: T[K]['type'] extends 'boolean' ? boolean : string } & { help?: boolean };

export function parse<T extends OptionSpec>(argv: string[], options: T, allowPositionals = false): { values: Values<T>; positionals: string[] } {
  try {
    const r = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
    return { values: r.values as Values<T>, positionals: r.positionals };
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
}

/** Parses a flag value as an integer in [min, max]; undefined passes through. */
export function intFlag(name: string, v: string | undefined, min = 1, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!/^[-+]?\d+(e\d+)?$/i.test(v.trim()) || !Number.isInteger(x) || x < min || x > max) {
    throw new UsageError(`--${name} must be an integer in [${min}, ${max}], got "${v}"`);
  }
  return x;
}

/** Parses a flag value as a finite number ≥ min; undefined passes through. */
export function numFlag(name: string, v: string | undefined, min = -Infinity): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || x < min) throw new UsageError(`--${name} must be a number ≥ ${min}, got "${v}"`);
  return x;
}

export function required<T>(name: string, v: T | undefined): T {
  if (v === undefined) throw new UsageError(`--${name} is required (see --help)`);
  return v;
}

export function choice<T extends string>(name: string, v: string | undefined, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got "${v}"`);
  return v as T;
}

/** The flags that describe a planted problem (generate, demo). */
export const PROBLEM_FLAGS = {
  distribution: { type: 'string' },
  n: { type: 'string' },
  d: { type: 'string' },
  k: { type: 'string' },
  l: { type: 'string' },
  noise: { type: 'string' },
  seed: { type: 'string' },
} as const satisfies OptionSpec;
