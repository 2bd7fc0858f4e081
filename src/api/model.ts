/** A learned network y = A·relu(W·x), with the diagnostics of the fit that produced it. */
import { PureneuronError } from '../errors.js';
import { forward } from '../math/forward.js';
import { networkToONNX, type OnnxDtype } from '../io/onnx.js';
import type { Network, NumericArray } from '../types.js';
import type { BackendName } from '../kernels/types.js';
import type { Diagnostics } from '../method/diagnostics.js';

export interface ModelJSON {
  format?: 'pureneuron-model';
  version?: number;
  d: number;
  k: number;
  l: number;
  /** k arrays of d numbers. */
  W: number[][];
  /** l arrays of k numbers. */
  A: number[][];
  backend?: BackendName;
  diagnostics?: Diagnostics;
  [meta: string]: unknown;
}

export const MODEL_FORMAT_VERSION = 1;

export class Model implements Network {
  readonly d: number;
  readonly k: number;
  readonly l: number;
  readonly W: Float64Array;
  readonly A: Float64Array;
  readonly backend: BackendName | undefined;
  readonly diagnostics: Diagnostics | undefined;

  constructor(net: Network, backend?: BackendName, diagnostics?: Diagnostics) {
    const { d, k, l, W, A } = net;
    for (const [name, v] of [['d', d], ['k', k], ['l', l]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
    }
    if (W.length !== k * d) throw new RangeError(`W has ${W.length} values, expected k·d = ${k * d}`);
    if (A.length !== l * k) throw new RangeError(`A has ${A.length} values, expected l·k = ${l * k}`);
    assertFiniteMatrix('W', W, d);
    assertFiniteMatrix('A', A, k);
    this.d = d;
    this.k = k;
    this.l = l;
    this.W = Float64Array.from(W);
    this.A = Float64Array.from(A);
    this.backend = backend;
    this.diagnostics = diagnostics;
  }

  /** y = A·relu(W·x) for n = x.length / d samples (x n×d row-major); returns n×l row-major. */
  predict(x: NumericArray): Float64Array {
    const { d } = this;
    if (x.length % d !== 0) throw new RangeError(`x has ${x.length} values, not a multiple of d = ${d}`);
    const n = x.length / d;
    return forward(this, x, n);
  }

  /**
   * The model as ONNX bytes: x (n×d) → MatMul → Relu → MatMul → y (n×l), n dynamic, inputs
   * named "x" and outputs "y"; float64 by default (ONNX Runtime reproduces predict() to
   * ~1e-15 relative), float32 for runtimes or hardware without double MatMul (~1e-7).
   */
  toONNX(options: { dtype?: OnnxDtype } = {}): Uint8Array {
    return networkToONNX(this, { dtype: options.dtype, producerVersion: String(MODEL_FORMAT_VERSION) });
  }

  toJSON(): ModelJSON {
    const rows = (m: Float64Array, r: number, c: number) =>
      Array.from({ length: r }, (_, i) => Array.from(m.subarray(i * c, (i + 1) * c)));
    const json: ModelJSON = {
      format: 'pureneuron-model',
      version: MODEL_FORMAT_VERSION,
      d: this.d,
      k: this.k,
      l: this.l,
      W: rows(this.W, this.k, this.d),
      A: rows(this.A, this.l, this.k),
    };
    if (this.backend) json.backend = this.backend;
    if (this.diagnostics) json.diagnostics = this.diagnostics;
    return json;
  }

  /** Accepts a model.json or truth.json object (shared schema); throws PureneuronError BAD_MODEL. */
  static fromJSON(json: unknown): Model {
    const net = parseNetworkJSON(json);
    const j = json as ModelJSON;
    return new Model(net, j.backend === 'js' || j.backend === 'wasm' ? j.backend : undefined, j.diagnostics);
  }
}

/** Throws a RangeError naming the first non-finite entry of a row-major matrix with `cols` columns. */
export function assertFiniteMatrix(name: string, M: ArrayLike<number>, cols: number): void {
  for (let i = 0; i < M.length; i++) {
    if (!Number.isFinite(M[i])) throw new RangeError(`${name}[${Math.floor(i / cols)}][${i % cols}] is ${M[i]}; weights must be finite numbers`);
  }
}

/** Validates the shared model/truth schema and returns the network as typed arrays. */
export function parseNetworkJSON(json: unknown): Network {
  const bad = (msg: string): never => {
    throw new PureneuronError('BAD_MODEL', `invalid model: ${msg}`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) bad('expected a JSON object with d, k, l, W, A');
  const j = json as Record<string, unknown>;
  if (j.format !== undefined && j.format !== 'pureneuron-model') {
    bad(`"format" is ${JSON.stringify(j.format)}, expected "pureneuron-model" (or no "format" field)`);
  }
  if (j.version !== undefined && typeof j.version !== 'number') {
    bad(`"version" must be the number ${MODEL_FORMAT_VERSION}, got ${JSON.stringify(j.version)}`);
  }
  if (j.version !== undefined && j.version !== MODEL_FORMAT_VERSION) {
    bad(`format version ${String(j.version)} is not supported (this pureneuron reads version ${MODEL_FORMAT_VERSION})`);
  }
  const dims: Record<string, number> = {};
  for (const key of ['d', 'k', 'l']) {
    const v = j[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) bad(`"${key}" must be a positive integer, got ${JSON.stringify(v)}`);
    dims[key] = v as number;
  }
  const matrix = (name: string, r: number, c: number): Float64Array => {
    const m = j[name];
    if (!Array.isArray(m) || m.length !== r) bad(`"${name}" must be an array of ${r} rows`);
    const out = new Float64Array(r * c);
    (m as unknown[]).forEach((row, i) => {
      if (!Array.isArray(row) || row.length !== c) bad(`"${name}" row ${i} must have ${c} numbers`);
      (row as unknown[]).forEach((v, t) => {
        if (typeof v !== 'number' || !Number.isFinite(v)) bad(`"${name}"[${i}][${t}] is not a finite number`);
        out[i * c + t] = v as number;
      });
    });
    return out;
  };
  const { d, k, l } = dims;
  return { d, k, l, W: matrix('W', k, d), A: matrix('A', l, k) };
}
