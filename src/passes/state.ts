/**
 * Pass state as plain data: a flat record of Float64Arrays and numbers. Every statistic of
 * every pass is a sum over samples, so two states of the same pass merge by adding field by
 * field; states cross worker boundaries (structured clone) and files (serialize)
 * unchanged.
 */
export type PassState = Record<string, Float64Array | number>;

/** dst += src field by field (same fields and lengths; throws otherwise). */
export function mergeState(dst: PassState, src: PassState): void {
  for (const key of Object.keys(src)) {
    const a = dst[key];
    const b = src[key];
    if (typeof a === 'number' && typeof b === 'number') {
      dst[key] = a + b;
    } else if (a instanceof Float64Array && b instanceof Float64Array && a.length === b.length) {
      for (let i = 0; i < a.length; i++) a[i] += b[i];
    } else {
      throw new RangeError(`cannot merge pass states: field "${key}" differs in type or length`);
    }
  }
}
