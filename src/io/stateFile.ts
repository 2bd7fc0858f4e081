/**
 * The byte container of shard state files (what a state holds is api/shardState.ts's business):
 * a JSON header and float64 payload, checksummed. Layout (version 2; integers and floats
 * little-endian):
 *
 *   offset      size  content
 *   0           8     magic "PNSTATE\0" (50 4E 53 54 41 54 45 00)
 *   8           4     u32 format version (2: the layout is unchanged since 1, the header has the refinement passes)
 *   12          4     u32 H: byte length of the header
 *   16          H     header: JSON, UTF-8, padded with spaces so that 16 + H is a multiple of 8
 *   16 + H      8·m   payload: m float64 values (the header says how many, and what they are)
 *   16 + H + 8m 32    SHA-256 of every byte before it
 *
 * Reading checks the magic, the version, the sizes and the checksum, and reports any problem
 * as PureneuronError BAD_FILE naming the file.
 */
import { createHash } from 'node:crypto';

export const STATE_MAGIC = 'PNSTATE\0';
export const STATE_FORMAT_VERSION = 2;
const PREAMBLE = 16;
const TRAILER = 32;

/** The bytes of a state file with this header and the values of `arrays`, in order. */
export function encodeStateBytes(header: object, arrays: Float64Array[]): Uint8Array {
  let json = new TextEncoder().encode(JSON.stringify(header));
  const H = json.length + ((8 - ((PREAMBLE + json.length) % 8)) % 8);
  if (H !== json.length) {
    const padded = new Uint8Array(H).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const m = arrays.reduce((t, a) => t + a.length, 0);
  const out = new Uint8Array(PREAMBLE + H + 8 * m + TRAILER);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = STATE_MAGIC.charCodeAt(i);
  dv.setUint32(8, STATE_FORMAT_VERSION, true);
  dv.setUint32(12, H, true);
  out.set(json, PREAMBLE);
  let off = PREAMBLE + H;
  for (const a of arrays) for (let i = 0; i < a.length; i++, off += 8) dv.setFloat64(off, a[i], true);
  out.set(createHash('sha256').update(out.subarray(0, off)).digest(), off);
  return out;
}

/** A state file opened as far as its header: the parsed header, then its payload on demand. */
export interface OpenedState {
  header: unknown;
  /**
   * The payload, which the header says holds m values: checks the file's size and checksum,
   * then returns a reader that takes the next `len` values at each call.
   */
  payload(m: number): (len: number) => Float64Array;
}

/** Checks the preamble and parses the header; `bad` throws BAD_FILE naming the file. */
export function openStateBytes(bytes: Uint8Array, bad: (msg: string) => never): OpenedState {
  if (bytes.length === 0) bad('the file is empty (not a pureneuron state file)');
  const head = bytes.subarray(0, 8);
  for (let i = 0; i < head.length; i++) {
    if (head[i] !== STATE_MAGIC.charCodeAt(i)) bad('not a pureneuron state file (bad magic; state files start with "PNSTATE")');
  }
  if (bytes.length < PREAMBLE + TRAILER) bad(`truncated: ${bytes.length} bytes, fewer than the ${PREAMBLE + TRAILER} of an empty state file`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(8, true);
  if (version !== STATE_FORMAT_VERSION) bad(`state format version ${version} is not supported (this pureneuron reads version ${STATE_FORMAT_VERSION})`);
  const H = dv.getUint32(12, true);
  if (PREAMBLE + H + TRAILER > bytes.length) bad(`truncated: ${bytes.length} bytes, but the header alone announces ${PREAMBLE + H} (+ ${TRAILER} checksum bytes)`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(PREAMBLE, PREAMBLE + H)));
  } catch (e) {
    return bad(`malformed header (${(e as Error).message}): the file is corrupted`);
  }
  return {
    header,
    payload(m) {
      const expected = PREAMBLE + H + 8 * m + TRAILER;
      if (bytes.length < expected) bad(`truncated: ${bytes.length} bytes, the header announces ${expected}`);
      if (bytes.length > expected) bad(`${bytes.length - expected} unexpected bytes after the end announced by the header (${expected} bytes)`);
      const end = expected - TRAILER;
      const sum = createHash('sha256').update(bytes.subarray(0, end)).digest();
      if (!sum.equals(bytes.subarray(end))) bad('checksum mismatch: the file is corrupted');
      let off = PREAMBLE + H;
      return (len) => {
        const a = new Float64Array(len);
        for (let i = 0; i < len; i++, off += 8) a[i] = dv.getFloat64(off, true);
        return a;
      };
    },
  };
}
