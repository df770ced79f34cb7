// IEEE 754 half-precision helpers. Node 20 has no Float16Array, so ONNX Runtime hands fp16
// tensors over as Uint16Array bit patterns.

let table: Float32Array | undefined;

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Widens fp16 bit patterns to fp32 values (via a 64k-entry table built on first use). */
export function float16ToFloat32(
  src: Uint16Array,
  dst = new Float32Array(src.length),
): Float32Array {
  if (!table) {
    table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) table[h] = halfToFloat(h);
  }
  for (let i = 0; i < src.length; i++) dst[i] = table[src[i]];
  return dst;
}
