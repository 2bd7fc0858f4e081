// The symmetry test's sums (odd moments of x), one batch of rows.
// Twin: src/kernels/js/symmetry.ts. Definition: Moments1Sums.odd in src/kernels/types.ts.

/**
 * For every column j < d, over the rows r < nb of X (nb×d row-major), with v = X[r][j] and
 * wv = ρ_r·v (wv = v when rho = 0), wv3 = (wv·v)·v, four sums in increasing row order from +0:
 *   S1 = Σ wv,  V1 = Σ wv·wv,  S3 = Σ wv3,  V3 = Σ wv3·wv3,
 * then added once each to out[j], out[d + j], out[2d + j], out[3d + j].
 * Lanes run across columns (j, j+1): every lane is one column's own sequential chain.
 */
export function oddMomentsBatch(out: usize, X: usize, nb: i32, d: i32, rho: usize): void {
  const rb = <usize>d << 3; // bytes per row
  const plane = <usize>d << 3; // bytes between the four output vectors
  let j = 0;
  // Four columns per sweep (two f64x2 chains of each sum): twice the independent chains of one
  // pair, so the additions' latency overlaps (each lane is still its column's own chain).
  for (; j + 4 <= d; j += 4) {
    let s1 = f64x2.splat(0.0), v1 = f64x2.splat(0.0), s3 = f64x2.splat(0.0), v3 = f64x2.splat(0.0);
    let t1 = f64x2.splat(0.0), u1 = f64x2.splat(0.0), t3 = f64x2.splat(0.0), u3 = f64x2.splat(0.0);
    let p = X + (<usize>j << 3);
    for (let r = 0; r < nb; r++, p += rb) {
      let v = v128.load(p);
      let u = v128.load(p, 16);
      let wv = v, wu = u;
      if (rho) {
        const w = v128.load64_splat(rho + (<usize>r << 3));
        wv = f64x2.mul(w, v);
        wu = f64x2.mul(w, u);
      }
      const wv3 = f64x2.mul(f64x2.mul(wv, v), v);
      const wu3 = f64x2.mul(f64x2.mul(wu, u), u);
      s1 = f64x2.add(s1, wv);
      t1 = f64x2.add(t1, wu);
      v1 = f64x2.add(v1, f64x2.mul(wv, wv));
      u1 = f64x2.add(u1, f64x2.mul(wu, wu));
      s3 = f64x2.add(s3, wv3);
      t3 = f64x2.add(t3, wu3);
      v3 = f64x2.add(v3, f64x2.mul(wv3, wv3));
      u3 = f64x2.add(u3, f64x2.mul(wu3, wu3));
    }
    const o = out + (<usize>j << 3);
    v128.store(o, f64x2.add(v128.load(o), s1));
    v128.store(o, f64x2.add(v128.load(o, 16), t1), 16);
    v128.store(o + plane, f64x2.add(v128.load(o + plane), v1));
    v128.store(o + plane, f64x2.add(v128.load(o + plane, 16), u1), 16);
    v128.store(o + 2 * plane, f64x2.add(v128.load(o + 2 * plane), s3));
    v128.store(o + 2 * plane, f64x2.add(v128.load(o + 2 * plane, 16), t3), 16);
    v128.store(o + 3 * plane, f64x2.add(v128.load(o + 3 * plane), v3));
    v128.store(o + 3 * plane, f64x2.add(v128.load(o + 3 * plane, 16), u3), 16);
  }
  for (; j + 2 <= d; j += 2) {
    let s1 = f64x2.splat(0.0), v1 = f64x2.splat(0.0), s3 = f64x2.splat(0.0), v3 = f64x2.splat(0.0);
    let p = X + (<usize>j << 3);
    for (let r = 0; r < nb; r++, p += rb) {
      const v = v128.load(p);
      const wv = rho ? f64x2.mul(v128.load64_splat(rho + (<usize>r << 3)), v) : v;
      const wv3 = f64x2.mul(f64x2.mul(wv, v), v);
      s1 = f64x2.add(s1, wv);
      v1 = f64x2.add(v1, f64x2.mul(wv, wv));
      s3 = f64x2.add(s3, wv3);
      v3 = f64x2.add(v3, f64x2.mul(wv3, wv3));
    }
    const o = out + (<usize>j << 3);
    v128.store(o, f64x2.add(v128.load(o), s1));
    v128.store(o + plane, f64x2.add(v128.load(o + plane), v1));
    v128.store(o + 2 * plane, f64x2.add(v128.load(o + 2 * plane), s3));
    v128.store(o + 3 * plane, f64x2.add(v128.load(o + 3 * plane), v3));
  }
  if (j < d) {
    // The last column alone.
    let s1: f64 = 0, v1: f64 = 0, s3: f64 = 0, v3: f64 = 0;
    let p = X + (<usize>j << 3);
    for (let r = 0; r < nb; r++, p += rb) {
      const v = load<f64>(p);
      const wv = rho ? load<f64>(rho + (<usize>r << 3)) * v : v;
      const wv3 = wv * v * v;
      s1 += wv;
      v1 += wv * wv;
      s3 += wv3;
      v3 += wv3 * wv3;
    }
    const o = out + (<usize>j << 3);
    store<f64>(o, load<f64>(o) + s1);
    store<f64>(o + plane, load<f64>(o + plane) + v1);
    store<f64>(o + 2 * plane, load<f64>(o + 2 * plane) + s3);
    store<f64>(o + 3 * plane, load<f64>(o + 3 * plane) + v3);
  }
}
