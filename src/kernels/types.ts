/**
 * The one interface between the orchestration (src/) and the hot loops. Two implementations:
 * `src/kernels/js/` (pure JS) and `src/kernels/wasm/` (AssemblyScript compiled to wasm SIMD,
 * source in assembly/). The orchestration never branches on which one it holds.
 *
 * ## The accumulation contract (why both backends give bitwise-identical results)
 * Every kernel below that "accumulates" follows one order, and no implementation may deviate:
 * - The rows of a call are processed in consecutive batches of BATCH_ROWS rows (the last
 *   batch may be shorter). Each call starts a fresh batch sequence.
 * - Within a batch, each output element sums its per-row terms in increasing row order into a
 *   scalar that starts at +0, using separate IEEE multiply and add (no fused multiply-add);
 *   then that batch sum is added to the destination element once: dst = dst + s.
 * - Every dot product (projections) sums its terms in increasing inner index order from +0.
 * - Float32 batch sums (the detector with DetectorPlan.float32 only): both factors of every
 *   product are the float64 values rounded to float32 (to nearest even), and the batch sum is
 *   formed as above with every product and every partial sum rounded to float32; it is then
 *   added to the float64 destination once.
 * SIMD lanes must therefore run across *outputs* (columns, tiles, samples), never across the
 * summation index. Register tiling and panel packing are free to do anything else.
 *
 * ## Sample weights
 * `moments1`, `detector`, `readout`, `refineVarPro` and `refineHessian` take an optional
 * per-row weight array `rho` (length ≥
 * rows, checked; values finite, zeros allowed, not checked: the learner's ρ are in (0, 1]).
 * `null` or omitted: every row has weight 1 and the kernel performs exactly the unweighted
 * operations (no multiplication by 1 anywhere, so the bits are those of the unweighted
 * definition, as before weights existed). With weights, each kernel multiplies ONE
 * factor of every per-row product by ρ_r, at a fixed place stated in its documentation
 * ("weighted operand"), before the product is formed: v' = rho[r] * v, one IEEE multiply.
 * Everything else (products, batch sums, order) is as in the unweighted case with v' in
 * place of v. So the sums are Σ_r ρ_r·(term)_r up to rounding — the same quantities the
 * learner needs (see src/method/weights.ts).
 * Instead of an array, `rho` may be a RobustWeighting: the kernel then computes ρ_r from row r
 * of x itself, exactly as Kernels.robustWeights defines it (the same bits), writes it to
 * `out[r]` (the caller needs Σρ) and uses it as above. Same sums as robustWeights followed by
 * the weighted call; the wasm backend saves a copy of x into its memory per call.
 *
 * All matrices are Float64Array, row-major, dense, with the leading dimension equal to the
 * column count unless stated.
 */

/** Robust weights a kernel computes from the rows of x (see "Sample weights" above). */
export interface RobustWeighting {
  /** Length ≥ d: the invScale of Kernels.robustWeights. */
  invScale: Float64Array;
  /** The denom of Kernels.robustWeights. */
  denom: number;
  /** Length ≥ rows: receives ρ_r of every row (overwritten). */
  out: Float64Array;
}

/** A kernel's optional sample weights: given per row, computed from x, or none (null/omitted). */
export type RowWeights = Float64Array | RobustWeighting | null;

/** Rows per accumulation batch (see the contract above). */
export const BATCH_ROWS = 256;

/** Kernels.eigNonsym: iterations allowed per eigenvalue (ml-matrix's loops have no cap). */
export const EIG_NONSYM_ITER_CAP = 1000;

/**
 * The most bytes one wasm kernel call can hold: the glue lays every buffer of a call out in one
 * block of AssemblyScript's TLSF allocator, whose blocks are below 2³⁰ bytes (BLOCK_MAXSIZE, less
 * a 4-byte header), and asks 64 bytes more for alignment (kernels/wasm/layout.ts).
 */
export const WASM_BLOCK_BYTES = 2 ** 30 - 128;

/** √2, the weight of off-diagonal entries in symmetric-matrix coordinates. */
export const SQRT2 = Math.SQRT2;

