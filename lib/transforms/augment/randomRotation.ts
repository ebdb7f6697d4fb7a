// torchvision's RandomRotation: an angle drawn uniformly from degrees, then F.rotate.
import { checkBoolean, checkNumber, invalid } from "../../check";
import { checkImage, RgbImage } from "../../data/image";
import { defaultGenerator, Generator } from "../../random";
import { pyFloat } from "../functional";
import { Transform } from "../transform";
import { Interpolation, parseFill, rotate } from "./functional";

/** torchvision's _setup_angle: a number d means [-d, d]. */
export function setupAngle(value: unknown, name: string): [number, number] {
  if (typeof value === "number") {
    if (!(value >= 0)) throw invalid("non-negative number or [min, max]", name, value);
    return [-value, value];
  }
  if (Array.isArray(value) && value.length === 2) return [checkNumber(value[0], `${name}[0]`), checkNumber(value[1], `${name}[1]`)];
  throw invalid("non-negative number or [min, max]", name, value);
}

export interface RandomRotationOptions {
  interpolation?: Interpolation;
  expand?: boolean;
  center?: number[] | null;
  fill?: number | number[];
}

export class RandomRotation implements Transform<RgbImage, RgbImage> {
  readonly degrees: [number, number];
  readonly interpolation: Interpolation;
  readonly expand: boolean;
  readonly center: number[] | null;
  readonly fill: number[];

  constructor(degrees: number | number[], options: RandomRotationOptions = {}) {
    const { interpolation = "nearest", expand = false, center = null, fill = 0 } = options;
    this.degrees = setupAngle(degrees, "degrees");
    if (interpolation !== "nearest" && interpolation !== "bilinear") throw invalid('"nearest" or "bilinear"', "interpolation", interpolation);
    this.interpolation = interpolation;
    this.expand = checkBoolean(expand, "expand");
    this.center = center;
    this.fill = parseFill(fill);
  }

  async forward(input: RgbImage, generator: Generator = defaultGenerator): Promise<RgbImage> {
    const img = checkImage(input);
    const angle = generator.uniform(this.degrees[0], this.degrees[1]);
    return rotate(img, angle, { interpolation: this.interpolation, expand: this.expand, center: this.center, fill: this.fill });
  }

  toString(): string {
    return `RandomRotation(degrees=[${this.degrees.map(pyFloat).join(", ")}], interpolation=${this.interpolation}, expand=${this.expand ? "True" : "False"}, fill=[${this.fill.join(", ")}])`;
  }
}
