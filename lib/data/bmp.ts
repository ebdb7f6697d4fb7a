// Uncompressed BMP (1, 4, 8, 24, 32 bits), which sharp's bundled libvips cannot
// read. As PIL does, a 32-bit pixel's fourth byte is dropped.
import { checkPixelCount, RgbImage } from "./image";

export function isBmp(bytes: Uint8Array): boolean {
  return bytes.length > 26 && bytes[0] === 0x42 && bytes[1] === 0x4d;
}

// The file header (14 bytes) and the fields of a BITMAPINFOHEADER read below.
const HEADER_BYTES = 14 + 40;

export function decodeBmp(bytes: Uint8Array): RgbImage {
  if (bytes.length < HEADER_BYTES) throw new Error(`BMP header is truncated (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const offset = view.getUint32(10, true), header = view.getUint32(14, true);
  if (header < 40) throw new Error(`unsupported BMP header of ${header} bytes`);
  const width = view.getInt32(18, true), rawHeight = view.getInt32(22, true);
  const bits = view.getUint16(28, true), compression = view.getUint32(30, true);
  const height = Math.abs(rawHeight);
  if (width <= 0 || height === 0) throw new Error(`bad BMP size ${width}x${rawHeight}`);
  if (![1, 4, 8, 24, 32].includes(bits)) throw new Error(`unsupported BMP bit depth ${bits}`);
  if (!(compression === 0 || (compression === 3 && bits === 32))) throw new Error(`unsupported BMP compression ${compression}`);
  checkPixelCount(width, height);
  const colours = view.getUint32(46, true) || (bits <= 8 ? 1 << bits : 0);
  const palette = 14 + header;
  if (bits <= 8 && palette + Math.min(colours, 1 << bits) * 4 > bytes.length) throw new Error("BMP palette is truncated");
  const stride = Math.ceil((width * bits) / 32) * 4;
  if (offset + stride * height > bytes.length) throw new Error("image file is truncated");
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = offset + stride * (rawHeight > 0 ? height - 1 - y : y);
    for (let x = 0; x < width; x++) {
      const out = (y * width + x) * 3;
      let at: number;
      if (bits >= 24) {
        at = row + x * (bits / 8);
      } else {
        const bitPos = x * bits;
        const index = (bytes[row + (bitPos >> 3)] >> (8 - bits - (bitPos & 7))) & ((1 << bits) - 1);
        if (index >= colours) throw new Error(`BMP palette index ${index} out of range`);
        at = palette + index * 4;
      }
      data[out] = bytes[at + 2];
      data[out + 1] = bytes[at + 1];
      data[out + 2] = bytes[at];
    }
  }
  return { data, width, height, channels: 3 };
}