/** Pass-1 sums (second moments). Sizes fixed by d and l. */
export interface Moments1Sums {
  /** d×d; only the upper triangle (j ≥ i) is accumulated; the lower triangle is untouched. */
  xx: Float64Array;
  /** l×d: Σ y xᵀ. */
  yx: Float64Array;
  /** l×l; upper triangle only, as xx. */
  yy: Float64Array;
  /** d: Σ x. */
  xs: Float64Array;
  /** l: Σ y. */
  ys: Float64Array;
  /**
   * Optional, 4d: the symmetry test's odd-moment sums of x (src/method/symmetry.ts), accumulated when
   * present. S1 | V1 | S3 | V3, d values each; per row r and column j, with v = x_rj and
   * wv = rho[r] * v (wv = v without weights), wv3 = (wv * v) * v:
   *   S1_j += Σ wv,  V1_j += Σ wv * wv,  S3_j += Σ wv3,  V3_j += Σ wv3 * wv3
   * (batch sums under the contract; the four are separate sums, not one more product).
   */
  odd?: Float64Array;
}

/**
 * Everything pass 2 needs to turn a raw sample (x, y) into detector features.
 * Per sample (all dot products in inner-index order from +0):
 *   h = Rx·x            (hDim)   reduced, whitened input
 *   z = Ry·y            (zDim)   reduced (and whitened) output
 *   p = Ph·h            (zDim)   linear (odd) part of z predicted from h
 *   even detector (literal = false): e = z − 0.5·p  (elementwise, computed as z_i − 0.5*p_i)
 *                         q_ij = e_i*e_j − 0.25*(p_i*p_j)
 *   paper-literal (literal = true):   q_ij = z_i*z_j − 0.5*(p_i*p_j)
 *   f_ij = h_i*h_j
 * Upper-triangle coordinates (i ≤ j), enumerated row by row: (0,0),(0,1),…,(0,m−1),(1,1),…;
 * index(i,j) = i·m − i·(i−1)/2 + (j − i) for an m-vector. An off-diagonal entry (i < j) is
 * multiplied by SQRT2 after it is formed (v = v * SQRT2), so Frobenius inner products of
 * symmetric matrices equal dot products of these vectors.
 *   F = features of h: length mh = hDim(hDim+1)/2;  G = features of q: length mz = zDim(zDim+1)/2.
 * Accumulates T (mh×mz) += Σ_rows F·Gᵀ under the batch contract.
 */
export interface DetectorPlan {
  d: number;
  l: number;
  hDim: number;
  zDim: number;
  /** hDim×d */
  Rx: Float64Array;
  /** zDim×l */
  Ry: Float64Array;
  /** zDim×hDim */
  Ph: Float64Array;
  literal: boolean;
  /**
   * T += FᵀG in float32 (default float64): F and G rounded to float32, each batch summed in
   * float32 (the contract above, every product and sum rounded to float32), the batch sum
   * added to T in float64. Twice the SIMD width; the rounding (~1e-7 of the batch sums) lies
   * far below the detector's sampling error, but not below rounding: exact data keep an exact
   * null space only in float64.
   */
  float32?: boolean;
}

/** Pass-3 sums: least-squares normal equations of y on r = relu(W·x). */
export interface ReadoutSums {
  /** k×k, upper triangle only: Σ r rᵀ. */
  rr: Float64Array;
  /** k×l: Σ r yᵀ. */
  ry: Float64Array;
}

/**
 * Refinement sums at a first layer W (k×d), over samples (x, y) (summed by src/passes/refine.ts,
 * used by src/method/refine.ts). r = relu(W·x) per sample; unit i is "active" on a sample when r_i > 0.
 */
export interface VarProSums {
  /** k×k, upper triangle only: Σρ r rᵀ. */
  rr: Float64Array;
  /** k×l: Σρ r yᵀ. */
  ry: Float64Array;
  /** (k·d)×l, row i·d + j: Σρ 1[r_i > 0]·x_j·yᵀ (per unit i, a d×l block). */
  S1: Float64Array;
  /** (k·d)×k, row i·d + j: Σρ 1[r_i > 0]·x_j·rᵀ (per unit i, a d×k block). */
  S2: Float64Array;
  /** Length ≥ 1; element 0: Σρ ‖y‖². */
  yy: Float64Array;
}

