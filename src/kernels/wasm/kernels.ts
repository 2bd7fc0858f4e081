/**
 * The wasm kernels: each states its buffers once, as a table in layout order (roles and the
 * runner that lays them out, copies and batches: layout.ts), and its wasm call per batch.
 *
 * This file never sees the wasm bytes: it instantiates an already compiled module, so the
 * worker threads, which receive the calling thread's compiled module (parallel/pool.ts), bundle
 * the glue without the base64 of index.ts.
 */
import { PureneuronError } from '../../errors.js';
import {
  BATCH_ROWS, type DetectorPlan, type EigNonsymResult, type GradientSums, type Kernels, type Moments1Sums, type ReadoutSums, type RowWeights, type SymEigResult, type VarProSums,
} from '../types.js';
import {
  checkCholesky, checkDetector, checkEigNonsym, eigNonsymFailure, symEigFailure, checkGram, checkMoments1, checkPolish, checkReadout, checkRefineGradient, checkRefineHessian, checkRefineVarPro, checkRobustWeights, checkSymEig, checkTriInverse,
} from '../validate.js';
import { requireWasmApi, type WasmImports, type WasmModule } from './api.js';
import {
  ScratchRunner, acc, data, input, output, packed, pad4, panels, rows as rowsOf, rowsOut, scratch, weights, type RunnerExports,
} from './layout.js';

/** The module's exports (ABI documented in assembly/index.ts; pointers are byte offsets). */
interface WasmExports extends RunnerExports {
  batchRows(): number;
  moments1Batch(
    xx: number, yx: number, yy: number, xs: number, ys: number, X: number, Y: number, nb: number, d: number, l: number, Xp: number, Yp: number,
    rho: number, Xw: number, Yw: number, odd: number,
  ): void;
  detectorBatch(
    T: number, X: number, Y: number, nb: number, d: number, l: number, hDim: number, zDim: number,
    RxT: number, RyT: number, PhT: number, literal: number, Ht: number, Zt: number, Pt: number, Et: number, Fp: number, Gp: number,
    Fs: number, Gs: number, rho: number, f32: number,
  ): void;
  readoutBatch(
    rr: number, ry: number, X: number, Y: number, nb: number, d: number, l: number, k: number, WT: number, R: number, Yp: number,
    rho: number, Rw: number,
  ): void;
  refineVarProBatch(
    rr: number, ry: number, S1: number, S2: number, yy: number, X: number, Y: number, nb: number, d: number, l: number, k: number,
    WT: number, R: number, Xp: number, Yp: number, Gx: number, Gy: number, Gr: number, idx: number, rho: number, Rw: number, Yw: number,
  ): void;
  refineHessianBatch(
    M: number, X: number, nb: number, d: number, k: number, WT: number, R: number, Xp: number, Gl: number, Gr: number,
    idxI: number, idxP: number, D: number, rho: number, Xw: number,
  ): void;
  refineGradientBatch(
    rr: number, ry: number, gW: number, ee: number, yy: number, X: number, Y: number, nb: number, d: number, l: number, k: number,
    WT: number, AT: number, AtT: number, R: number, P: number, U: number, Xp: number, Yp: number,
  ): void;
  packPanels(dst: number, src: number, ld: number, nb: number, cols: number): void;
  gemmTN(dst: number, ldd: number, m: number, p: number, a: number, aPs: number, aRs: number, b: number, bPs: number, bRs: number, nb: number, upper: number): void;
  detectorObjectives(G: number, mz: number, k: number, U: number, count: number, out: number, phi: number): void;
  polishDirections(G: number, mz: number, k: number, U: number, count: number, maxIter: number, F: number, scratch: number): void;
  symEig(a: number, m: number, W: number, d: number, e: number): number;
  transpose(out: number, src: number, m: number): void;
  eigNonsym(a: number, n: number, V: number, d: number, e: number, H: number, ort: number): number;
  cholesky(a: number, p: number, U: number): number;
  triInverse(L: number, p: number, out: number, X: number): void;
}

