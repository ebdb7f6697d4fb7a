// torchvision's ColorJitter: brightness, contrast, saturation and hue factors
// drawn uniformly, applied in a random order.
import { checkNumber, invalid } from "../../check";
import { checkImage, RgbImage } from "../../data/image";
import { defaultGenerator, Generator } from "../../random";
import { pyFloat } from "../functional";
import { Transform } from "../transform";
import { adjustBrightness, adjustContrast, adjustHue, adjustSaturation } from "./functional";

/** A factor's [min, max], or null when ColorJitter leaves that property alone. */
export type JitterRange = [number, number] | null;

// ColorJitter._check_input: a number v means [center - v, center + v] (clipped at 0 for the factors); null when it does nothing.
function checkInput(value: unknown, name: string, center: number, bound: [number, number], clipFirstOnZero: boolean): JitterRange {
  let range: [number, number];
  if (typeof value === "number") {
    if (!(value >= 0)) throw invalid("non-negative number or [min, max]", name, value);
    range = [center - value, center + value];
    if (clipFirstOnZero) range[0] = Math.max(range[0], 0);
  } else if (Array.isArray(value) && value.length === 2) {
    range = [checkNumber(value[0], `${name}[0]`), checkNumber(value[1], `${name}[1]`)];
  } else {
    throw invalid("non-negative number or [min, max]", name, value);
  }
  if (!(bound[0] <= range[0] && range[0] <= range[1] && range[1] <= bound[1])) {
    throw new RangeError(`${name} values should be between [${bound.join(", ")}], got [${range.join(", ")}]`);
  }
  return range[0] === center && range[1] === center ? null : range;
}

export interface ColorJitterOptions {
  brightness?: number | number[];
  contrast?: number | number[];
  saturation?: number | number[];
  hue?: number | number[];
}

export class ColorJitter implements Transform<RgbImage, RgbImage> {
  readonly brightness: JitterRange;
  readonly contrast: JitterRange;
  readonly saturation: JitterRange;
  readonly hue: JitterRange;

  constructor(options: ColorJitterOptions = {}) {
    const { brightness = 0, contrast = 0, saturation = 0, hue = 0 } = options;
    this.brightness = checkInput(brightness, "brightness", 1, [0, Infinity], true);
    this.contrast = checkInput(contrast, "contrast", 1, [0, Infinity], true);
    this.saturation = checkInput(saturation, "saturation", 1, [0, Infinity], true);
    this.hue = checkInput(hue, "hue", 0, [-0.5, 0.5], false);
  }

  /** ColorJitter.get_params: the order of the four adjustments, then each factor (null: not applied). */
  static getParams(brightness: JitterRange, contrast: JitterRange, saturation: JitterRange, hue: JitterRange, generator: Generator = defaultGenerator) {
    const order = generator.permutation(4);
    const draw = (r: JitterRange) => (r === null ? null : generator.uniform(r[0], r[1]));
    return { order, factors: [draw(brightness), draw(contrast), draw(saturation), draw(hue)] };
  }

  async forward(input: RgbImage, generator: Generator = defaultGenerator): Promise<RgbImage> {
    let img = checkImage(input);
    const { order, factors } = ColorJitter.getParams(this.brightness, this.contrast, this.saturation, this.hue, generator);
    const ops = [adjustBrightness, adjustContrast, adjustSaturation, adjustHue];
    for (const k of order) {
      const f = factors[k];
      if (f !== null) img = await ops[k](img, f);
    }
    return img;
  }

  toString(): string {
    const r = (x: JitterRange) => (x === null ? "None" : `(${x.map(pyFloat).join(", ")})`);
    return `ColorJitter(brightness=${r(this.brightness)}, contrast=${r(this.contrast)}, saturation=${r(this.saturation)}, hue=${r(this.hue)})`;
  }
}
