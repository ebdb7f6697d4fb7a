// saveImage: a [3, H, W] image or a [B, 3, H, W] batch (as a grid) to a PNG.
import sharp from "sharp";
import { checkOptions, checkString, invalid } from "../check";
import { checkTensor, Tensor } from "../tensor";
import { writeFileAtomic } from "./atomicWrite";
import { checkGridOptions, makeGridPlanar, Planar } from "./grid";
import { checkUnnormalize, toRGB8, Unnormalize } from "./pixels";

export interface SaveImageOptions {
  /** Undo a Normalize first: "imagenet" or { mean, std }; by default the values are taken as [0, 1]. */
  unnormalize?: Unnormalize;
  /** For a batch: images per row (default 8). */
  nrow?: number;
  /** For a batch: pixels between images (default 2). */
  padding?: number;
}

const SAVE_IMAGE_OPTIONS: Record<keyof SaveImageOptions, true> = { unnormalize: true, nrow: true, padding: true };

/** Reads a float tensor's values into JS. */
export async function readPlanar(input: Tensor, name: string): Promise<Planar> {
  checkTensor(input, name);
  if (!["float32", "float64", "float16", "bfloat16"].includes(input.dtype)) throw invalid("floating-point Tensor", name, input.toString());
  const onCpu = input.device === "cpu" ? input : input.to("cpu");
  try {
    const values = await onCpu.data();
    const data = values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
    return { data, shape: input.shape.slice() };
  } finally {
    if (onCpu !== input) onCpu.dispose();
  }
}

/** Checks a [3, H, W] or [B, 3, H, W] (1 channel allowed) image shape. */
export function checkImageShape(shape: number[], name: string): void {
  const c = shape.length === 3 ? shape[0] : shape.length === 4 ? shape[1] : -1;
  if (c !== 1 && c !== 3) throw new RangeError(`${name} must have shape [3, H, W] or [B, 3, H, W], but has shape [${shape.join(", ")}]`);
}

/** Encodes 8-bit RGB pixels as PNG. */
export function encodePNG(rgb: { pixels: Buffer; width: number; height: number }): Promise<Buffer> {
  return sharp(rgb.pixels, { raw: { width: rgb.width, height: rgb.height, channels: 3 } }).png().toBuffer();
}

/** The tutorial's imshow, to a file: grid (for a batch), un-normalize, clip to [0, 1], PNG. */
export async function saveImage(input: Tensor, file: string, options: SaveImageOptions = {}): Promise<{ file: string; width: number; height: number }> {
  checkOptions(options, SAVE_IMAGE_OPTIONS, "saveImage");
  checkTensor(input, "tensor");
  checkString(file, "file");
  checkImageShape(input.shape, "tensor");
  const { unnormalize, nrow = 8, padding = 2 } = options ?? {};
  checkGridOptions({ nrow, padding });
  const mean = checkUnnormalize(unnormalize);
  const planar = await readPlanar(input, "tensor");
  const grid = makeGridPlanar(planar, { nrow, padding });
  const rgb = toRGB8(grid, mean);
  await writeFileAtomic(file, await encodePNG(rgb));
  return { file, width: rgb.width, height: rgb.height };
}