/**
 * The refinement's all-sample sums at (A, W) (Kernels.refineGradient; summed by
 * src/passes/refine.ts, used by src/method/refine.ts).
 */
export interface GradientSums {
  /** k×k, upper triangle only: Σ r rᵀ. */
  rr: Float64Array;
  /** k×l: Σ r yᵀ. */
  ry: Float64Array;
  /** k×d: Σ (m ∘ Aᵀe) xᵀ, e = y − A·r, m = 1[r > 0]: the W-gradient of ½Σ‖e‖² with the sign of a descent step. */
  gW: Float64Array;
  /** Length ≥ 1; element 0: Σ ‖e‖². */
  ee: Float64Array;
  /** Length ≥ 1; element 0: Σ ‖y‖². */
  yy: Float64Array;
}

/** Result of a symmetric eigendecomposition. */
export interface SymEigResult {
  /** m eigenvalues in ascending order. */
  values: Float64Array;
  /** m×m row-major; column j is the unit eigenvector of values[j]. */
  vectors: Float64Array;
}

/** Result of a general eigendecomposition (Kernels.eigNonsym), as ml-matrix's EigenvalueDecomposition. */
export interface EigNonsymResult {
  /** n real parts (ml-matrix's realEigenvalues), in its order. */
  re: Float64Array;
  /** n imaginary parts (imaginaryEigenvalues): a complex pair as +z, −z in adjacent places. */
  im: Float64Array;
  /**
   * n×n row-major (ml-matrix's eigenvectorMatrix): column j is the eigenvector of a real
   * eigenvalue j; a complex pair j, j+1 (im[j] > 0) has the real part of its eigenvector in
   * column j and the imaginary part in column j+1. Not normalized (ml-matrix's scaling).
   */
  vectors: Float64Array;
}

export type BackendName = 'js' | 'wasm';

export interface Kernels {
  readonly name: BackendName;

  /**
   * Pass 1: accumulate second moments of `rows` samples (x rows×d, y rows×l).
   * Weighted operand (with `rho`): the LEFT factor of every product, which is also the term
   * of the first-moment sums. Per row r, with x' = rho[r] * x_ri and y' = rho[r] * y_ri:
   *   xx_ij += Σ x'_ri · x_rj (j ≥ i)   yx_ij += Σ y'_ri · x_rj   yy_ij += Σ y'_ri · y_rj (j ≥ i)
   *   xs_i  += Σ x'_ri                  ys_i  += Σ y'_ri
   * (batch sums under the contract above), and the odd-moment sums when `sums.odd` is given.
   */
  moments1(sums: Moments1Sums, x: Float64Array, y: Float64Array, rows: number, d: number, l: number, rho?: RowWeights): void;

  /**
   * Pass 2: accumulate the detector matrix T (mh×mz, see DetectorPlan) over `rows` samples.
   * Weighted operand (with `rho`): the G features. Each G entry of row r, formed exactly as in
   * DetectorPlan (including its √2 factor), is then multiplied: g' = g * rho[r];
   * T += Σ F·G'ᵀ. F is unchanged.
   */
  detector(T: Float64Array, plan: DetectorPlan, x: Float64Array, y: Float64Array, rows: number, rho?: RowWeights): void;

  /**
   * Pass 3: r = relu(W·x) per sample (W k×d; r_i = max(dot, 0) written as dot > 0 ? dot : 0),
   * accumulate Σ r rᵀ (upper) and Σ r yᵀ.
   * Weighted operand (with `rho`): the left relu features, r'_i = rho[r] * r_i after the relu;
   *   rr_ij += Σ r'_i · r_j (j ≥ i)     ry_ij += Σ r'_i · y_j.
   */
  readout(
    sums: ReadoutSums, W: Float64Array, k: number, x: Float64Array, y: Float64Array, rows: number, d: number, l: number,
    rho?: RowWeights,
  ): void;

