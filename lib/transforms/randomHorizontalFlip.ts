// Mirrors the image with probability p, as torchvision's RandomHorizontalFlip.
import { checkNumber } from "../check";
import { checkImage, RgbImage } from "../data/image";
import { defaultGenerator, Generator } from "../random";
import { hflip, pyFloat } from "./functional";
import { Transform } from "./transform";

export class RandomHorizontalFlip implements Transform<RgbImage, RgbImage> {
  readonly p: number;

  constructor(p = 0.5) {
    this.p = checkNumber(p, "p", { min: 0, max: 1 });
  }

  async forward(input: RgbImage, generator: Generator = defaultGenerator): Promise<RgbImage> {
    const img = checkImage(input);
    return generator.random() < this.p ? hflip(img) : img;
  }

  toString(): string {
    return `RandomHorizontalFlip(p=${pyFloat(this.p)})`;
  }
}
