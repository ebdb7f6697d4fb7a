// torchvision's RandomAffine: angle, translation, scale and shear drawn as its
// get_params draws them, then F.affine.
import { checkNumber, invalid } from "../../check";
import { checkImage, pyRound, RgbImage } from "../../data/image";
import { defaultGenerator, Generator } from "../../random";
import { pyFloat } from "../functional";
import { Transform } from "../transform";
import { affine, Interpolation, parseFill } from "./functional";
import { setupAngle } from "./randomRotation";

export interface RandomAffineOptions {
  /** Fractions of the width and height: |tx| <= translate[0] * width. */
  translate?: number[] | null;
  /** [min, max] of the scale factor. */
  scale?: number[] | null;
  /** Degrees: d means x in [-d, d]; [a, b] x in [a, b]; [a, b, c, d] x in [a, b] and y in [c, d]. */
  shear?: number | number[] | null;
  interpolation?: Interpolation;
  fill?: number | number[];
  center?: number[] | null;
}

export interface AffineParams {
  angle: number;
  translate: [number, number];
  scale: number;
  shear: [number, number];
}

export class RandomAffine implements Transform<RgbImage, RgbImage> {
  readonly degrees: [number, number];
  readonly translate: [number, number] | null;
  readonly scale: [number, number] | null;
  readonly shear: number[] | null;
  readonly interpolation: Interpolation;
  readonly fill: number[];
  readonly center: number[] | null;

  constructor(degrees: number | number[], options: RandomAffineOptions = {}) {
    const { translate = null, scale = null, shear = null, interpolation = "nearest", fill = 0, center = null } = options;
    this.degrees = setupAngle(degrees, "degrees");
    if (translate !== null) {
      if (!Array.isArray(translate) || translate.length !== 2) throw invalid("[a, b] of numbers in [0, 1]", "translate", translate);
      this.translate = [checkNumber(translate[0], "translate[0]", { min: 0, max: 1 }), checkNumber(translate[1], "translate[1]", { min: 0, max: 1 })];
    } else {
      this.translate = null;
    }
    if (scale !== null) {
      if (!Array.isArray(scale) || scale.length !== 2) throw invalid("[min, max] of positive numbers", "scale", scale);
      this.scale = [checkNumber(scale[0], "scale[0]", { min: Number.MIN_VALUE }), checkNumber(scale[1], "scale[1]", { min: Number.MIN_VALUE })];
    } else {
      this.scale = null;
    }
    if (shear === null) {
      this.shear = null;
    } else if (typeof shear === "number") {
      this.shear = setupAngle(shear, "shear");
    } else if (Array.isArray(shear) && (shear.length === 2 || shear.length === 4)) {
      this.shear = shear.map((s, i) => checkNumber(s, `shear[${i}]`));
    } else {
      throw invalid("number, [min, max] or [xmin, xmax, ymin, ymax]", "shear", shear);
    }
    if (interpolation !== "nearest" && interpolation !== "bilinear") throw invalid('"nearest" or "bilinear"', "interpolation", interpolation);
    this.interpolation = interpolation;
    this.fill = parseFill(fill);
    this.center = center;
  }

  /** RandomAffine.get_params, for an image of width x height; translations are rounded as Python rounds. */
  static getParams(degrees: [number, number], translate: [number, number] | null, scale: [number, number] | null, shear: number[] | null,
    width: number, height: number, generator: Generator = defaultGenerator): AffineParams {
    const angle = generator.uniform(degrees[0], degrees[1]);
    let t: [number, number] = [0, 0];
    if (translate) {
      const maxDx = translate[0] * width, maxDy = translate[1] * height;
      t = [pyRound(generator.uniform(-maxDx, maxDx)), pyRound(generator.uniform(-maxDy, maxDy))];
    }
    const s = scale ? generator.uniform(scale[0], scale[1]) : 1.0;
    const sh: [number, number] = [0, 0];
    if (shear) {
      sh[0] = generator.uniform(shear[0], shear[1]);
      if (shear.length === 4) sh[1] = generator.uniform(shear[2], shear[3]);
    }
    return { angle, translate: t, scale: s, shear: sh };
  }

  async forward(input: RgbImage, generator: Generator = defaultGenerator): Promise<RgbImage> {
    const img = checkImage(input);
    const p = RandomAffine.getParams(this.degrees, this.translate, this.scale, this.shear, img.width, img.height, generator);
    return affine(img, { ...p, interpolation: this.interpolation, fill: this.fill, center: this.center });
  }

  toString(): string {
    const parts = [`degrees=[${this.degrees.map(pyFloat).join(", ")}]`];
    if (this.translate) parts.push(`translate=(${this.translate.join(", ")})`);
    if (this.scale) parts.push(`scale=(${this.scale.join(", ")})`);
    if (this.shear) parts.push(`shear=[${this.shear.map(pyFloat).join(", ")}]`);
    if (this.interpolation !== "nearest") parts.push(`interpolation=${this.interpolation}`);
    if (this.fill.some((v) => v !== 0)) parts.push(`fill=[${this.fill.join(", ")}]`);
    return `RandomAffine(${parts.join(", ")})`;
  }
}
