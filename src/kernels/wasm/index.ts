/**
 * The wasm backend: AssemblyScript kernels (assembly/) compiled with SIMD128, embedded as
 * base64 (bytes.generated.ts, written by scripts/build-wasm.mjs), and a small typed glue.
 *
 * - The module is compiled once per process and instantiated once; every call reuses that
 *   instance (kernels are synchronous and never re-entered, so one instance is enough).
 * - Zero-copy inside wasm: the glue owns ONE persistent scratch block (exported `alloc`/`free`,
 *   TLSF) and lays out every buffer of a call inside it at 64-byte-aligned offsets. The block
 *   is regrown (free + alloc, ×1.5) only when a call needs more than it has, so memory is
 *   bounded by the largest call ever made, not by the number of calls.
 * - `memory.grow` (inside alloc) detaches the old ArrayBuffer: the Float64Array view is
 *   re-created whenever `view.buffer !== memory.buffer`, and only after the call's single
 *   allocation, so a view is never used across a grow.
 * - Rows stream through in batches of BATCH_ROWS: each batch is copied in (one memcpy per
 *   array, including the batch's sample weights when given), then one wasm call does the whole
 *   batch. Accumulators (sums, T) are copied in at the start of a call and out at its end.
 *   Robust weights (a RobustWeighting) are computed in wasm from the batch's x, already in
 *   memory, and copied out: the data cross into wasm memory once per call.
 */
import { PureneuronError } from '../../errors.js';
import {
  BATCH_ROWS, type DetectorPlan, type Kernels, type Moments1Sums, type ReadoutSums, type RowWeights, type SymEigResult, type VarProSums,
} from '../types.js';
import {
  checkCholesky, checkDetector, checkMoments1, checkReadout, checkRefineHessian, checkRefineVarPro, checkRobustWeights, checkSymEig, checkTriInverse,
} from '../validate.js';
import { wasmApi, type WasmApi, type WasmImports, type WasmMemory, type WasmModule } from './api.js';
import { WASM_BASE64 } from './bytes.generated.js';

