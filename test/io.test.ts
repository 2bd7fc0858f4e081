import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PureneuronError } from '../src/errors.js';
import {
  decodeNpy,
  encodeNpy,
  openAtomicWriter,
  parseNpyHeader,
  readNpyPreamble,
  writeFileAtomic,
  writeNpy,
  writeRawF32,
  writeRawF64,
} from '../src/io/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pureneuron-io-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Values that stress bit-exactness: signed zero, subnormals, extremes, non-terminating binary fractions. */
function tricky(n: number): Float64Array {
  const specials = [0, -0, 5e-324, -2.2250738585072014e-308, 1.7976931348623157e308, 0.1, 1 / 3, -123456.789];
  const out = new Float64Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = i < specials.length ? specials[i]! : (s / 2 ** 32 - 0.5) * 10 ** ((i % 7) - 3);
  }
  return out;
}

function bytesOf(a: Float64Array | Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

async function expectBadFile(p: Promise<unknown> | (() => unknown), ...parts: string[]): Promise<void> {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(PureneuronError);
  expect((err as PureneuronError).code).toBe('BAD_FILE');
  for (const part of parts) expect((err as Error).message).toContain(part);
}

/** Build a .npy file by hand: preamble for `major`, the given dict text, padded to 64. */
function npyBytes(dict: string, data: Uint8Array, major = 1): Uint8Array {
  const pre = major === 1 ? 10 : 12;
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  const out = new Uint8Array(total + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const dv = new DataView(out.buffer);
  if (major === 1) dv.setUint16(8, total - pre, true);
  else dv.setUint32(8, total - pre, true);
  const text = dict.padEnd(total - pre - 1, ' ') + '\n';
  for (let i = 0; i < text.length; i++) out[pre + i] = text.charCodeAt(i);
  out.set(data, total);
  return out;
}

describe('npy codec', () => {
  it('encodes version 1.0 <f8 with the header padded to a multiple of 64 and round-trips bit for bit', () => {
    const data = tricky(15);
    const bytes = encodeNpy(data, [5, 3]);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const h = parseNpyHeader(bytes);
    expect(h.dataOffset % 64).toBe(0);
    expect(bytes[h.dataOffset - 1]).toBe(0x0a); // header ends with '\n'
    expect(h).toMatchObject({ major: 1, minor: 0, descr: '<f8', dtype: 'f8', fortranOrder: false, shape: [5, 3], dataBytes: 120 });
    const text = new TextDecoder().decode(bytes.subarray(10, h.dataOffset));
    expect(text.trimEnd()).toBe("{'descr': '<f8', 'fortran_order': False, 'shape': (5, 3), }");
    const back = decodeNpy(bytes);
    expect(back.shape).toEqual([5, 3]);
    expect(bytesOf(back.data)).toEqual(bytesOf(data));
  });

  it('writes 1-D shapes as (n,) and Float32Array as <f4', () => {
    const f = Float32Array.from([1.5, -2.25, 1e-40]);
    const bytes = encodeNpy(f, [3]);
    const h = parseNpyHeader(bytes);
    expect(h.descr).toBe('<f4');
    expect(h.shape).toEqual([3]);
    expect(new TextDecoder().decode(bytes.subarray(10, h.dataOffset))).toContain("'shape': (3,)");
    expect(Array.from(decodeNpy(bytes).data)).toEqual(Array.from(f));
  });

  it('rejects a shape that does not match the data', () => {
    expect(() => encodeNpy(new Float64Array(6), [4, 2])).toThrow(/6 values, expected 4·2 = 8/);
    expect(() => encodeNpy([1, 2] as unknown as Float64Array, [2])).toThrow(TypeError);
  });

  it('parses version 2.0 and 3.0 headers, py2 long integers and double quotes', () => {
    const data = bytesOf(Float64Array.from([1, 2]));
    for (const major of [2, 3]) {
      const h = parseNpyHeader(npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", data, major));
      expect(h.major).toBe(major);
      expect(h.shape).toEqual([2]);
      expect(h.dataOffset % 64).toBe(0);
    }
    const h = parseNpyHeader(npyBytes('{"shape": (1L, 2L), "fortran_order": False, "descr": "<f8"}', data));
    expect(h.shape).toEqual([1, 2]);
  });

  it('accepts Fortran order when it is the same layout as C order (a single column)', () => {
    const h = parseNpyHeader(npyBytes("{'descr': '<f8', 'fortran_order': True, 'shape': (4, 1), }", new Uint8Array(32)));
    expect(h.fortranOrder).toBe(true);
  });

  it('names the problem in bad headers', async () => {
    const f8 = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }";
    const data = new Uint8Array(32);
    await expectBadFile(() => readNpyPreamble(new Uint8Array(20), 'a.npy'), 'a.npy', 'magic');
    const v4 = npyBytes(f8, data);
    v4[6] = 4;
    await expectBadFile(() => parseNpyHeader(v4, 'a.npy'), 'a.npy', 'version 4.0');
    await expectBadFile(() => parseNpyHeader(npyBytes("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }", data), 'a.npy'), 'Fortran', 'ascontiguousarray');
    await expectBadFile(() => parseNpyHeader(npyBytes("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }", data), 'a.npy'), "'<i4'", 'float64');
    await expectBadFile(() => parseNpyHeader(npyBytes("{'descr': '>f8', 'fortran_order': False, 'shape': (2, 2), }", data), 'a.npy'), 'big-endian');
    await expectBadFile(() => parseNpyHeader(npyBytes("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,), }", data), 'a.npy'), 'structured');
    await expectBadFile(() => parseNpyHeader(npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2", data), 'a.npy'), 'malformed header');
    await expectBadFile(() => parseNpyHeader(npyBytes("{'descr': '<f8', 'shape': (2, 2), }", data), 'a.npy'), "no 'fortran_order'");
    await expectBadFile(() => parseNpyHeader(npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': [2, 2], }", data), 'a.npy'), "'shape' is not a tuple");
    const full = npyBytes(f8, data);
    const offset = full.length - 32;
    await expectBadFile(() => parseNpyHeader(full.subarray(0, 40), 'a.npy'), 'truncated header', `needs ${offset} bytes`, 'has 40');
    await expectBadFile(() => decodeNpy(full.subarray(0, offset + 26), 'a.npy'), 'truncated', '32 bytes', 'only 26');
  });
});

describe('atomic writes', () => {
  it('writes strings and bytes, replaces an existing file, and leaves no temporary files', async () => {
    const sub = join(dir, 'atomic1');
    await mkdir(sub);
    const p = join(sub, 'model.json');
    await writeFileAtomic(p, '{"a": "é"}');
    expect(await readFile(p, 'utf8')).toBe('{"a": "é"}');
    await writeFileAtomic(p, new Uint8Array([1, 2, 3]));
    expect(Array.from(await readFile(p))).toEqual([1, 2, 3]);
    expect(await readdir(sub)).toEqual(['model.json']);
  });

  it('streams chunks to a temporary file and renames on commit', async () => {
    const sub = join(dir, 'atomic2');
    await mkdir(sub);
    const p = join(sub, 'big.bin');
    const w = await openAtomicWriter(p);
    expect(w.tempPath.startsWith(sub)).toBe(true);
    await w.write(new Uint8Array([1, 2]));
    await w.write(new Uint8Array([3]));
    // Nothing at the destination until commit.
    expect(await readdir(sub)).toEqual([expect.stringMatching(/^\.big\.bin\..*\.tmp$/)]);
    await w.commit();
    expect(Array.from(await readFile(p))).toEqual([1, 2, 3]);
    expect(await readdir(sub)).toEqual(['big.bin']);
    await expect(w.write(new Uint8Array([4]))).rejects.toThrow(/already committed/);
  });

  it('abort removes the temporary file and keeps the old destination', async () => {
    const sub = join(dir, 'atomic3');
    await mkdir(sub);
    const p = join(sub, 'out.bin');
    await writeFile(p, 'old');
    const w = await openAtomicWriter(p);
    await w.write(new Uint8Array(1000));
    await w.abort();
    await w.abort(); // idempotent
    expect(await readFile(p, 'utf8')).toBe('old');
    expect(await readdir(sub)).toEqual(['out.bin']);
  });

  it('a failed rename removes the temporary file and reports BAD_FILE with the path', async () => {
    const sub = join(dir, 'atomic4');
    await mkdir(join(sub, 'target', 'inner'), { recursive: true });
    const p = join(sub, 'target'); // a non-empty directory: rename over it fails
    await expectBadFile(writeFileAtomic(p, 'x'), `cannot write ${p}`);
    expect((await readdir(sub)).sort()).toEqual(['target']);
  });

  it('a missing directory is reported with the path', async () => {
    const p = join(dir, 'no', 'such', 'dir', 'f.json');
    await expectBadFile(writeFileAtomic(p, 'x'), p);
  });
});

describe('raw and npy writers', () => {
  it('writeRawF64 writes little-endian float64 bit for bit', async () => {
    const data = tricky(1000);
    const p = join(dir, 'w.f64');
    await writeRawF64(p, data);
    const buf = await readFile(p);
    expect(buf.length).toBe(8000);
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.length);
    for (let i = 0; i < data.length; i++) expect(Object.is(dv.getFloat64(8 * i, true), data[i])).toBe(true);
  });

  it('writeRawF32 rounds float64 to float32 (Math.fround) and writes float32 as is', async () => {
    const data = tricky(300_000); // more than one conversion block
    const p = join(dir, 'w.f32');
    await writeRawF32(p, data);
    const buf = await readFile(p);
    expect(buf.length).toBe(4 * data.length);
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.length);
    for (let i = 0; i < data.length; i += 997) expect(Object.is(dv.getFloat32(4 * i, true), Math.fround(data[i]!))).toBe(true);
    expect(Object.is(dv.getFloat32(4 * (data.length - 1), true), Math.fround(data[data.length - 1]!))).toBe(true);
    const f = Float32Array.from(data.subarray(0, 10));
    await writeRawF32(p, f);
    expect(new Uint8Array(await readFile(p))).toEqual(bytesOf(f));
  });

  it('writeNpy streams a file identical to encodeNpy', async () => {
    const data = tricky(12);
    const p = join(dir, 'w.npy');
    await writeNpy(p, data, [4, 3]);
    expect(new Uint8Array(await readFile(p))).toEqual(encodeNpy(data, [4, 3]));
    await expect(writeNpy(p, data, [5, 3])).rejects.toThrow(RangeError);
    await expect(writeRawF64(p, [1] as unknown as Float64Array)).rejects.toThrow(TypeError);
  });
});