/** 256 i32 (index lists of a batch's rows) in doubles. */
const INDEX_LIST = BATCH_ROWS / 2;

export class WasmKernels implements Kernels {
  readonly name = 'wasm' as const;
  private readonly ex: WasmExports;
  private readonly run: ScratchRunner;

  constructor(ex: WasmExports) {
    if (ex.batchRows() !== BATCH_ROWS) {
      throw new PureneuronError('BACKEND_UNAVAILABLE', `wasm module built for batches of ${ex.batchRows()} rows, expected ${BATCH_ROWS}`);
    }
    this.ex = ex;
    this.run = new ScratchRunner(ex);
  }

  /** Bytes of wasm memory currently reserved (for tests of bounded growth). */
  memoryBytes(): number {
    return this.run.memoryBytes();
  }

  moments1(sums: Moments1Sums, x: Float64Array, y: Float64Array, rows: number, d: number, l: number, rho?: RowWeights): void {
    checkMoments1(sums, x, y, rows, d, l, rho);
    if (rows === 0) return;
    const { ex } = this;
    this.run.batches(rows, {
      xx: acc(sums.xx, d * d), yx: acc(sums.yx, l * d), yy: acc(sums.yy, l * l), xs: acc(sums.xs, d), ys: acc(sums.ys, l),
      odd: sums.odd ? acc(sums.odd, 4 * d) : null,
      X: rowsOf(x, d), Y: rowsOf(y, l),
      Xp: scratch(panels(d)), Yp: scratch(panels(l)), // the batch packed
      rho: weights(rho, 'X'),
      Xw: rho ? scratch(panels(d)) : null, Yw: rho ? scratch(panels(l)) : null, // the panels scaled by ρ
    }, (p, nb) => ex.moments1Batch(p.xx, p.yx, p.yy, p.xs, p.ys, p.X, p.Y, nb, d, l, p.Xp, p.Yp, p.rho, p.Xw, p.Yw, p.odd));
  }

  detector(T: Float64Array, plan: DetectorPlan, x: Float64Array, y: Float64Array, rows: number, rho?: RowWeights): void {
    checkDetector(T, plan, x, y, rows, rho);
    if (rows === 0) return;
    const { ex } = this;
    const { d, l, hDim, zDim } = plan;
    const mh = (hDim * (hDim + 1)) / 2, mz = (zDim * (zDim + 1)) / 2;
    const hPad = pad4(hDim), zPad = pad4(zDim);
    const literal = plan.literal ? 1 : 0;
    this.run.batches(rows, {
      T: acc(T, mh * mz),
      Rx: input(plan.Rx, hDim * d), Ry: input(plan.Ry, zDim * l), Ph: input(plan.Ph, zDim * hDim),
      RxT: packed('Rx', hDim, d), RyT: packed('Ry', zDim, l), PhT: packed('Ph', zDim, hDim),
      X: rowsOf(x, d), Y: rowsOf(y, l),
      // h, z, p (row-major, padded to 4 columns), e, and the two feature panels.
      H: scratch(BATCH_ROWS * hPad), Z: scratch(BATCH_ROWS * zPad), P: scratch(BATCH_ROWS * zPad), E: scratch(BATCH_ROWS * zDim),
      F: scratch(panels(mh)), G: scratch(panels(mz)),
      // Their float32 copies (DetectorPlan.float32): F in 4-wide panels, G in 8-wide.
      Fs: scratch(plan.float32 ? panels(mh) / 2 : 0), Gs: scratch(plan.float32 ? panels(8 * Math.ceil(mz / 8)) / 2 : 0),
      rho: weights(rho, 'X'), // read up to row 2·ceil(nb/2) ≤ BATCH_ROWS: in bounds
    }, (p, nb) => ex.detectorBatch(
      p.T, p.X, p.Y, nb, d, l, hDim, zDim, p.RxT, p.RyT, p.PhT, literal, p.H, p.Z, p.P, p.E, p.F, p.G, p.Fs, p.Gs, p.rho, plan.float32 ? 1 : 0,
    ));
  }

