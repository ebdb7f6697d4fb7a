// torchvision.transforms.functional's augmentation ops on our RGB images,
// giving the pixels torchvision's PIL path gives: the work is Pillow's own
// arithmetic, redone in native/augment (color.cc, geometry.cc).
import { checkBoolean, checkInteger, checkNumber, invalid } from "../../check";
import { checkImage, RgbImage } from "../../data/image";
import { addon } from "../../native";
import { checkTensor, tensor, Tensor } from "../../tensor";

export type Interpolation = "nearest" | "bilinear";

async function adjust(img: RgbImage, op: string, value = 0): Promise<RgbImage> {
  const data = await addon.adjustImage(img.data, img.height, img.width, 3, op, value);
  return { data, width: img.width, height: img.height, channels: 3 };
}

/** ImageEnhance.Brightness: a blend with black; 0 gives black, 1 the image. */
export function adjustBrightness(img: RgbImage, brightnessFactor: number): Promise<RgbImage> {
  return adjust(checkImage(img, "img"), "brightness", checkNumber(brightnessFactor, "brightnessFactor", { min: 0 }));
}

/** ImageEnhance.Contrast: a blend with the image's mean grey. */
export function adjustContrast(img: RgbImage, contrastFactor: number): Promise<RgbImage> {
  return adjust(checkImage(img, "img"), "contrast", checkNumber(contrastFactor, "contrastFactor", { min: 0 }));
}

/** ImageEnhance.Color: a blend with the image's own greyscale. */
export function adjustSaturation(img: RgbImage, saturationFactor: number): Promise<RgbImage> {
  return adjust(checkImage(img, "img"), "saturation", checkNumber(saturationFactor, "saturationFactor", { min: 0 }));
}

/** ImageEnhance.Sharpness: a blend with ImageFilter.SMOOTH's output. */
export function adjustSharpness(img: RgbImage, sharpnessFactor: number): Promise<RgbImage> {
  return adjust(checkImage(img, "img"), "sharpness", checkNumber(sharpnessFactor, "sharpnessFactor", { min: 0 }));
}

/**
 * Shifts the hue by hueFactor of a turn, in [-0.5, 0.5], through PIL's 8-bit
 * HSV as torchvision does: the byte added is np.uint8(hueFactor * 255), which
 * truncates towards zero and wraps a negative value modulo 256.
 */
export function adjustHue(img: RgbImage, hueFactor: number): Promise<RgbImage> {
  checkNumber(hueFactor, "hueFactor", { min: -0.5, max: 0.5 });
  return adjust(checkImage(img, "img"), "hue", Math.trunc(hueFactor * 255) & 255);
}

/** ImageOps.posterize: keeps the top `bits` bits of each channel. */
export function posterize(img: RgbImage, bits: number): Promise<RgbImage> {
  checkInteger(bits, "bits", 0);
  if (bits > 8) throw invalid("integer in [0, 8]", "bits", bits);
  return adjust(checkImage(img, "img"), "posterize", bits);
}

/** ImageOps.solarize: values at or above threshold are inverted. */
export function solarize(img: RgbImage, threshold: number): Promise<RgbImage> {
  return adjust(checkImage(img, "img"), "solarize", checkNumber(threshold, "threshold"));
}

/** ImageOps.autocontrast: each channel stretched to [0, 255]. */
export function autocontrast(img: RgbImage): Promise<RgbImage> {
  return adjust(checkImage(img, "img"), "autocontrast");
}

/** ImageOps.equalize: each channel's histogram flattened. */
export function equalize(img: RgbImage): Promise<RgbImage> {
  return adjust(checkImage(img, "img"), "equalize");
}

/** ImageOps.invert. */
export function invert(img: RgbImage): Promise<RgbImage> {
  return adjust(checkImage(img, "img"), "invert");
}

function checkInterpolation(value: unknown): Interpolation {
  if (value !== "nearest" && value !== "bilinear") throw invalid('"nearest" or "bilinear"', "interpolation", value);
  return value;
}

/** torchvision's _parse_fill: one number for every channel, or three; PIL takes them as ints. */
export function parseFill(fill: unknown): number[] {
  const values = typeof fill === "number" ? [fill, fill, fill] : fill;
  if (!Array.isArray(values) || (values.length !== 3 && values.length !== 1)) throw invalid("number or [r, g, b]", "fill", fill);
  const three = values.length === 1 ? [values[0], values[0], values[0]] : values;
  return three.map((v, i) => Math.trunc(checkNumber(v, `fill[${i}]`, { min: 0, max: 255 })));
}

function checkPair(value: unknown, name: string): [number, number] {
  if (!Array.isArray(value) || value.length !== 2) throw invalid("[x, y] pair of numbers", name, value);
  return [checkNumber(value[0], `${name}[0]`), checkNumber(value[1], `${name}[1]`)];
}

