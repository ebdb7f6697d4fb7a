// The "PIL image" stage of the pipeline: 8-bit RGB pixels, row after row.
import { invalid } from "../check";

export interface RgbImage {
  /** height * width * 3 bytes, HWC. */
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly channels: 3;
}

/**
 * PIL's decompression-bomb limit (2 * Image.MAX_IMAGE_PIXELS): Image.open
 * refuses larger images, so torchvision's loader never sees them, and a few
 * header bytes cannot make us allocate gigabytes. native/jpeg.h holds the same.
 */
export const MAX_IMAGE_PIXELS = 2 * 89478485;

export function checkPixelCount(width: number, height: number): void {
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new Error(`image of ${width}x${height} pixels is over the limit of ${MAX_IMAGE_PIXELS} (PIL's decompression bomb limit)`);
  }
}

export function isImage(value: unknown): value is RgbImage {
  const v = value as RgbImage;
  return typeof v === "object" && v !== null && v.data instanceof Uint8Array && v.channels === 3 &&
    Number.isInteger(v.width) && Number.isInteger(v.height) && v.data.length === v.width * v.height * 3;
}

export function checkImage(value: unknown, name = "input"): RgbImage {
  if (!isImage(value)) throw invalid("RGB image ({ data: Uint8Array, width, height, channels: 3 })", name, value);
  return value;
}

/** Python's round(): halves go to the even neighbour. */
export function pyRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
