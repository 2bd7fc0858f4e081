/** lz4js 0.2 ships no types; the two functions used here. */
declare module 'lz4js' {
  export function decompress(src: Uint8Array, maxSize?: number): ArrayLike<number>;
  export function compress(src: Uint8Array, maxSize?: number): ArrayLike<number>;
}
