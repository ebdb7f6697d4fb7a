// torchvision 0.14's TrivialAugmentWide and RandAugment (autoaugment.py): the
// same operation spaces, magnitude bins (float32, as torch.linspace makes
// them) and _apply_op; the draws come from the project's generator.
import { checkInteger, invalid } from "../../check";
import { checkImage, RgbImage } from "../../data/image";
import { addon } from "../../native";
import { defaultGenerator, Generator } from "../../random";
import { Transform } from "../transform";
import * as F from "./functional";

/** The operations of TrivialAugmentWide's and RandAugment's spaces. */
export type OpName = "Identity" | "ShearX" | "ShearY" | "TranslateX" | "TranslateY" | "Rotate" | "Brightness" | "Color" | "Contrast" |
  "Sharpness" | "Posterize" | "Solarize" | "AutoContrast" | "Equalize";

/** An operation's magnitudes (null: it takes none) and whether a magnitude's sign is drawn. */
export type OpSpace = [OpName, number[] | null, boolean][];

/**
 * torch.linspace(start, end, steps) in float32, by the linked libtorch's own
 * kernel: its last-bit rounding differs between releases and CPUs (1.13 and 2.6
 * give two magnitude bins differently), and torchvision's bins are whatever it gives.
 */
export function linspace32(start: number, end: number, steps: number): number[] {
  return Array.from(addon.linspace(start, end, steps));
}

/** 8 - (arange(n) / ((n - 1) / k)).round().int(), in float32 with torch's round-half-even. */
function posterizeBits(n: number, k: number): number[] {
  const d = Math.fround((n - 1) / k);
  return Array.from({ length: n }, (_, i) => {
    const x = Math.fround(i / d), r = Math.round(x);
    return 8 - (Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r);
  });
}

/** autoaugment's _apply_op on a PIL image. */
export async function applyOp(img: RgbImage, op: OpName, magnitude: number, interpolation: F.Interpolation, fill: number[]): Promise<RgbImage> {
  const geometry = { interpolation, fill };
  switch (op) {
    case "ShearX":
      return F.affine(img, { angle: 0, translate: [0, 0], scale: 1, shear: [addon.atanDegrees(magnitude), 0], center: [0, 0], ...geometry });
    case "ShearY":
      return F.affine(img, { angle: 0, translate: [0, 0], scale: 1, shear: [0, addon.atanDegrees(magnitude)], center: [0, 0], ...geometry });
    case "TranslateX":
      return F.affine(img, { angle: 0, translate: [Math.trunc(magnitude), 0], scale: 1, shear: [0, 0], ...geometry });
    case "TranslateY":
      return F.affine(img, { angle: 0, translate: [0, Math.trunc(magnitude)], scale: 1, shear: [0, 0], ...geometry });
    case "Rotate":
      return F.rotate(img, magnitude, geometry);
    case "Brightness":
      return F.adjustBrightness(img, 1 + magnitude);
    case "Color":
      return F.adjustSaturation(img, 1 + magnitude);
    case "Contrast":
      return F.adjustContrast(img, 1 + magnitude);
    case "Sharpness":
      return F.adjustSharpness(img, 1 + magnitude);
    case "Posterize":
      return F.posterize(img, Math.trunc(magnitude));
    case "Solarize":
      return F.solarize(img, magnitude);
    case "AutoContrast":
      return F.autocontrast(img);
    case "Equalize":
      return F.equalize(img);
    case "Identity":
      return img;
  }
}

export interface PolicyOptions {
  numMagnitudeBins?: number;
  interpolation?: F.Interpolation;
  fill?: number | number[] | null;
}

function checkPolicy(options: PolicyOptions) {
  const { numMagnitudeBins = 31, interpolation = "nearest", fill = null } = options;
  checkInteger(numMagnitudeBins, "numMagnitudeBins", 2);
  if (interpolation !== "nearest" && interpolation !== "bilinear") throw invalid('"nearest" or "bilinear"', "interpolation", interpolation);
  return { numMagnitudeBins, interpolation, fill: F.parseFill(fill ?? 0) };
}

export class TrivialAugmentWide implements Transform<RgbImage, RgbImage> {
  readonly numMagnitudeBins: number;
  readonly interpolation: F.Interpolation;
  readonly fill: number[];