export interface RotateOptions {
  interpolation?: Interpolation;
  expand?: boolean;
  /** [x, y] in pixels from the top-left corner; the image's centre by default. */
  center?: number[] | null;
  fill?: number | number[];
}

/** Image.rotate: counter-clockwise by `angle` degrees, as torchvision's F.rotate on a PIL image. */
export async function rotate(img: RgbImage, angle: number, options: RotateOptions = {}): Promise<RgbImage> {
  checkImage(img, "img");
  checkNumber(angle, "angle");
  const { interpolation = "nearest", expand = false, center = null, fill = 0 } = options;
  const plan = addon.rotatePlan(img.height, img.width, angle, checkBoolean(expand, "expand"), center === null ? null : checkPair(center, "center"));
  const warp = plan.transpose ? { quarterTurns: plan.quarterTurns } : { matrix: plan.matrix };
  const data = await addon.warpImage(img.data, img.height, img.width, 3, {
    ...warp, bilinear: checkInterpolation(interpolation) === "bilinear", fill: parseFill(fill), outHeight: plan.outHeight, outWidth: plan.outWidth,
  });
  return { data, width: plan.outWidth, height: plan.outHeight, channels: 3 };
}

export interface AffineOptions {
  angle: number;
  /** [tx, ty] in pixels, applied after the rotation. */
  translate: number[];
  scale: number;
  /** Degrees: one number (x only) or [x, y]. */
  shear: number | number[];
  interpolation?: Interpolation;
  fill?: number | number[];
  center?: number[] | null;
}

/** torchvision's F.affine on a PIL image: the inverse matrix, then Image.transform(AFFINE), keeping the size. */
export async function affine(img: RgbImage, options: AffineOptions): Promise<RgbImage> {
  checkImage(img, "img");
  if (typeof options !== "object" || options === null) throw invalid("options object with angle, translate, scale, shear", "options", options);
  const { angle, translate, scale, shear, interpolation = "nearest", fill = 0, center = null } = options;
  checkNumber(angle, "angle");
  const [tx, ty] = checkPair(translate, "translate");
  if (checkNumber(scale, "scale") <= 0) throw invalid("positive number", "scale", scale);
  const shears = typeof shear === "number" ? [shear, 0] : Array.isArray(shear) && shear.length === 1 ? [shear[0], shear[0]] : shear;
  const [sx, sy] = checkPair(shears, "shear");
  const [cx, cy] = center === null ? [img.width * 0.5, img.height * 0.5] : checkPair(center, "center");
  const matrix = addon.inverseAffineMatrix(cx, cy, angle, tx, ty, scale, sx, sy);
  const data = await addon.warpImage(img.data, img.height, img.width, 3, {
    matrix, bilinear: checkInterpolation(interpolation) === "bilinear", fill: parseFill(fill), outHeight: img.height, outWidth: img.width,
  });
  return { data, width: img.width, height: img.height, channels: 3 };
}

/**
 * torchvision's F.erase on a [..., C, H, W] float tensor: the box at (i, j)
 * of h x w takes `v` (a [C, h, w], [C, 1, 1] or [1] tensor, broadcast). A new
 * tensor; the input is left as it is.
 */
export async function erase(img: Tensor, i: number, j: number, h: number, w: number, v: Tensor): Promise<Tensor> {
  checkTensor(img, "img");
  checkTensor(v, "v");
  if (img.dtype !== "float32" || img.shape.length < 3) throw invalid("float32 Tensor of shape [..., C, H, W]", "img", `${img}`);
  const [C, H, W] = img.shape.slice(-3);
  checkInteger(i, "i", 0);
  checkInteger(j, "j", 0);
  checkInteger(h, "h", 0);
  checkInteger(w, "w", 0);
  if (i + h > H || j + w > W) throw new RangeError(`erase: box ${h}x${w} at (${i}, ${j}) leaves the ${H}x${W} image`);
  const values = Float32Array.from((await img.data()) as Float32Array);
  const fill = Float32Array.from((await v.data()) as Float32Array);
  const perChannel = fill.length === 1 ? "one" : fill.length === C ? "channel" : fill.length === C * h * w ? "box" : null;
  if (!perChannel) throw invalid(`Tensor of ${C * h * w}, ${C} or 1 values`, "v", `${v}`);
  const planes = values.length / (H * W);
  for (let p = 0; p < planes; p++) {
    const c = p % C;
    for (let y = 0; y < h; y++) {
      const row = p * H * W + (i + y) * W + j;
      if (perChannel === "box") values.set(fill.subarray((c * h + y) * w, (c * h + y + 1) * w), row);
      else values.fill(fill[perChannel === "one" ? 0 : c], row, row + w);
    }
  }
  return tensor(values, img.shape);
}
