// From float CHW values to 8-bit RGB pixels, as the tutorial's imshow does:
// un-normalize (x * std + mean), clip to [0, 1], then round(x * 255).
import { invalid } from "../check";
import { Planar } from "./grid";

export interface MeanStd {
  mean: number[];
  std: number[];
}

export type Unnormalize = MeanStd | "imagenet";

export const IMAGENET: MeanStd = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

export function checkUnnormalize(value: unknown, name = "unnormalize"): MeanStd | undefined {
  if (value === undefined) return undefined;
  if (value === "imagenet") return IMAGENET;
  const v = value as MeanStd;
  const ok = (a: unknown) => Array.isArray(a) && a.length === 3 && a.every((x) => typeof x === "number" && Number.isFinite(x));
  if (typeof v !== "object" || v === null || !ok(v.mean) || !ok(v.std)) {
    throw invalid('"imagenet" or { mean, std } with three numbers each', name, value);
  }
  return v;
}

/** Interleaved 8-bit RGB pixels from a [3, H, W] planar image. */
export function toRGB8(image: Planar, unnormalize?: MeanStd): { pixels: Buffer; width: number; height: number } {
  const [c, height, width] = image.shape;
  if (image.shape.length !== 3 || c !== 3) throw new RangeError(`expected a [3, H, W] image but got shape [${image.shape.join(", ")}]`);
  const plane = height * width;
  const pixels = Buffer.alloc(plane * 3);
  for (let ch = 0; ch < 3; ch++) {
    const mean = unnormalize ? unnormalize.mean[ch] : 0;
    const std = unnormalize ? unnormalize.std[ch] : 1;
    const src = image.data.subarray(ch * plane, (ch + 1) * plane);
    for (let i = 0; i < plane; i++) {
      const v = src[i] * std + mean;
      const clipped = v > 1 ? 1 : v >= 0 ? v : 0; // NaN becomes 0
      pixels[i * 3 + ch] = Math.round(clipped * 255);
    }
  }
  return { pixels, width, height };
}