/** The module's exports (ABI documented in assembly/index.ts; pointers are byte offsets). */
interface WasmExports {
  memory: WasmMemory;
  alloc(bytes: number): number;
  free(ptr: number): void;
  batchRows(): number;
  packWT(dst: number, M: number, rows: number, cols: number): void;
  moments1Batch(
    xx: number, yx: number, yy: number, xs: number, ys: number, X: number, Y: number, nb: number, d: number, l: number, Xp: number, Yp: number,
    rho: number, Xw: number, Yw: number, odd: number,
  ): void;
  detectorBatch(
    T: number, X: number, Y: number, nb: number, d: number, l: number, hDim: number, zDim: number,
    RxT: number, RyT: number, PhT: number, literal: number, Ht: number, Zt: number, Pt: number, Et: number, Fp: number, Gp: number,
    rho: number,
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
  robustWeightsBatch(out: number, X: number, nb: number, d: number, inv: number, denom: number): void;
  symEig(a: number, m: number, W: number, d: number, e: number): number;
  transpose(out: number, src: number, m: number): void;
  cholesky(a: number, p: number, U: number): number;
  triInverse(L: number, p: number, out: number, X: number): void;
}

const pad4 = (n: number): number => (n + 3) & ~3;

/** Copies rows [r0, r0 + nb) of a row-major array with `width` columns into wasm memory at element `to`. */
function copyRows(m: Float64Array, a: Float64Array, width: number, r0: number, nb: number, to: number): void {
  m.set(a.subarray(r0 * width, (r0 + nb) * width), to);
}
/** Doubles in the packed panels of one batch with `cols` columns. */
const panels = (cols: number): number => pad4(cols) * BATCH_ROWS;

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  if (typeof Buffer !== 'undefined') {
    const b = Buffer.from(b64, 'base64');
    const out = new Uint8Array(b.length);
    out.set(b);
    return out;
  }
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

let compiled: WasmModule | undefined;
let compiling: Promise<WasmModule> | undefined;
let instance: WasmKernels | undefined;

function api(): WasmApi {
  const WA = wasmApi();
  if (!WA) throw new PureneuronError('BACKEND_UNAVAILABLE', 'this JavaScript engine has no WebAssembly');
  return WA;
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

/** Synchronous path (Node, workers): compile (once) and instantiate (once). */
export function wasmKernelsSync(): Kernels {
  if (!instance) {
    const WA = api();
    compiled ??= new WA.Module(decodeBase64(WASM_BASE64));
    instance = new WasmKernels(new WA.Instance(compiled, imports()).exports as unknown as WasmExports);
  }
  return instance;
}

/** Asynchronous path (works where synchronous compilation of large modules is refused). */
export async function loadWasmKernels(): Promise<Kernels> {
  if (instance) return instance;
  const WA = api();
  compiling ??= WA.compile(decodeBase64(WASM_BASE64));
  compiled = await compiling;
  if (!instance) {
    const inst = await WA.instantiate(compiled, imports());
    instance ??= new WasmKernels(inst.exports as unknown as WasmExports);
  }
  return instance;
}

/** Byte offsets of a call's buffers inside the scratch block (all 64-byte aligned). */
class Layout {
  bytes = 0;
  /** Reserve `doubles` doubles plus 64 bytes of slack (kernels may read up to 32 B past a row). */
  add(doubles: number): number {
    const at = this.bytes;
    this.bytes += (Math.ceil(doubles / 8) + 1) * 64;
    return at;
  }
}

/**
 * The sample weights of one call, batch by batch: none (pointer 0), given (each batch's ρ copied
 * in), or a RobustWeighting (ρ computed in wasm from the batch's X, already copied in, and
 * copied out to its `out`). Lay out with `layout`, then `begin` once and `batch` per batch.
 */
class BatchWeights {
  private oRho = 0;
  private oInv = 0;
  constructor(
    private readonly ex: WasmExports,
    private readonly rho: RowWeights | undefined,
    private readonly d: number,
  ) {}

  layout(L: Layout): void {
    if (!this.rho) return;
    this.oRho = L.add(BATCH_ROWS); // robustWeightsBatch writes up to 8·ceil(nb/8) ≤ BATCH_ROWS rows
    if (!(this.rho instanceof Float64Array)) this.oInv = L.add(this.d);
  }

  begin(m: Float64Array, b: number): void {
    if (this.rho && !(this.rho instanceof Float64Array)) m.set(this.rho.invScale.subarray(0, this.d), (b + this.oInv) / 8);
  }

  /** ρ of rows [r0, r0 + nb) in wasm memory, X (the batch, at byte b + oX) copied in already; returns its pointer, 0 without weights. */
  batch(m: Float64Array, b: number, r0: number, nb: number, oX: number): number {
    const { rho } = this;
    if (!rho) return 0;
    const at = (b + this.oRho) / 8;
    if (rho instanceof Float64Array) {
      copyRows(m, rho, 1, r0, nb, at);
    } else {
      this.ex.robustWeightsBatch(b + this.oRho, b + oX, nb, this.d, b + this.oInv, rho.denom);
      rho.out.set(m.subarray(at, at + nb), r0);
    }
    return b + this.oRho;
  }
}

class WasmKernels implements Kernels {
  readonly name = 'wasm' as const;
  private readonly ex: WasmExports;
  private block = 0; // pointer returned by alloc (0: none)
  private capacity = 0; // usable bytes from `base`
  private base = 0; // 64-byte-aligned start of the usable region
  private view: Float64Array;

  constructor(ex: WasmExports) {
    this.ex = ex;
    if (ex.batchRows() !== BATCH_ROWS) {
      throw new PureneuronError('BACKEND_UNAVAILABLE', `wasm module built for batches of ${ex.batchRows()} rows, expected ${BATCH_ROWS}`);
    }
    this.view = new Float64Array(ex.memory.buffer);
  }

  /** Ensure the scratch block holds `bytes`; returns the base byte offset. Only place that can grow memory. */
  private reserve(bytes: number): number {
    if (bytes > this.capacity) {
      const cap = Math.max(bytes, Math.ceil(this.capacity * 1.5), 1 << 20);
      if (this.block) this.ex.free(this.block);
      this.block = 0;
      this.capacity = 0;
      const ptr = this.ex.alloc(cap + 64) >>> 0;
      if (ptr === 0) throw new PureneuronError('BACKEND_UNAVAILABLE', `wasm scratch allocation of ${cap} bytes failed`);
      this.block = ptr;
      this.base = ptr + ((64 - (ptr % 64)) % 64); // arithmetic, not bit ops: pointers may pass 2³¹
      this.capacity = cap;
    }
    return this.base;
  }

  /** The Float64Array over wasm memory, re-created if memory.grow detached the old buffer. */
  private f64(): Float64Array {
    if (this.view.buffer !== this.ex.memory.buffer) this.view = new Float64Array(this.ex.memory.buffer);
    return this.view;
  }

  /** Bytes of wasm memory currently reserved (for tests of bounded growth). */
  memoryBytes(): number {
    return this.ex.memory.buffer.byteLength;
  }

  moments1(sums: Moments1Sums, x: Float64Array, y: Float64Array, rows: number, d: number, l: number, rho?: RowWeights): void {
    checkMoments1(sums, x, y, rows, d, l, rho);
    if (rows === 0) return;
    const L = new Layout();
    const oxx = L.add(d * d), oyx = L.add(l * d), oyy = L.add(l * l), oxs = L.add(d), oys = L.add(l);
    const oOdd = sums.odd ? L.add(4 * d) : 0;
    const oX = L.add(BATCH_ROWS * d), oY = L.add(BATCH_ROWS * l);
    const oXp = L.add(panels(d)), oYp = L.add(panels(l));
    // Weighted: the batch's ρ and the scaled panels (the layout is unchanged without weights).
    const w = new BatchWeights(this.ex, rho, d);
    w.layout(L);
    const oXw = rho ? L.add(panels(d)) : 0, oYw = rho ? L.add(panels(l)) : 0;
    const b = this.reserve(L.bytes);
    const m = this.f64();
    const at = (o: number): number => (b + o) / 8; // element index; b + o is 64-byte aligned
    m.set(sums.xx.subarray(0, d * d), at(oxx));
    m.set(sums.yx.subarray(0, l * d), at(oyx));
    m.set(sums.yy.subarray(0, l * l), at(oyy));
    m.set(sums.xs.subarray(0, d), at(oxs));
    m.set(sums.ys.subarray(0, l), at(oys));
    if (sums.odd) m.set(sums.odd.subarray(0, 4 * d), at(oOdd));
    w.begin(m, b);
    for (let r0 = 0; r0 < rows; r0 += BATCH_ROWS) {
      const nb = Math.min(rows - r0, BATCH_ROWS);
      copyRows(m, x, d, r0, nb, at(oX));
      copyRows(m, y, l, r0, nb, at(oY));
      const pRho = w.batch(m, b, r0, nb, oX);
      this.ex.moments1Batch(
        b + oxx, b + oyx, b + oyy, b + oxs, b + oys, b + oX, b + oY, nb, d, l, b + oXp, b + oYp,
        pRho, b + oXw, b + oYw, sums.odd ? b + oOdd : 0,
      );
    }
    sums.xx.set(m.subarray(at(oxx), at(oxx) + d * d));
    sums.yx.set(m.subarray(at(oyx), at(oyx) + l * d));
    sums.yy.set(m.subarray(at(oyy), at(oyy) + l * l));
    sums.xs.set(m.subarray(at(oxs), at(oxs) + d));
    sums.ys.set(m.subarray(at(oys), at(oys) + l));
    if (sums.odd) sums.odd.set(m.subarray(at(oOdd), at(oOdd) + 4 * d));
  }

  detector(T: Float64Array, plan: DetectorPlan, x: Float64Array, y: Float64Array, rows: number, rho?: RowWeights): void {
    checkDetector(T, plan, x, y, rows, rho);
    if (rows === 0) return;
    const { d, l, hDim, zDim } = plan;
    const mh = (hDim * (hDim + 1)) / 2;
    const mz = (zDim * (zDim + 1)) / 2;
    const hPad = pad4(hDim), zPad = pad4(zDim);
    const L = new Layout();
    const oT = L.add(mh * mz);
    const oRx = L.add(hDim * d), oRy = L.add(zDim * l), oPh = L.add(zDim * hDim);
    const oRxT = L.add(hPad * d), oRyT = L.add(zPad * l), oPhT = L.add(zPad * hDim);
    const oX = L.add(BATCH_ROWS * d), oY = L.add(BATCH_ROWS * l);
    const oH = L.add(BATCH_ROWS * hPad), oZ = L.add(BATCH_ROWS * zPad), oP = L.add(BATCH_ROWS * zPad), oE = L.add(BATCH_ROWS * zDim);
    const oF = L.add(panels(mh)), oG = L.add(panels(mz));
    const w = new BatchWeights(this.ex, rho, d); // ρ read up to row 2·ceil(nb/2) ≤ 256: in bounds
    w.layout(L);
    const b = this.reserve(L.bytes);
    const m = this.f64();
    const at = (o: number): number => (b + o) / 8; // element index; b + o is 64-byte aligned
    m.set(T.subarray(0, mh * mz), at(oT));
    m.set(plan.Rx.subarray(0, hDim * d), at(oRx));
    m.set(plan.Ry.subarray(0, zDim * l), at(oRy));
    m.set(plan.Ph.subarray(0, zDim * hDim), at(oPh));
    this.ex.packWT(b + oRxT, b + oRx, hDim, d);
    this.ex.packWT(b + oRyT, b + oRy, zDim, l);
    this.ex.packWT(b + oPhT, b + oPh, zDim, hDim);
    const literal = plan.literal ? 1 : 0;
    w.begin(m, b);
    for (let r0 = 0; r0 < rows; r0 += BATCH_ROWS) {
      const nb = Math.min(rows - r0, BATCH_ROWS);
      copyRows(m, x, d, r0, nb, at(oX));
      copyRows(m, y, l, r0, nb, at(oY));
      const pRho = w.batch(m, b, r0, nb, oX);
      this.ex.detectorBatch(
        b + oT, b + oX, b + oY, nb, d, l, hDim, zDim, b + oRxT, b + oRyT, b + oPhT, literal,
        b + oH, b + oZ, b + oP, b + oE, b + oF, b + oG, pRho,
      );
    }
    T.set(m.subarray(at(oT), at(oT) + mh * mz));
  }

  readout(
    sums: ReadoutSums, W: Float64Array, k: number, x: Float64Array, y: Float64Array, rows: number, d: number, l: number,
    rho?: RowWeights,
  ): void {
    checkReadout(sums, W, k, x, y, rows, d, l, rho);
    if (rows === 0) return;
    const kPad = pad4(k);
    const L = new Layout();
    const orr = L.add(k * k), ory = L.add(k * l);
    const oW = L.add(k * d), oWT = L.add(kPad * d);
    const oX = L.add(BATCH_ROWS * d), oY = L.add(BATCH_ROWS * l);
    const oR = L.add(BATCH_ROWS * kPad), oYp = L.add(panels(l));
    const w = new BatchWeights(this.ex, rho, d);
    w.layout(L);
    const oRw = rho ? L.add(BATCH_ROWS * kPad) : 0;
    const b = this.reserve(L.bytes);
    const m = this.f64();
    const at = (o: number): number => (b + o) / 8; // element index; b + o is 64-byte aligned
    m.set(sums.rr.subarray(0, k * k), at(orr));
    m.set(sums.ry.subarray(0, k * l), at(ory));
    m.set(W.subarray(0, k * d), at(oW));
    this.ex.packWT(b + oWT, b + oW, k, d);
    w.begin(m, b);
    for (let r0 = 0; r0 < rows; r0 += BATCH_ROWS) {
      const nb = Math.min(rows - r0, BATCH_ROWS);
      copyRows(m, x, d, r0, nb, at(oX));
      copyRows(m, y, l, r0, nb, at(oY));
      const pRho = w.batch(m, b, r0, nb, oX);
      this.ex.readoutBatch(b + orr, b + ory, b + oX, b + oY, nb, d, l, k, b + oWT, b + oR, b + oYp, pRho, b + oRw);
    }
    sums.rr.set(m.subarray(at(orr), at(orr) + k * k));
    sums.ry.set(m.subarray(at(ory), at(ory) + k * l));
  }

  refineVarPro(
    sums: VarProSums, W: Float64Array, k: number, x: Float64Array, y: Float64Array, rows: number, d: number, l: number,
    rho?: RowWeights,
  ): void {
    checkRefineVarPro(sums, W, k, x, y, rows, d, l, rho);
    if (rows === 0) return;
    const kPad = pad4(k);
    const nS1 = k * d * l, nS2 = k * d * k;
    const L = new Layout();
    const orr = L.add(k * k), ory = L.add(k * l), oS1 = L.add(nS1), oS2 = L.add(nS2), oyy = L.add(1);
    const oW = L.add(k * d), oWT = L.add(kPad * d);
    const oX = L.add(BATCH_ROWS * d), oY = L.add(BATCH_ROWS * l);
    const oR = L.add(BATCH_ROWS * kPad), oXp = L.add(panels(d)), oYp = L.add(panels(l));
    const oGx = L.add(panels(d)), oGy = L.add(panels(l)), oGr = L.add(panels(k));
    const oIdx = L.add(BATCH_ROWS / 2); // 256 i32
    const w = new BatchWeights(this.ex, rho, d);
    w.layout(L);
    const oRw = rho ? L.add(BATCH_ROWS * kPad) : 0, oYw = rho ? L.add(panels(l)) : 0;
    const b = this.reserve(L.bytes);
    const m = this.f64();
    const at = (o: number): number => (b + o) / 8; // element index; b + o is 64-byte aligned
    m.set(sums.rr.subarray(0, k * k), at(orr));
    m.set(sums.ry.subarray(0, k * l), at(ory));
    m.set(sums.S1.subarray(0, nS1), at(oS1));
    m.set(sums.S2.subarray(0, nS2), at(oS2));
    m[at(oyy)] = sums.yy[0];
    m.set(W.subarray(0, k * d), at(oW));
    this.ex.packWT(b + oWT, b + oW, k, d);
    w.begin(m, b);
    for (let r0 = 0; r0 < rows; r0 += BATCH_ROWS) {
      const nb = Math.min(rows - r0, BATCH_ROWS);
      copyRows(m, x, d, r0, nb, at(oX));
      copyRows(m, y, l, r0, nb, at(oY));
      const pRho = w.batch(m, b, r0, nb, oX);
      this.ex.refineVarProBatch(
        b + orr, b + ory, b + oS1, b + oS2, b + oyy, b + oX, b + oY, nb, d, l, k, b + oWT,
        b + oR, b + oXp, b + oYp, b + oGx, b + oGy, b + oGr, b + oIdx, pRho, b + oRw, b + oYw,
      );
    }
    sums.rr.set(m.subarray(at(orr), at(orr) + k * k));
    sums.ry.set(m.subarray(at(ory), at(ory) + k * l));
    sums.S1.set(m.subarray(at(oS1), at(oS1) + nS1));
    sums.S2.set(m.subarray(at(oS2), at(oS2) + nS2));
    sums.yy[0] = m[at(oyy)];
  }

  refineHessian(M: Float64Array, W: Float64Array, k: number, x: Float64Array, rows: number, d: number, rho?: RowWeights): void {
    checkRefineHessian(M, W, k, x, rows, d, rho);
    if (rows === 0) return;
    const kPad = pad4(k);
    const nM = ((k * (k + 1)) / 2) * ((d * (d + 1)) / 2);
    const L = new Layout();
    const oM = L.add(nM), oW = L.add(k * d), oWT = L.add(kPad * d);
    const oX = L.add(BATCH_ROWS * d), oR = L.add(BATCH_ROWS * kPad);
    const oXp = L.add(panels(d)), oGl = L.add(panels(d)), oGr = L.add(panels(d));
    const oIdxI = L.add(BATCH_ROWS / 2), oIdxP = L.add(BATCH_ROWS / 2); // 256 i32 each
    const oD = L.add(d * d);
    const w = new BatchWeights(this.ex, rho, d);
    w.layout(L);
    const oXw = rho ? L.add(panels(d)) : 0;
    const b = this.reserve(L.bytes);
    const m = this.f64();
    const at = (o: number): number => (b + o) / 8; // element index; b + o is 64-byte aligned
    m.set(M.subarray(0, nM), at(oM));
    m.set(W.subarray(0, k * d), at(oW));
    this.ex.packWT(b + oWT, b + oW, k, d);
    w.begin(m, b);
    for (let r0 = 0; r0 < rows; r0 += BATCH_ROWS) {
      const nb = Math.min(rows - r0, BATCH_ROWS);
      copyRows(m, x, d, r0, nb, at(oX));
      const pRho = w.batch(m, b, r0, nb, oX);
      this.ex.refineHessianBatch(
        b + oM, b + oX, nb, d, k, b + oWT, b + oR, b + oXp, b + oGl, b + oGr, b + oIdxI, b + oIdxP, b + oD, pRho, b + oXw,
      );
    }
    M.set(m.subarray(at(oM), at(oM) + nM));
  }

  robustWeights(out: Float64Array, x: Float64Array, rows: number, d: number, invScale: Float64Array, denom: number): void {
    checkRobustWeights(out, x, rows, d, invScale, denom);
    if (rows === 0) return;
    const L = new Layout();
    // The kernel works on rows up to 8·ceil(nb/8) ≤ BATCH_ROWS (junk past nb, never copied out).
    const oInv = L.add(d), oX = L.add(BATCH_ROWS * d), oOut = L.add(BATCH_ROWS);
    const b = this.reserve(L.bytes);
    const m = this.f64();
    const at = (o: number): number => (b + o) / 8; // element index; b + o is 64-byte aligned
    m.set(invScale.subarray(0, d), at(oInv));
    for (let r0 = 0; r0 < rows; r0 += BATCH_ROWS) {
      const nb = Math.min(rows - r0, BATCH_ROWS);
      copyRows(m, x, d, r0, nb, at(oX));
      this.ex.robustWeightsBatch(b + oOut, b + oX, nb, d, b + oInv, denom);
      out.set(m.subarray(at(oOut), at(oOut) + nb), r0);
    }
  }

  symEig(a: Float64Array, m: number): SymEigResult {
    checkSymEig(a, m);
    const values = new Float64Array(m);
    const vectors = new Float64Array(m * m);
    if (m === 0) return { values, vectors };
    const L = new Layout();
    const oA = L.add(m * m), oW = L.add(m * m), oV = L.add(m * m), oD = L.add(m), oE = L.add(m);
    const b = this.reserve(L.bytes);
    const mem = this.f64();
    const at = (o: number): number => (b + o) / 8; // element index; b + o is 64-byte aligned
    mem.set(a.subarray(0, m * m), at(oA));
    if (this.ex.symEig(b + oA, m, b + oW, b + oD, b + oE) !== 1) {
      throw new PureneuronError('NUMERICAL_FAILURE', `symEig: QL iteration did not converge (m = ${m})`);
    }
    this.ex.transpose(b + oV, b + oW, m);
    values.set(mem.subarray(at(oD), at(oD) + m));
    vectors.set(mem.subarray(at(oV), at(oV) + m * m));
    return { values, vectors };
  }

  cholesky(a: Float64Array, p: number): boolean {
    checkCholesky(a, p);
    const P = (p + 3) >> 2;
    const L = new Layout();
    const oA = L.add(p * p), oU = L.add(8 * P * (P + 1)); // U: compact panels (assembly/cholesky.ts)
    const b = this.reserve(L.bytes);
    const mem = this.f64();
    const at = (o: number): number => (b + o) / 8; // element index; b + o is 64-byte aligned
    mem.set(a.subarray(0, p * p), at(oA));
    if (this.ex.cholesky(b + oA, p, b + oU) !== 1) return false; // `a` unchanged
    // Copy back the lower triangle only: the strict upper triangle of `a` is never written.
    const a0 = at(oA);
    for (let i = 0; i < p; i++) a.set(mem.subarray(a0 + i * p, a0 + i * p + i + 1), i * p);
    return true;
  }

  triInverse(Lm: Float64Array, p: number, out: Float64Array): void {
    checkTriInverse(Lm, p, out);
    const L = new Layout();
    const oL = L.add(p * p), oX = L.add(4 * p); // X: one 4-column panel
    const b = this.reserve(L.bytes);
    const mem = this.f64();
    const at = (o: number): number => (b + o) / 8; // element index; b + o is 64-byte aligned
    mem.set(Lm.subarray(0, p * p), at(oL));
    this.ex.triInverse(b + oL, p, b + oL, b + oX); // in place inside wasm memory
    out.set(mem.subarray(at(oL), at(oL) + p * p));
  }
}

export type { WasmKernels };
