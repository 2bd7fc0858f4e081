/**
 * Pass state as plain data: a flat record of Float64Arrays and numbers, named by the pass that
 * made it (each pass module in this folder spells its own field names; nothing else does).
 * Every statistic of every pass is a sum over samples, so two states of the same pass merge by
 * adding field by field — except the rows a pass collects (a subsample), in fields named
 * `sample.…`, which merge by concatenation in chunk order. States cross worker boundaries
 * (structured clone) and state files (api/shardState.ts) unchanged.
 */
export type PassState = Record<string, Float64Array | number>;

/** Fields of collected rows: merged by concatenation, of any length. */
export const isSampleField = (key: string): boolean => key.startsWith('sample.');

/** dst += src field by field (same fields and lengths; throws otherwise); sample fields: dst ++ src. */
export function mergeState(dst: PassState, src: PassState): void {
  for (const key of Object.keys(src)) {
    const a = dst[key];
    const b = src[key];
    if (isSampleField(key) && a instanceof Float64Array && b instanceof Float64Array) {
      const c = new Float64Array(a.length + b.length);
      c.set(a);
      c.set(b, a.length);
      dst[key] = c;
    } else if (typeof a === 'number' && typeof b === 'number') {
      dst[key] = a + b;
    } else if (a instanceof Float64Array && b instanceof Float64Array && a.length === b.length) {
      for (let i = 0; i < a.length; i++) a[i] += b[i];
    } else {
      throw new RangeError(`cannot merge pass states: field "${key}" differs in type or length`);
    }
  }
}

/** A deep copy (merging into it leaves the original alone). */
export function copyState(s: PassState): PassState {
  return Object.fromEntries(Object.entries(s).map(([key, v]) => [key, typeof v === 'number' ? v : Float64Array.from(v)]));
}

/** −1 for a scalar field, the length of an array field, −2 for a missing one. */
export const fieldLength = (v: Float64Array | number | undefined): number => (v === undefined ? -2 : typeof v === 'number' ? -1 : v.length);

/**
 * How `state` differs from `template` (the fields a state of its pass must hold, with their
 * sizes), in words; undefined when it has exactly those fields.
 */
export function fieldMismatch(state: PassState, template: PassState): string | undefined {
  for (const [key, v] of Object.entries(template)) {
    if (isSampleField(key) ? !(state[key] instanceof Float64Array) : fieldLength(state[key]) !== fieldLength(v)) return `lack the field "${key}" (${fieldLength(v) < 0 ? 'a number' : `${fieldLength(v)} values`})`;
  }
  for (const key of Object.keys(state)) if (!(key in template)) return `have an unknown field "${key}"`;
  return undefined;
}

/** The rows [from, to) of a chunk of x (width d) and y (width l), as views. */
export function rowsOf<C extends { x: Float64Array; y: Float64Array }>(c: C, from: number, to: number, d: number, l: number): { x: Float64Array; y: Float64Array; rows: number } {
  return { x: c.x.subarray(from * d, to * d), y: c.y.subarray(from * l, to * l), rows: to - from };
}
