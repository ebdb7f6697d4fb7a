// A tensor's raw little-endian bytes in its own dtype, as both file formats store them.
import type { TypedArray } from "../native";
import type { Tensor } from "../tensor";

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

// Exact for every value that came from a float16 (round to nearest even otherwise).
function toHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    let half = m >>> shift;
    const rest = m & ((1 << shift) - 1), mid = 1 << (shift - 1);
    if (rest > mid || (rest === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** Raw little-endian bytes of a tensor, in its own dtype. */
export async function tensorBytes(t: Tensor): Promise<Uint8Array> {
  const values: TypedArray = await t.data();
  // data() widens half types to float32; narrow them back bit-exactly.
  if (t.dtype === "float16" || t.dtype === "bfloat16") {
    const src = values as Float32Array;
    const out = new Uint16Array(src.length);
    if (t.dtype === "bfloat16") {
      const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
      for (let i = 0; i < src.length; i++) out[i] = bits[i] >>> 16;
    } else {
      for (let i = 0; i < src.length; i++) out[i] = toHalfBits(src[i]);
    }
    return new Uint8Array(out.buffer);
  }
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}