  readout(
    sums: ReadoutSums, W: Float64Array, k: number, x: Float64Array, y: Float64Array, rows: number, d: number, l: number,
    rho?: RowWeights,
  ): void {
    checkReadout(sums, W, k, x, y, rows, d, l, rho);
    if (rows === 0) return;
    const { ex } = this;
    this.run.batches(rows, {
      rr: acc(sums.rr, k * k), ry: acc(sums.ry, k * l),
      W: input(W, k * d), WT: packed('W', k, d),
      X: rowsOf(x, d), Y: rowsOf(y, l),
      R: scratch(BATCH_ROWS * pad4(k)), Yp: scratch(panels(l)),
      rho: weights(rho, 'X'),
      Rw: rho ? scratch(BATCH_ROWS * pad4(k)) : null,
    }, (p, nb) => ex.readoutBatch(p.rr, p.ry, p.X, p.Y, nb, d, l, k, p.WT, p.R, p.Yp, p.rho, p.Rw));
  }

  refineVarPro(
    sums: VarProSums, W: Float64Array, k: number, x: Float64Array, y: Float64Array, rows: number, d: number, l: number,
    rho?: RowWeights,
  ): void {
    checkRefineVarPro(sums, W, k, x, y, rows, d, l, rho);
    if (rows === 0) return;
    const { ex } = this;
    this.run.batches(rows, {
      rr: acc(sums.rr, k * k), ry: acc(sums.ry, k * l), S1: acc(sums.S1, k * d * l), S2: acc(sums.S2, k * d * k), yy: acc(sums.yy, 1),
      W: input(W, k * d), WT: packed('W', k, d),
      X: rowsOf(x, d), Y: rowsOf(y, l),
      R: scratch(BATCH_ROWS * pad4(k)), Xp: scratch(panels(d)), Yp: scratch(panels(l)),
      Gx: scratch(panels(d)), Gy: scratch(panels(l)), Gr: scratch(panels(k)), idx: scratch(INDEX_LIST),
      rho: weights(rho, 'X'),
      Rw: rho ? scratch(BATCH_ROWS * pad4(k)) : null, Yw: rho ? scratch(panels(l)) : null,
    }, (p, nb) => ex.refineVarProBatch(
      p.rr, p.ry, p.S1, p.S2, p.yy, p.X, p.Y, nb, d, l, k, p.WT, p.R, p.Xp, p.Yp, p.Gx, p.Gy, p.Gr, p.idx, p.rho, p.Rw, p.Yw,
    ));
  }

  refineHessian(M: Float64Array, W: Float64Array, k: number, x: Float64Array, rows: number, d: number, rho?: RowWeights): void {
    checkRefineHessian(M, W, k, x, rows, d, rho);
    if (rows === 0) return;
    const { ex } = this;
    this.run.batches(rows, {
      M: acc(M, ((k * (k + 1)) / 2) * ((d * (d + 1)) / 2)),
      W: input(W, k * d), WT: packed('W', k, d),
      X: rowsOf(x, d),
      R: scratch(BATCH_ROWS * pad4(k)), Xp: scratch(panels(d)), Gl: scratch(panels(d)), Gr: scratch(panels(d)),
      idxI: scratch(INDEX_LIST), idxP: scratch(INDEX_LIST), D: scratch(d * d),
      rho: weights(rho, 'X'),
      Xw: rho ? scratch(panels(d)) : null,
    }, (p, nb) => ex.refineHessianBatch(p.M, p.X, nb, d, k, p.WT, p.R, p.Xp, p.Gl, p.Gr, p.idxI, p.idxP, p.D, p.rho, p.Xw));
  }

