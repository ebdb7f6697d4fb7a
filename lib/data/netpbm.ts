// PPM/PGM (P2, P3, P5, P6), which sharp's bundled libvips cannot read but PIL and
// torchvision's extension list accept.
import { checkPixelCount, RgbImage } from "./image";

export function isNetpbm(bytes: Uint8Array): boolean {
  return bytes.length > 2 && bytes[0] === 0x50 && [0x32, 0x33, 0x35, 0x36].includes(bytes[1]);
}

export function decodeNetpbm(bytes: Uint8Array): RgbImage {
  const kind = String.fromCharCode(bytes[1]);
  let pos = 2;
  const token = (): number => {
    for (;;) {
      while (pos < bytes.length && /\s/.test(String.fromCharCode(bytes[pos]))) pos++;
      if (bytes[pos] !== 0x23) break; // a comment runs to the end of the line
      while (pos < bytes.length && bytes[pos] !== 0x0a) pos++;
    }
    const start = pos;
    let value = 0;
    for (; pos < bytes.length && bytes[pos] >= 0x30 && bytes[pos] <= 0x39; pos++) {
      // Capped as digits arrive: a run of them must not overflow to Infinity.
      value = Math.min(value * 10 + bytes[pos] - 0x30, 2 ** 32);
    }
    if (start === pos) throw new Error("malformed PPM/PGM header or data");
    return value;
  };
  const width = token(), height = token(), maxval = token();
  if (width <= 0 || height <= 0 || maxval <= 0 || maxval > 255) throw new Error(`unsupported PPM/PGM (size ${width}x${height}, maxval ${maxval})`);
  checkPixelCount(width, height);
  const bands = kind === "3" || kind === "6" ? 3 : 1;
  const count = width * height * bands;
  // A text sample takes a digit and a separator: more than the file can hold is refused before allocating.
  if ((kind === "2" || kind === "3") && count * 2 - 1 > bytes.length - pos) throw new Error("image file is truncated");
  let samples: ArrayLike<number>;
  if (kind === "5" || kind === "6") {
    pos++; // exactly one whitespace byte ends the header
    if (pos + count > bytes.length) throw new Error("image file is truncated");
    samples = bytes.subarray(pos, pos + count);
  } else {
    const values = new Uint8Array(count);
    for (let i = 0; i < count; i++) values[i] = token();
    samples = values;
  }
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) {
      const v = samples[p * bands + (bands === 3 ? c : 0)];
      data[p * 3 + c] = maxval === 255 ? v : Math.min(255, Math.round((v * 255) / maxval));
    }
  }
  return { data, width, height, channels: 3 };
}
