// Pixel operations on RgbImage, with PIL's semantics: a crop reaching outside
// the image is filled with zeros; resizing is Pillow's bilinear or bicubic,
// which antialias when shrinking (native/resample.cc, the same to the bit).
import { invalid } from "../check";
import { addon } from "../native";
import { RgbImage } from "../data/image";

/** torchvision's InterpolationMode values that our Pillow-exact resampler has. */
export type InterpolationMode = "bilinear" | "bicubic";

export function checkInterpolation(value: unknown, name = "interpolation"): InterpolationMode {
  if (value === "bilinear" || value === "bicubic") return value;
  throw invalid('"bilinear" or "bicubic"', name, value);
}

export function crop(img: RgbImage, top: number, left: number, height: number, width: number): RgbImage {
  if (top === 0 && left === 0 && height === img.height && width === img.width) return img;
  const out = new Uint8Array(height * width * 3);
  const x0 = Math.max(0, -left), x1 = Math.min(width, img.width - left);
  if (x1 > x0) {
    for (let y = Math.max(0, -top); y < Math.min(height, img.height - top); y++) {
      const from = ((top + y) * img.width + left + x0) * 3;
      out.set(img.data.subarray(from, from + (x1 - x0) * 3), (y * width + x0) * 3);
    }
  }
  return { data: out, width, height, channels: 3 };
}

export async function resize(img: RgbImage, height: number, width: number, interpolation: InterpolationMode = "bilinear"): Promise<RgbImage> {
  if (height === img.height && width === img.width) return img;
  const data = await addon.resizeImage(img.data, img.height, img.width, 3, height, width, null, null, checkInterpolation(interpolation));
  return { data, width, height, channels: 3 };
}

/** resize() then crop(), computing only the cropped pixels; the box must lie inside the resized image. */
export async function cropOfResized(img: RgbImage, height: number, width: number, top: number, left: number,
  cropH: number, cropW: number, interpolation: InterpolationMode = "bilinear"): Promise<RgbImage> {
  if (height === img.height && width === img.width) return crop(img, top, left, cropH, cropW);
  const data = await addon.resizeImage(img.data, img.height, img.width, 3, height, width, null, [top, left, cropH, cropW], interpolation);
  return { data, width: cropW, height: cropH, channels: 3 };
}

/** crop() then resize(), reading the crop in place; the box must lie inside the image. */
export async function resizedCrop(img: RgbImage, top: number, left: number, cropH: number, cropW: number,
  height: number, width: number, interpolation: InterpolationMode = "bilinear"): Promise<RgbImage> {
  if (height === cropH && width === cropW) return crop(img, top, left, cropH, cropW);
  const data = await addon.resizeImage(img.data, img.height, img.width, 3, height, width, [top, left, cropH, cropW], null, interpolation);
  return { data, width, height, channels: 3 };
}

export function hflip(img: RgbImage): RgbImage {
  const out = new Uint8Array(img.data.length);
  const row = img.width * 3;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const from = y * row + x * 3, to = y * row + (img.width - 1 - x) * 3;
      out[to] = img.data[from];
      out[to + 1] = img.data[from + 1];
      out[to + 2] = img.data[from + 2];
    }
  }
  return { data: out, width: img.width, height: img.height, channels: 3 };
}

/** An int or an [h, w] pair, checked, as torchvision's _setup_size takes it. */
export function pairSize(size: unknown, name: string): [number, number] {
  const ok = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v > 0;
  if (ok(size)) return [size as number, size as number];
  if (Array.isArray(size) && (size.length === 1 || size.length === 2) && size.every(ok)) {
    return size.length === 1 ? [size[0], size[0]] : [size[0], size[1]];
  }
  throw invalid("positive integer or [height, width] of positive integers", name, size);
}

/** Python's repr of a float: 1 prints as 1.0. */
export function pyFloat(x: number): string {
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}
