/** Decoding of the binary buffers Python sends (little-endian numpy arrays) into typed arrays. */

type Binary = DataView | ArrayBuffer | Uint8Array | null | undefined;

function bytesOf(value: Binary): { buffer: ArrayBufferLike; offset: number; length: number } {
  if (!value) return { buffer: new ArrayBuffer(0), offset: 0, length: 0 };
  if (value instanceof ArrayBuffer) return { buffer: value, offset: 0, length: value.byteLength };
  return { buffer: value.buffer, offset: value.byteOffset, length: value.byteLength };
}

/** Copy a (possibly offset, possibly unaligned) view into an aligned typed array. */
function decode<T>(value: Binary, width: number, make: (b: ArrayBuffer) => T): T {
  const { buffer, offset, length } = bytesOf(value);
  const usable = length - (length % width);
  const copy = new Uint8Array(usable);
  copy.set(new Uint8Array(buffer, offset, usable));
  return make(copy.buffer);
}

export const toUint32 = (v: Binary): Uint32Array => decode(v, 4, (b) => new Uint32Array(b));
export const toInt32 = (v: Binary): Int32Array => decode(v, 4, (b) => new Int32Array(b));
export const toFloat64 = (v: Binary): Float64Array => decode(v, 8, (b) => new Float64Array(b));
export const toUint8 = (v: Binary): Uint8Array => decode(v, 1, (b) => new Uint8Array(b));
