/** Element-wise identity of two Float64Arrays (Object.is: NaN equals NaN, +0 differs from −0). */
export function sameBits(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}
