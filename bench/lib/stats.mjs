// Small figures shared by the benchmark scripts (bench/*.mjs).

/** The median of a list of numbers (the mean of the middle two for an even count). */
export function median(v) {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** v to `digits` significant digits (undefined and non-finite values pass through). */
export function round(v, digits = 3) {
  return v === undefined || !Number.isFinite(v) ? v : Number(v.toPrecision(digits));
}

/** True when two Float64Arrays hold the same bits (the backends' and workers' agreement check). */
export function sameBits(a, b) {
  if (a.length !== b.length) return false;
  const x = new BigUint64Array(a.buffer, a.byteOffset, a.length);
  const y = new BigUint64Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
