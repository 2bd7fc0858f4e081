// WebAssembly kernels (AssemblyScript, SIMD). Placeholder entry; kernels land per family.
export function simdProbe(a: f64, b: f64): f64 {
  const v = f64x2.add(f64x2.splat(a), f64x2.splat(b));
  return f64x2.extract_lane(v, 0);
}