  /**
   * Refinement pass (src/method/refine.ts; sums in src/passes/refine.ts): the variable-projection sums at W (k×d) over `rows`
   * samples. Per row, r_i = relu(W_i·x) exactly as in `readout` (dot in increasing j from +0,
   * then v > 0 ? v : 0); unit i is active on the row when r_i > 0.
   * Weighted operand (with `rho`): the RIGHT factor, y'_o = rho[r] * y_ro, r'_t = rho[r] * r_t
   * (without weights y' = y, r' = r, no multiply):
   *   rr_it += Σ r_i · r'_t (t ≥ i)          ry_io += Σ r_i · y'_o                (every row)
   *   S1[(i·d + j)·l + o] += Σ x_j · y'_o      S2[(i·d + j)·k + t] += Σ x_j · r'_t  (rows where i is active)
   *   yy[0] += Σ q_r,  q_r = Σ_o y_ro · y'_o (increasing o from +0)
   * (batch sums under the contract above). Sparsity: the S1/S2 sums of unit i take terms only
   * from the rows of the batch where i is active, in increasing row order; a unit active on no
   * row of a batch leaves its blocks untouched in that batch. For finite data these are the bits
   * of the dense definition (the skipped terms are ±0, and a sum that starts at +0 is never −0,
   * so adding ±0 never changes it).
   */
  refineVarPro(
    sums: VarProSums, W: Float64Array, k: number, x: Float64Array, y: Float64Array, rows: number, d: number, l: number,
    rho?: RowWeights,
  ): void;

  /**
   * Refinement pass: the pieces of the Gauss–Newton matrix at W (k×d) over `rows` samples.
   * M is mk×md (mk = k(k+1)/2, md = d(d+1)/2), row triIndex(i, i2, k) for unit pairs i ≤ i2,
   * column triIndex(j, j2, d) for j ≤ j2 (index(i, j) = i·m − i·(i−1)/2 + (j − i); no √2):
   *   M[(i,i2)][(j,j2)] += Σ x'_j · x_j2   over the rows where units i AND i2 are both active
   * (r_i > 0 as in refineVarPro). Weighted operand (with `rho`): the LEFT factor,
   * x'_j = rho[r] * x_rj; without weights x' = x. Batch sums under the contract, in increasing
   * row order over the pair's active rows; a pair with no active row in a batch is untouched in
   * that batch (the same bits as the dense sum for finite data, see refineVarPro).
   */
  refineHessian(M: Float64Array, W: Float64Array, k: number, x: Float64Array, rows: number, d: number, rho?: RowWeights): void;

  /**
   * The refinement's all-sample pass (src/method/refine.ts) at first layer W (k×d) and second
   * layer A (l×k), over `rows` samples, unweighted (the refinement minimizes the plain squared
   * loss). Per row, with every dot product in increasing inner index from +0:
   *   r_i = relu(W_i·x) exactly as in `readout`;   p_o = Σ_i A_oi·r_i;   e_o = y_o − p_o;
   *   u_i = Σ_o A_oi·e_o;   u'_i = r_i > 0 ? u_i : +0;
   *   rr_it += Σ r_i·r_t (t ≥ i)     ry_io += Σ r_i·y_o     gW[i·d + j] += Σ u'_i·x_j
   *   ee[0] += Σ q_r, q_r = Σ_o e_o·e_o     yy[0] += Σ s_r, s_r = Σ_o y_o·y_o
   * (batch sums under the contract above; q_r and s_r over o in increasing order from +0).
   */
  refineGradient(sums: GradientSums, W: Float64Array, A: Float64Array, k: number, x: Float64Array, y: Float64Array, rows: number, d: number, l: number): void;

  /**
   * Robust sample weights (src/method/weights.ts), one per row of x (rows×d):
   *   q = Σ_j v_j·v_j with v_j = x_rj * invScale_j, summed in increasing j from +0;
   *   t = 1 + q * denom;   out[r] = 1 / (t * t).
   * Every row is independent (implementations may run SIMD lanes across rows). `out` has
   * length ≥ rows, `invScale` length ≥ d. Not an accumulation: out[0..rows) is overwritten.
   */
  robustWeights(out: Float64Array, x: Float64Array, rows: number, d: number, invScale: Float64Array, denom: number): void;

