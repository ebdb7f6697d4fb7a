// torchvision 0.14's Resize on a PIL image: an int sets the short side (the
// long one is truncated, int(size * long / short)); [h, w] sets both.
import { checkInteger, checkOptions, invalid } from "../check";
import { checkImage, RgbImage } from "../data/image";
import { checkInterpolation, InterpolationMode, resize } from "./functional";
import { Transform } from "./transform";

export function resizedSize(height: number, width: number, size: number | [number, number]): [number, number] {
  if (Array.isArray(size)) return size;
  const short = Math.min(height, width), long = Math.max(height, width);
  if (short === size) return [height, width];
  const newLong = Math.floor((size * long) / short);
  return height <= width ? [size, newLong] : [newLong, size];
}

export class Resize implements Transform<RgbImage, RgbImage> {
  readonly size: number | [number, number];
  readonly interpolation: InterpolationMode;

  /** `interpolation`: torchvision's InterpolationMode name, "bilinear" (default) or "bicubic". */
  constructor(size: number | number[], options: { interpolation?: InterpolationMode } = {}) {
    const { interpolation = "bilinear" } = checkOptions(options, { interpolation: true }, "Resize");
    this.interpolation = checkInterpolation(interpolation);
    if (Array.isArray(size)) {
      if (size.length === 1) this.size = checkInteger(size[0], "size[0]", 1);
      else if (size.length === 2) this.size = [checkInteger(size[0], "size[0]", 1), checkInteger(size[1], "size[1]", 1)];
      else throw invalid("positive integer or [height, width]", "size", size);
    } else {
      this.size = checkInteger(size, "size", 1);
    }
  }

  async forward(input: RgbImage): Promise<RgbImage> {
    const img = checkImage(input);
    const [h, w] = resizedSize(img.height, img.width, this.size);
    return resize(img, h, w, this.interpolation);
  }

  toString(): string {
    const size = Array.isArray(this.size) ? `[${this.size.join(", ")}]` : String(this.size);
    return `Resize(size=${size}, interpolation=${this.interpolation}, max_size=None, antialias=True)`;
  }
}