  constructor(options: PolicyOptions = {}) {
    ({ numMagnitudeBins: this.numMagnitudeBins, interpolation: this.interpolation, fill: this.fill } = checkPolicy(options));
  }

  static augmentationSpace(numBins: number): OpSpace {
    const l = (end: number) => linspace32(0, end, numBins);
    return [
      ["Identity", null, false],
      ["ShearX", l(0.99), true],
      ["ShearY", l(0.99), true],
      ["TranslateX", l(32), true],
      ["TranslateY", l(32), true],
      ["Rotate", l(135), true],
      ["Brightness", l(0.99), true],
      ["Color", l(0.99), true],
      ["Contrast", l(0.99), true],
      ["Sharpness", l(0.99), true],
      ["Posterize", posterizeBits(numBins, 6), false],
      ["Solarize", linspace32(255, 0, numBins), false],
      ["AutoContrast", null, false],
      ["Equalize", null, false],
    ];
  }

  async forward(input: RgbImage, generator: Generator = defaultGenerator): Promise<RgbImage> {
    const img = checkImage(input);
    const space = TrivialAugmentWide.augmentationSpace(this.numMagnitudeBins);
    const [op, magnitudes, signed] = space[generator.randint(0, space.length - 1)];
    let magnitude = magnitudes ? magnitudes[generator.randint(0, magnitudes.length - 1)] : 0;
    if (signed && generator.randint(0, 1)) magnitude *= -1;
    return applyOp(img, op, magnitude, this.interpolation, this.fill);
  }

  toString(): string {
    return `TrivialAugmentWide(num_magnitude_bins=${this.numMagnitudeBins}, interpolation=${this.interpolation}, fill=[${this.fill.join(", ")}])`;
  }
}

export class RandAugment implements Transform<RgbImage, RgbImage> {
  readonly numOps: number;
  readonly magnitude: number;
  readonly numMagnitudeBins: number;
  readonly interpolation: F.Interpolation;
  readonly fill: number[];

  constructor(options: PolicyOptions & { numOps?: number; magnitude?: number } = {}) {
    const { numOps = 2, magnitude = 9, ...rest } = options;
    ({ numMagnitudeBins: this.numMagnitudeBins, interpolation: this.interpolation, fill: this.fill } = checkPolicy(rest));
    this.numOps = checkInteger(numOps, "numOps", 0);
    this.magnitude = checkInteger(magnitude, "magnitude", 0);
    if (this.magnitude >= this.numMagnitudeBins) throw invalid(`integer below numMagnitudeBins (${this.numMagnitudeBins})`, "magnitude", magnitude);
  }

  static augmentationSpace(numBins: number, height: number, width: number): OpSpace {
    const l = (end: number) => linspace32(0, end, numBins);
    return [
      ["Identity", null, false],
      ["ShearX", l(0.3), true],
      ["ShearY", l(0.3), true],
      ["TranslateX", l((150.0 / 331.0) * width), true],
      ["TranslateY", l((150.0 / 331.0) * height), true],
      ["Rotate", l(30), true],
      ["Brightness", l(0.9), true],
      ["Color", l(0.9), true],
      ["Contrast", l(0.9), true],
      ["Sharpness", l(0.9), true],
      ["Posterize", posterizeBits(numBins, 4), false],
      ["Solarize", linspace32(255, 0, numBins), false],
      ["AutoContrast", null, false],
      ["Equalize", null, false],
    ];
  }

  async forward(input: RgbImage, generator: Generator = defaultGenerator): Promise<RgbImage> {
    let img = checkImage(input);
    const space = RandAugment.augmentationSpace(this.numMagnitudeBins, img.height, img.width);
    for (let i = 0; i < this.numOps; i++) {
      const [op, magnitudes, signed] = space[generator.randint(0, space.length - 1)];
      let magnitude = magnitudes ? magnitudes[this.magnitude] : 0;
      if (signed && generator.randint(0, 1)) magnitude *= -1;
      img = await applyOp(img, op, magnitude, this.interpolation, this.fill);
    }
    return img;
  }

  toString(): string {
    return `RandAugment(num_ops=${this.numOps}, magnitude=${this.magnitude}, num_magnitude_bins=${this.numMagnitudeBins}, interpolation=${this.interpolation}, fill=[${this.fill.join(", ")}])`;
  }
}