  refineGradient(sums: GradientSums, W: Float64Array, A: Float64Array, k: number, x: Float64Array, y: Float64Array, rows: number, d: number, l: number): void {
    checkRefineGradient(sums, W, A, k, x, y, rows, d, l);
    if (rows === 0) return;
    const { ex } = this;
    const At = new Float64Array(k * l);
    for (let o = 0; o < l; o++) for (let i = 0; i < k; i++) At[i * l + o] = A[o * k + i];
    this.run.batches(rows, {
      rr: acc(sums.rr, k * k), ry: acc(sums.ry, k * l), gW: acc(sums.gW, k * d), ee: acc(sums.ee, 1), yy: acc(sums.yy, 1),
      W: input(W, k * d), WT: packed('W', k, d), A: input(A, l * k), AT: packed('A', l, k), At: input(At, k * l), AtT: packed('At', k, l),
      X: rowsOf(x, d), Y: rowsOf(y, l),
      // R and U row-major with ld pad(k), P (then E) with ld pad(l); the batch's packed panels.
      R: scratch(BATCH_ROWS * pad4(k)), P: scratch(BATCH_ROWS * pad4(l)), U: scratch(BATCH_ROWS * pad4(k)),
      Xp: scratch(panels(d)), Yp: scratch(panels(l)),
    }, (p, nb) => ex.refineGradientBatch(
      p.rr, p.ry, p.gW, p.ee, p.yy, p.X, p.Y, nb, d, l, k, p.WT, p.AT, p.AtT, p.R, p.P, p.U, p.Xp, p.Yp,
    ));
  }

  robustWeights(out: Float64Array, x: Float64Array, rows: number, d: number, invScale: Float64Array, denom: number): void {
    checkRobustWeights(out, x, rows, d, invScale, denom);
    if (rows === 0) return;
    const { ex } = this;
    // The kernel writes up to 8·ceil(nb/8) ≤ BATCH_ROWS values of out (junk past nb, never copied out).
    this.run.batches(
      rows,
      { inv: input(invScale, d), X: rowsOf(x, d), out: rowsOut(out, 1) },
      (p, nb) => ex.robustWeightsBatch(p.out, p.X, nb, d, p.inv, denom),
    );
  }

  gram(G: Float64Array, a: Float64Array, rows: number, cols: number): void {
    checkGram(G, a, rows, cols);
    if (rows === 0) return;
    const { ex } = this;
    // Per batch: its rows packed into panels (stride BATCH_ROWS·32 bytes), then their upper-triangle
    // product with themselves — the steps of the JS twin (kernels/js/gram.ts).
    const panelBytes = BATCH_ROWS * 32;
    this.run.batches(rows, { G: acc(G, cols * cols), A: rowsOf(a, cols), P: scratch(panels(cols)) }, (p, nb) => {
      ex.packPanels(p.P, p.A, cols, nb, cols);
      ex.gemmTN(p.G, cols, cols, cols, p.P, panelBytes, 32, p.P, panelBytes, 32, nb, 1);
    });
  }

  detectorObjectives(G: Float64Array, k: number, U: Float64Array, count: number): Float64Array {
    checkPolish(G, k, U, count);
    const mz = (k * (k + 1)) / 2;
    const f = new Float64Array(count);
    if (count === 0) return f;
    const { ex } = this;
    this.run.once({ G: input(G, mz * mz), U: input(U, count * k), F: output(f, count), phi: scratch(mz) }, (p) =>
      ex.detectorObjectives(p.G, mz, k, p.U, count, p.F, p.phi),
    );
    return f;
  }

  polish(G: Float64Array, k: number, U: Float64Array, count: number, maxIter: number): Float64Array {
    checkPolish(G, k, U, count, maxIter);
    const mz = (k * (k + 1)) / 2;
    const f = new Float64Array(count);
    if (count === 0) return f;
    const { ex } = this;
    // G copied in once for every direction of the call; the scratch as assembly/polish.ts lays it
    // out. One wasm call per direction: V8 tiers a wasm function up between calls, never within
    // one, so a single call for all would run in its baseline code throughout in a fresh process.
    this.run.once({ G: input(G, mz * mz), U: data(count * k, U, U), F: output(f, count), S: scratch(5 * k * k + 7 * k + mz * k + 3 * mz) }, (p) => {
      for (let c = 0; c < count; c++) ex.polishDirections(p.G, mz, k, p.U + 8 * k * c, 1, maxIter, p.F + 8 * c, p.S);
    });
    return f;
  }

