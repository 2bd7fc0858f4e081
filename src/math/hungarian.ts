/**
 * Minimum-cost assignment (the Hungarian method, in the O(n²·m) shortest-augmenting-path form
 * with row and column potentials; Kuhn 1955, Munkres 1957, Jonker–Volgenant style).
 *
 * cost is rows×cols row-major (rows ≤ cols): cost[i·cols + j] is the cost of giving row i
 * column j. Returns assignment with assignment[i] = the column given to row i; distinct
 * columns, minimizing Σ_i cost[i][assignment[i]]. To maximize a score, pass its negation.
 */
export function hungarian(cost: ArrayLike<number>, rows: number, cols: number = rows): number[] {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) {
    throw new RangeError(`hungarian: rows = ${rows} and cols = ${cols} must be non-negative integers`);
  }
  if (rows > cols) throw new RangeError(`hungarian: rows = ${rows} exceeds cols = ${cols}; transpose the cost matrix`);
  if (cost.length !== rows * cols) {
    throw new RangeError(`hungarian: cost has ${cost.length} entries, expected rows·cols = ${rows * cols}`);
  }
  for (let t = 0; t < cost.length; t++) {
    // Infinite or NaN costs would stall the augmenting-path search.
    if (!Number.isFinite(cost[t])) throw new RangeError(`hungarian: cost[${t}] = ${cost[t]} is not finite`);
  }
  const n = rows;
  const m = cols;
  // 1-based indices with a virtual column 0 (the e-maxx formulation).
  // u: row potentials, v: column potentials, p[j]: row matched to column j (0 = none),
  // way[j]: previous column on the shortest alternating path to j.
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1);
  const way = new Int32Array(m + 1);
  const minv = new Float64Array(m + 1);
  const used = new Uint8Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(Infinity);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0];
      let delta = Infinity;
      let j1 = 0;
      const row = (i0 - 1) * m;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = cost[row + j - 1] - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] !== 0);
    // Augment along the path back to the virtual column.
    do {
      const j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 !== 0);
  }
  const assignment = new Array<number>(n).fill(-1);
  for (let j = 1; j <= m; j++) if (p[j] !== 0) assignment[p[j] - 1] = j - 1;
  return assignment;
}

/**
 * Matches the rows of two k×d matrices with unit rows (Hungarian on cost = −cos): returns the
 * cost matrix (k×k, row i of U1 against row j of U2) and permutation[i], the row of U2 matched
 * to row i of U1. Shared by compare() and the half-sample error estimate.
 */
export function matchUnitRows(U1: ArrayLike<number>, U2: ArrayLike<number>, k: number, d: number): { cost: Float64Array; permutation: number[] } {
  const cost = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      let c = 0;
      for (let t = 0; t < d; t++) c += U1[i * d + t] * U2[j * d + t];
      cost[i * k + j] = -c;
    }
  }
  return { cost, permutation: hungarian(cost, k, k) };
}
