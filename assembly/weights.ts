// Robust sample weights ρ = 1/(1 + q·denom)², q = Σ_j (x_j·invScale_j)², one batch of rows.
// Twin: src/kernels/js/weights.ts. Definition: Kernels.robustWeights in src/kernels/types.ts.

/**
 * out[r] = 1/(t·t), t = 1 + q·denom, q = Σ_{j<d} v_j·v_j with v_j = X[r][j]·inv[j], summed in
 * increasing j from +0, for r < nb. X: nb×d row-major.
 * Lanes run across rows (two rows per f64x2), eight rows per step in four independent
 * accumulators; each lane's sum over j is a plain sequential chain, as in the JS twin. Rows are
 * processed up to 8·ceil(nb/8): X must be readable and out writable that far (junk rows).
 */
export function robustWeightsBatch(out: usize, X: usize, nb: i32, d: i32, inv: usize, denom: f64): void {
  const rb = <usize>d << 3; // bytes per row
  const one = f64x2.splat(1.0);
  const dv = f64x2.splat(denom);
  for (let r = 0; r < nb; r += 8) {
    const x0 = X + <usize>r * rb;
    const x2 = x0 + 2 * rb, x4 = x0 + 4 * rb, x6 = x0 + 6 * rb;
    let q0 = f64x2.splat(0.0), q1 = f64x2.splat(0.0), q2 = f64x2.splat(0.0), q3 = f64x2.splat(0.0);
    let o: usize = 0;
    const pairEnd = <usize>(d & ~1) << 3;
    for (; o < pairEnd; o += 16) {
      // Two columns (j, j+1) of rows (2t, 2t+1), regrouped by column: lanes = the two rows.
      const i0 = v128.load64_splat(inv + o);
      const i1 = v128.load64_splat(inv + o, 8);
      let a = v128.load(x0 + o), b = v128.load(x0 + rb + o);
      let v = f64x2.mul(v128.shuffle<f64>(a, b, 0, 2), i0);
      q0 = f64x2.add(q0, f64x2.mul(v, v));
      v = f64x2.mul(v128.shuffle<f64>(a, b, 1, 3), i1);
      q0 = f64x2.add(q0, f64x2.mul(v, v));
      a = v128.load(x2 + o); b = v128.load(x2 + rb + o);
      v = f64x2.mul(v128.shuffle<f64>(a, b, 0, 2), i0);
      q1 = f64x2.add(q1, f64x2.mul(v, v));
      v = f64x2.mul(v128.shuffle<f64>(a, b, 1, 3), i1);
      q1 = f64x2.add(q1, f64x2.mul(v, v));
      a = v128.load(x4 + o); b = v128.load(x4 + rb + o);
      v = f64x2.mul(v128.shuffle<f64>(a, b, 0, 2), i0);
      q2 = f64x2.add(q2, f64x2.mul(v, v));
      v = f64x2.mul(v128.shuffle<f64>(a, b, 1, 3), i1);
      q2 = f64x2.add(q2, f64x2.mul(v, v));
      a = v128.load(x6 + o); b = v128.load(x6 + rb + o);
      v = f64x2.mul(v128.shuffle<f64>(a, b, 0, 2), i0);
      q3 = f64x2.add(q3, f64x2.mul(v, v));
      v = f64x2.mul(v128.shuffle<f64>(a, b, 1, 3), i1);
      q3 = f64x2.add(q3, f64x2.mul(v, v));
    }
    if (d & 1) {
      // Last column alone.
      const i0 = v128.load64_splat(inv + o);
      let v = f64x2.mul(f64x2.replace_lane(v128.load64_splat(x0 + o), 1, load<f64>(x0 + rb + o)), i0);
      q0 = f64x2.add(q0, f64x2.mul(v, v));
      v = f64x2.mul(f64x2.replace_lane(v128.load64_splat(x2 + o), 1, load<f64>(x2 + rb + o)), i0);
      q1 = f64x2.add(q1, f64x2.mul(v, v));
      v = f64x2.mul(f64x2.replace_lane(v128.load64_splat(x4 + o), 1, load<f64>(x4 + rb + o)), i0);
      q2 = f64x2.add(q2, f64x2.mul(v, v));
      v = f64x2.mul(f64x2.replace_lane(v128.load64_splat(x6 + o), 1, load<f64>(x6 + rb + o)), i0);
      q3 = f64x2.add(q3, f64x2.mul(v, v));
    }
    const p = out + (<usize>r << 3);
    let t = f64x2.add(one, f64x2.mul(q0, dv));
    v128.store(p, f64x2.div(one, f64x2.mul(t, t)));
    t = f64x2.add(one, f64x2.mul(q1, dv));
    v128.store(p, f64x2.div(one, f64x2.mul(t, t)), 16);
    t = f64x2.add(one, f64x2.mul(q2, dv));
    v128.store(p, f64x2.div(one, f64x2.mul(t, t)), 32);
    t = f64x2.add(one, f64x2.mul(q3, dv));
    v128.store(p, f64x2.div(one, f64x2.mul(t, t)), 48);
  }
}
