/**
 * Hand-made .npy files for tests of the reader's error paths: any header text (wrong dtype,
 * Fortran order, malformed dict) followed by any data bytes.
 */

/**
 * A version 1.0 .npy file whose header dict is `dict` verbatim (padded with spaces to a
 * multiple of 64 bytes, newline last, as numpy writes it), followed by `data`.
 */
export function rawNpy(dict: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const pre = 10;
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  const headerLen = total - pre;
  const out = new Uint8Array(total + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0); // \x93NUMPY, version 1.0
  out[8] = headerLen & 0xff;
  out[9] = headerLen >> 8;
  const text = dict.padEnd(headerLen - 1, ' ') + '\n';
  for (let i = 0; i < text.length; i++) out[pre + i] = text.charCodeAt(i);
  out.set(data, total);
  return out;
}

/** The header dict numpy writes for a C-order array of the given dtype and shape. */
export function npyDict(descr: string, shape: number[], fortranOrder = false): string {
  const s = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  return `{'descr': '${descr}', 'fortran_order': ${fortranOrder ? 'True' : 'False'}, 'shape': ${s}, }`;
}
