/**
 * Binary sample files: raw little-endian float64/float32 (no header) and .npy.
 * Both are a data region of n rows × width values, row-major, little-endian, starting at
 * `dataOffset` (0 for raw files, after the header for .npy); n is known from the size.
 */
import { PureneuronError } from '../errors.js';
import { HOST_LITTLE_ENDIAN, parseNpyHeader, readNpyPreamble } from '../io/npy.js';
import { BlockReader, fileError, openRegularFile, readAt, refName, type FileRef } from './blocks.js';
import type { FileSpec, Role, RowReader } from './spec.js';
import { widthName } from './spec.js';

/** Reads rows of `width` values of `itemBytes` (8 or 4) each from `dataOffset`, block by block. */
class BinaryRowReader implements RowReader {
  private rowsRead = 0;
  private readonly r: BlockReader;

  constructor(
    private readonly spec: BinarySpec,
    private readonly close_: () => Promise<void>,
    r: BlockReader,
  ) {
    this.r = r;
  }

  async read(out: Float64Array, maxRows: number): Promise<number> {
    const { width, itemBytes, path } = this.spec;
    const rows = Math.min(maxRows, this.spec.n - this.rowsRead);
    const count = rows * width;
    const r = this.r;
    let o = 0;
    while (o < count) {
      if (r.available === 0 && itemBytes === 8 && HOST_LITTLE_ENDIAN && 8 * (count - o) >= r.buf.length) {
        // Little-endian float64 needs no decoding: read the rest of the chunk into place.
        const want = 8 * (count - o);
        if ((await r.readDirect(new Uint8Array(out.buffer, out.byteOffset + 8 * o, want))) < want) {
          throw endedEarly(path);
        }
        break;
      }
      const whole = Math.floor(r.available / itemBytes);
      if (whole === 0) {
        if (!(await r.fill())) {
          throw endedEarly(path);
        }
        continue;
      }
      const m = Math.min(whole, count - o);
      decode(r.buf, r.pos, out, o, m, itemBytes);
      r.pos += m * itemBytes;
      o += m;
    }
    this.rowsRead += rows;
    return rows;
  }

  countRest(): Promise<number> {
    return Promise.resolve(this.spec.n - this.rowsRead);
  }

  where(): string {
    return ` in ${this.spec.path}`;
  }

  close(): Promise<void> {
    return this.close_();
  }
}

/** The error for a file that yields fewer bytes than its size promised. */
const endedEarly = (path: string): PureneuronError => new PureneuronError('BAD_FILE', `${path} ended early (was it modified while being read?)`);

/** out[o, o+m) ← m little-endian values starting at buf[pos]. */
function decode(buf: Uint8Array, pos: number, out: Float64Array, o: number, m: number, itemBytes: number): void {
  if (itemBytes === 8) {
    if (HOST_LITTLE_ENDIAN) {
      // Byte copy into the float64 destination: no alignment requirement on pos.
      new Uint8Array(out.buffer, out.byteOffset + 8 * o, 8 * m).set(buf.subarray(pos, pos + 8 * m));
    } else {
      const dv = new DataView(buf.buffer, buf.byteOffset + pos, 8 * m);
      for (let i = 0; i < m; i++) out[o + i] = dv.getFloat64(8 * i, true);
    }
  } else if (HOST_LITTLE_ENDIAN && (buf.byteOffset + pos) % 4 === 0) {
    const f = new Float32Array(buf.buffer, buf.byteOffset + pos, m);
    for (let i = 0; i < m; i++) out[o + i] = f[i]!;
  } else {
    const dv = new DataView(buf.buffer, buf.byteOffset + pos, 4 * m);
    for (let i = 0; i < m; i++) out[o + i] = dv.getFloat32(4 * i, true);
  }
}

class BinarySpec implements FileSpec {
  readonly path: string;
  constructor(
    readonly ref: FileRef,
    readonly format: 'f64' | 'f32' | 'npy',
    readonly width: number,
    readonly n: number,
    readonly itemBytes: number,
    readonly dataOffset: number,
    readonly size: number,
  ) {
    this.path = refName(ref);
  }

