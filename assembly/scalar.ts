// Scalar helpers shared by the dense-algebra kernels (cholesky.ts, eig.ts, eigNonsym.ts,
// polish.ts). Inlined at every use, so sharing them changes no instruction.

/** The f64 at index i of the array at byte pointer p. */
// @ts-ignore: decorator
@inline export function ld(p: usize, i: i32): f64 { return load<f64>(p + (<usize>i << 3)); }

/** Stores v at index i of the array at byte pointer p. */
// @ts-ignore: decorator
@inline export function st(p: usize, i: i32, v: f64): void { store<f64>(p + (<usize>i << 3), v); }

/**
 * √(a² + b²) without overflow, written out from abs, div, mul, add and sqrt as JAMA's (and
 * ml-matrix's `hypotenuse`) do, so that the JS twin (src/kernels/js/eig.ts hypot) gives the
 * same bits: library hypot functions differ across engines.
 */
export function hypot(a: f64, b: f64): f64 {
  const aa = abs(a);
  const ab = abs(b);
  if (aa > ab) {
    const r = b / a;
    return aa * sqrt(1.0 + r * r);
  }
  if (b != 0.0) {
    const r = a / b;
    return ab * sqrt(1.0 + r * r);
  }
  return 0.0;
}