  /**
   * Gram matrix of the rows of `a` (rows×cols, row-major): G (cols×cols, row-major) +=
   * Σ_r a_ri·a_rj for j ≥ i, in batches of BATCH_ROWS rows under the contract above; the strict
   * lower triangle of G is neither read nor written.
   */
  gram(G: Float64Array, a: Float64Array, rows: number, cols: number): void;

  /**
   * The non-linearized detector f(u) = φᵀGφ, φ = svec(uuᵀ), of each row u of U (count×k):
   * G mz×mz symmetric (mz = k(k+1)/2; only its upper triangle is read), per direction
   * f = Σ_i φ_i·(G_ii·φ_i + 2·Σ_{t>i} G_it·φ_t) with the inner sums in increasing t from +0.
   */
  detectorObjectives(G: Float64Array, k: number, U: Float64Array, count: number): Float64Array;
  /**
   * Gauss–Newton polish of each row of U (count×k unit vectors, overwritten with the results)
   * on f subject to ‖u‖ = 1, at most maxIter steps (method/polish.ts; the step, its
   * backtracking and the stopping rule are those of the JS twin, src/kernels/js/polish.ts).
   * Returns f of each result.
   */
  polish(G: Float64Array, k: number, U: Float64Array, count: number, maxIter: number): Float64Array;
  /**
   * Eigendecomposition of the symmetric m×m matrix `a` (row-major; only the upper triangle
   * is read). `a` is not modified. Deterministic: the same input gives the same bits.
   */
  symEig(a: Float64Array, m: number): SymEigResult;
  /**
   * Eigendecomposition of the general n×n matrix `a` (row-major, n ≥ 1, every entry finite,
   * checked; not modified): exactly the bits of ml-matrix's `new EigenvalueDecomposition(a)` —
   * a statement-for-statement port of its code (src/kernels/js/eigNonsym.ts), including its
   * choice of the symmetric algorithm for an exactly symmetric `a`. Throws NUMERICAL_FAILURE
   * where ml-matrix would loop forever (an eigenvalue taking more than 1000 QR iterations) or
   * throw (NaN reached inside the symmetric QL iteration): only when finite entries overflow.
   */
  eigNonsym(a: Float64Array, n: number): EigNonsymResult;

  /**
   * In-place Cholesky factor of the symmetric positive-definite p×p matrix `a` (row-major;
   * only the lower triangle including the diagonal is read). Returns true on success: the lower
   * triangle of `a` then holds L with A = L·Lᵀ. Returns false when a pivot is not > 0 (or is
   * NaN): `a` is then unchanged. The strict upper triangle of `a` is never read or written
   * (it keeps whatever it held, bit for bit).
   * Order, per element (i ≥ j), identical on both backends:
   *   v = A[i][j];  for t = 0 .. j−1 ascending:  v = v − L[j][t]·L[i][t]  (one mul, one sub);
   *   i == j: L[j][j] = sqrt(v), failing unless v > 0;   i > j: L[i][j] = v / L[j][j].
   * (The textbook row-oriented loop: same chain, same bits.) Implementations run SIMD lanes
   * across outputs (columns of Lᵀ), never across one element's terms.
   */
  cholesky(a: Float64Array, p: number): boolean;

  /**
   * out = L⁻¹ for L (p×p row-major) lower triangular with positive diagonal; only the lower
   * triangle including the diagonal of L is read. `out` (p×p) is overwritten entirely: X = L⁻¹
   * in its lower triangle, +0 in its strict upper triangle. `out` may be `L` itself (in-place).
   * Order, per element X[i][e] (i ≥ e), with columns taken in groups of four, e0 = 4·⌊e/4⌋:
   *   v = (i == e ? 1 : 0);  for t = e0 .. i−1 ascending:  v = v − L[i][t]·X[t][e];  X[i][e] = v / L[i][i],
   * where X[t][e] for t < e is what this same recurrence gives above the diagonal (it runs for
   * every e0 ≤ i in the group): +0 for finite L with positive diagonal, so those extra terms
   * subtract zeros, v stays +0 (or 1) through them, and the result has the bits of plain
   * forward substitution from t = e. (The wasm kernel holds a group's 4 columns in SIMD lanes.)
   */
  triInverse(L: Float64Array, p: number, out: Float64Array): void;
}