  async open(blockBytes: number, signal?: AbortSignal): Promise<RowReader> {
    const { fh, size } = await openRegularFile(this.ref);
    if (size !== this.size) {
      await fh.close().catch(() => undefined);
      throw new PureneuronError(
        'BAD_FILE',
        `${this.path} changed size since the source was opened (was ${this.size} bytes, now ${size}); the learner reads its input once per pass`,
      );
    }
    const close = async (): Promise<void> => {
      await fh.close().catch(() => undefined);
    };
    return new BinaryRowReader(this, close, new BlockReader(fh, this.path, this.dataOffset, blockBytes, signal));
  }
}

/**
 * A raw little-endian float64/float32 file: n = size / (itemBytes · width); `width` (d or l)
 * must be given because the file has no header.
 */
export async function rawSpec(ref: FileRef, format: 'f64' | 'f32', role: Role, width: number | undefined): Promise<FileSpec> {
  const path = refName(ref);
  const wn = widthName(role);
  if (width === undefined) {
    throw new PureneuronError(
      'BAD_OPTION',
      `${path} is raw ${format} data with no header, so its number of columns must be given: pass ${wn} (--${wn} on the command line)`,
    );
  }
  const { fh, size } = await openRegularFile(ref);
  await fh.close().catch(() => undefined);
  const itemBytes = format === 'f64' ? 8 : 4;
  const rowBytes = itemBytes * width;
  if (size === 0) throw new PureneuronError('BAD_FILE', `${path} is empty`);
  if (size % rowBytes !== 0) {
    throw new PureneuronError(
      'BAD_FILE',
      `${path} is truncated: ${size} bytes is not a multiple of the row size ${itemBytes}·${wn} = ${rowBytes} bytes ` +
        `(check ${wn} = ${width} and the format ${format})`,
    );
  }
  return new BinarySpec(ref, format, width, size / rowBytes, itemBytes, 0, size);
}

/** A .npy file: dtype, shape and data offset come from its header. */
export async function npySpec(ref: FileRef, role: Role, width: number | undefined): Promise<FileSpec> {
  const path = refName(ref);
  const { fh, size } = await openRegularFile(ref);
  let head: Uint8Array;
  try {
    if (size === 0) throw new PureneuronError('BAD_FILE', `${path} is empty`);
    const start = async (len: number): Promise<Uint8Array> => {
      const b = new Uint8Array(len);
      return b.subarray(0, await readAt(fh, path, b, 0));
    };
    const pre = readNpyPreamble(await start(Math.min(size, 12)), path);
    head = await start(Math.min(size, pre.dataOffset));
  } catch (e) {
    throw e instanceof PureneuronError ? e : fileError(path, e);
  } finally {
    await fh.close().catch(() => undefined);
  }
  const h = parseNpyHeader(head, path);
  const shapeText = `(${h.shape.join(', ')}${h.shape.length === 1 ? ',' : ''})`;
  if (h.shape.length < 1 || h.shape.length > 2) {
    throw new PureneuronError('BAD_FILE', `${path} has shape ${shapeText}; expected (n, ${widthName(role)}) or (n,)`);
  }
  const n = h.shape[0]!;
  const w = h.shape.length === 2 ? h.shape[1]! : 1;
  if (n === 0 || w === 0) throw new PureneuronError('BAD_FILE', `${path} has no data (shape ${shapeText})`);
  const have = size - h.dataOffset;
  if (have < h.dataBytes) {
    throw new PureneuronError(
      'BAD_FILE',
      `${path} is truncated: its header says shape ${shapeText} of '${h.descr}' = ${h.dataBytes} bytes of data, ` +
        `but only ${have} bytes follow the ${h.dataOffset}-byte header`,
    );
  }
  if (have > h.dataBytes) {
    throw new PureneuronError(
      'BAD_FILE',
      `${path} has ${have - h.dataBytes} unexpected bytes after the ${h.dataBytes} bytes of data its header describes ` +
        `(shape ${shapeText} of '${h.descr}'); the file is corrupt or was not written by np.save`,
    );
  }
  const wn = widthName(role);
  if (width !== undefined && width !== w) {
    throw new PureneuronError('BAD_SHAPE', `${path} has shape ${shapeText}, so ${wn} = ${w}, but ${wn} = ${width} was given`);
  }
  return new BinarySpec(ref, 'npy', w, n, h.itemBytes, h.dataOffset, size);
}
