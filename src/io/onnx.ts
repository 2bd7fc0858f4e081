/**
 * A network as an ONNX model: x → MatMul(Wᵀ) → Relu → MatMul(Aᵀ) → y, with a dynamic batch
 * dimension "n" (input x: n×d, output y: n×l), IR version 8, opset 17, weights as raw
 * little-endian initializers.
 *
 * Encoded by hand: the graph needs eleven protobuf messages and only varints, strings and
 * bytes, so ~80 lines replace a protobuf runtime and a copy of onnx.proto (tested against
 * ONNX Runtime in test/onnx.test.ts). Field numbers are onnx.proto's (onnx 1.14+).
 */
import type { Network } from '../types.js';
import { littleEndianBytes } from './npy.js';

export type OnnxDtype = 'float64' | 'float32';

/** TensorProto.DataType: FLOAT = 1, DOUBLE = 11. */
const ELEM_TYPE: Record<OnnxDtype, number> = { float32: 1, float64: 11 };

/** Protobuf wire types: varint 0, length-delimited 2. */
type Field = [number, number | bigint] | [number, string | Uint8Array | Field[]];

function varint(v: number | bigint, out: number[]): void {
  let x = BigInt(v);
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x > 0n) b |= 0x80;
    out.push(b);
  } while (x > 0n);
}

const utf8 = new TextEncoder();

/** Serializes a message given as [field number, value] pairs (numbers as varints; strings, bytes and sub-messages length-delimited). */
function message(fields: Field[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  for (const [num, value] of fields) {
    const head: number[] = [];
    let body: Uint8Array | undefined;
    if (typeof value === 'number' || typeof value === 'bigint') {
      varint((num << 3) | 0, head);
      varint(value, head);
    } else {
      body = typeof value === 'string' ? utf8.encode(value) : value instanceof Uint8Array ? value : message(value);
      varint((num << 3) | 2, head);
      varint(body.length, head);
    }
    parts.push(Uint8Array.from(head));
    size += head.length;
    if (body) {
      parts.push(body);
      size += body.length;
    }
  }
  const out = new Uint8Array(size);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** TensorProto: dims (1), data_type (2), name (8), raw_data (9). */
function tensor(name: string, rows: number, cols: number, values: Float64Array, dtype: OnnxDtype): Field[] {
  const data = dtype === 'float64' ? values : Float32Array.from(values);
  return [[1, rows], [1, cols], [2, ELEM_TYPE[dtype]], [8, name], [9, littleEndianBytes(data)]];
}

/** ValueInfoProto: name (1), type (2) → TypeProto.tensor_type (1) → elem_type (1), shape (2) → dim (1) → dim_param (2) | dim_value (1). */
function valueInfo(name: string, width: number, dtype: OnnxDtype): Field[] {
  const shape: Field[] = [
    [1, [[2, 'n']]],
    [1, [[1, width]]],
  ];
  return [
    [1, name],
    [2, [[1, [[1, ELEM_TYPE[dtype]], [2, shape]]]]],
  ];
}

/** NodeProto: input (1), output (2), name (3), op_type (4). */
function node(op: string, inputs: string[], output: string): Field[] {
  return [...inputs.map((i): Field => [1, i]), [2, output], [3, `${op.toLowerCase()}_${output}`], [4, op]];
}

/** W (k×d) transposed to d×k, row-major: x (n×d) · Wᵀ. */
function transpose(M: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const T = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) T[j * rows + i] = M[i * cols + j]!;
  return T;
}

/** The ONNX ModelProto bytes of y = A·relu(W·x) for inputs named "x" and outputs named "y". */
export function networkToONNX(net: Network, options: { dtype?: OnnxDtype; producerVersion?: string } = {}): Uint8Array {
  const dtype = options.dtype ?? 'float64';
  if (dtype !== 'float64' && dtype !== 'float32') throw new RangeError(`dtype must be 'float64' or 'float32', got ${JSON.stringify(dtype)}`);
  const { d, k, l } = net;
  const graph: Field[] = [
    [1, node('MatMul', ['x', 'W_t'], 'pre')],
    [1, node('Relu', ['pre'], 'hidden')],
    [1, node('MatMul', ['hidden', 'A_t'], 'y')],
    [2, 'pureneuron'],
    [5, tensor('W_t', d, k, transpose(net.W, k, d), dtype)],
    [5, tensor('A_t', k, l, transpose(net.A, l, k), dtype)],
    [11, valueInfo('x', d, dtype)],
    [12, valueInfo('y', l, dtype)],
  ];
  // ModelProto: ir_version (1), producer_name (2), producer_version (3), graph (7), opset_import (8) → domain (1), version (2).
  return message([
    [1, 8],
    [2, 'pureneuron'],
    [3, options.producerVersion ?? ''],
    [7, graph],
    [8, [[1, ''], [2, 17]]],
  ]);
}
