// Compose: runs transforms in order, disposing the tensors made in between.
import { invalid } from "../check";
import { checkImage, RgbImage } from "../data/image";
import { Generator, defaultGenerator } from "../random";
import { isTensor, tensor, Tensor } from "../tensor";
import { Normalize } from "./normalize";
import { imageToChw, ToTensor } from "./toTensor";
import { Transform } from "./transform";

export class Compose implements Transform {
  readonly transforms: Transform[];

  constructor(transforms: Transform[]) {
    if (!Array.isArray(transforms) || !transforms.every((t) => t && typeof t.forward === "function")) {
      throw invalid("array of transforms (objects with forward())", "transforms", transforms);
    }
    this.transforms = [...transforms];
  }

  async forward(input: unknown, generator: Generator = defaultGenerator): Promise<any> {
    let value = input;
    for (let i = 0; i < this.transforms.length; i++) {
      const t = this.transforms[i], next = this.transforms[i + 1];
      let out: unknown;
      if (t instanceof ToTensor && next instanceof Normalize) {
        // One pass and one tensor instead of a tensor, a read-back and a second tensor.
        out = fused(checkImage(value), next);
        i++;
      } else {
        out = await t.forward(value, generator);
      }
      if (isTensor(value) && value !== out && value !== input) (value as Tensor).dispose();
      value = out;
    }
    return value;
  }

  toString(): string {
    return `Compose(\n${this.transforms.map((t) => `    ${t}`).join("\n")}\n)`;
  }
}

function fused(img: RgbImage, normalize: Normalize): Tensor {
  return tensor(normalize.normalizeInPlace(imageToChw(img), 3), [3, img.height, img.width]);
}
