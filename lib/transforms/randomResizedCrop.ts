// torchvision's RandomResizedCrop: a random area and aspect ratio, ten tries,
// then a centred fallback; the crop is resized to `size`.
import { checkNumber, checkOptions, invalid } from "../check";
import { checkImage, pyRound, RgbImage } from "../data/image";
import { defaultGenerator, Generator } from "../random";
import { checkInterpolation, InterpolationMode, pairSize, pyFloat, resizedCrop } from "./functional";
import { Transform } from "./transform";

export interface CropParams { top: number; left: number; height: number; width: number }

function checkRange(value: unknown, name: string, min: number): [number, number] {
  if (!Array.isArray(value) || value.length !== 2) throw invalid("[min, max] pair of numbers", name, value);
  const [a, b] = value.map((v, i) => checkNumber(v, `${name}[${i}]`, { min }));
  if (a > b) throw invalid(`[min, max] with min <= max`, name, value);
  return [a, b];
}

export class RandomResizedCrop implements Transform<RgbImage, RgbImage> {
  readonly size: [number, number];
  readonly scale: [number, number];
  readonly ratio: [number, number];
  readonly interpolation: InterpolationMode;

  /** `interpolation`: torchvision's InterpolationMode name, "bilinear" (default) or "bicubic". */
  constructor(size: number | number[], options: { scale?: number[]; ratio?: number[]; interpolation?: InterpolationMode } = {}) {
    const { scale = [0.08, 1.0], ratio = [3 / 4, 4 / 3], interpolation = "bilinear" } =
      checkOptions(options, { scale: true, ratio: true, interpolation: true }, "RandomResizedCrop");
    this.interpolation = checkInterpolation(interpolation);
    this.size = pairSize(size, "size");
    this.scale = checkRange(scale, "scale", 0);
    this.ratio = checkRange(ratio, "ratio", Number.MIN_VALUE);
  }

  /** torchvision's get_params, for an image of `height` x `width`. */
  static getParams(height: number, width: number, scale: [number, number], ratio: [number, number], generator: Generator = defaultGenerator): CropParams {
    const area = height * width;
    const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])];
    for (let attempt = 0; attempt < 10; attempt++) {
      const targetArea = area * generator.uniform(scale[0], scale[1]);
      const aspect = Math.exp(generator.uniform(logRatio[0], logRatio[1]));
      const w = pyRound(Math.sqrt(targetArea * aspect));
      const h = pyRound(Math.sqrt(targetArea / aspect));
      if (w > 0 && w <= width && h > 0 && h <= height) {
        return { top: generator.randint(0, height - h), left: generator.randint(0, width - w), height: h, width: w };
      }
    }
    const inRatio = width / height;
    let w: number, h: number;
    if (inRatio < Math.min(...ratio)) {
      w = width;
      h = pyRound(w / Math.min(...ratio));
    } else if (inRatio > Math.max(...ratio)) {
      h = height;
      w = pyRound(h * Math.max(...ratio));
    } else {
      w = width;
      h = height;
    }
    return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
  }

  async forward(input: RgbImage, generator: Generator = defaultGenerator): Promise<RgbImage> {
    const img = checkImage(input);
    const p = RandomResizedCrop.getParams(img.height, img.width, this.scale, this.ratio, generator);
    return resizedCrop(img, p.top, p.left, p.height, p.width, this.size[0], this.size[1], this.interpolation);
  }

  toString(): string {
    const r4 = (x: number) => pyFloat(Math.round(x * 1e4) / 1e4);
    return `RandomResizedCrop(size=(${this.size.join(", ")}), scale=(${this.scale.map(r4).join(", ")}), ` +
      `ratio=(${this.ratio.map(r4).join(", ")}), interpolation=${this.interpolation}, antialias=True)`;
  }
}