  symEig(a: Float64Array, m: number): SymEigResult {
    checkSymEig(a, m);
    const values = new Float64Array(m);
    const vectors = new Float64Array(m * m);
    if (m === 0) return { values, vectors };
    const { ex } = this;
    // W: the eigenvectors as rows (the QL iteration's order), V: transposed to columns.
    this.run.once({
      A: input(a, m * m), W: scratch(m * m), V: output(vectors, m * m), D: output(values, m), E: scratch(m),
    }, (p) => {
      if (ex.symEig(p.A, m, p.W, p.D, p.E) !== 1) {
        throw symEigFailure(m);
      }
      ex.transpose(p.V, p.W, m);
    });
    return { values, vectors };
  }

  eigNonsym(a: Float64Array, n: number): EigNonsymResult {
    checkEigNonsym(a, n);
    const re = new Float64Array(n);
    const im = new Float64Array(n);
    const vectors = new Float64Array(n * n);
    const { ex } = this;
    // H, ort: the Hessenberg form and orthes's work (assembly/eigNonsym.ts).
    this.run.once({
      A: input(a, n * n), V: output(vectors, n * n), D: output(re, n), E: output(im, n), H: scratch(n * n), O: scratch(n),
    }, (p) => {
      if (ex.eigNonsym(p.A, n, p.V, p.D, p.E, p.H, p.O) !== 1) {
        throw eigNonsymFailure(n);
      }
    });
    return { re, im, vectors };
  }

  cholesky(a: Float64Array, p: number): boolean {
    checkCholesky(a, p);
    const { ex } = this;
    const P = (p + 3) >> 2;
    // U: compact panels (assembly/cholesky.ts).
    return this.run.once({ A: input(a, p * p), U: scratch(8 * P * (P + 1)) }, (ptr, m) => {
      if (ex.cholesky(ptr.A, p, ptr.U) !== 1) return false; // `a` unchanged
      // Copy back the lower triangle only: the strict upper triangle of `a` is never written.
      const a0 = ptr.A / 8;
      for (let i = 0; i < p; i++) a.set(m.subarray(a0 + i * p, a0 + i * p + i + 1), i * p);
      return true;
    });
  }

  triInverse(L: Float64Array, p: number, out: Float64Array): void {
    checkTriInverse(L, p, out);
    const { ex } = this;
    // Inverted in place inside wasm memory, then copied out to `out`; X: one 4-column panel.
    this.run.once({ L: data(p * p, L, out), X: scratch(4 * p) }, (ptr) => ex.triInverse(ptr.L, p, ptr.L, ptr.X));
  }
}

function imports(): WasmImports {
  return {
    env: {
      // Only reachable on an allocator failure (everything else is built with --noAssert).
      abort(_msg: number, _file: number, line: number, col: number): never {
        throw new PureneuronError('BACKEND_UNAVAILABLE', `wasm abort (out of memory?) at ${line}:${col}`);
      },
    },
  };
}

/** Kernels on a new instance of a compiled module (synchronous: no compilation happens here). */
export function instantiateWasmKernels(module: WasmModule): WasmKernels {
  const WA = requireWasmApi();
  return new WasmKernels(new WA.Instance(module, imports()).exports as unknown as WasmExports);
}

/** As instantiateWasmKernels, asynchronously (for engines that restrict synchronous instantiation). */
export async function instantiateWasmKernelsAsync(module: WasmModule): Promise<WasmKernels> {
  const WA = requireWasmApi();
  const inst = await WA.instantiate(module, imports());
  return new WasmKernels(inst.exports as unknown as WasmExports);
}
