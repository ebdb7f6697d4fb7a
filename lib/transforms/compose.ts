// Compose: runs transforms in order, disposing the tensors made in between.
import { invalid } from "../check";
import { checkImage, RgbImage } from "../data/image";
import { Generator, defaultGenerator } from "../random";
import { isTensor, Tensor } from "../tensor";
import { CenterCrop, centerCropOffsets } from "./centerCrop";
import { cropOfResized } from "./functional";
import { Normalize } from "./normalize";
import { Resize, resizedSize } from "./resize";
import { imageToTensor, ToTensor } from "./toTensor";
import { Transform } from "./transform";

/**
 * `In` and `Out`: what goes in (a decoded image unless named) and what comes
 * out, the last transform's output: a Tensor after ToTensor or Normalize, an
 * RgbImage after Resize or CenterCrop.
 */
export class Compose<In = RgbImage, Out = In> implements Transform<In, Out> {
  // Each step's input is the previous step's output, which one array type cannot say.
  readonly transforms: Transform<never, unknown>[];

  constructor(transforms: readonly [...Transform<never, unknown>[], Transform<never, Out>] | readonly []) {
    if (!Array.isArray(transforms) || !transforms.every((t) => t && typeof t.forward === "function")) {
      throw invalid("array of transforms (objects with forward())", "transforms", transforms);
    }
    this.transforms = [...transforms];
  }

  async forward(input: In, generator: Generator = defaultGenerator): Promise<Out> {
    let value: unknown = input;
    for (let i = 0; i < this.transforms.length; i++) {
      const t = this.transforms[i], next = this.transforms[i + 1];
      let out: unknown;
      if (t instanceof ToTensor && next instanceof Normalize) {
        // One pass and one tensor instead of a tensor, a read-back and a second tensor.
        out = fused(checkImage(value), next);
        i++;
      } else if (t instanceof Resize && next instanceof CenterCrop && (out = await resizeThenCrop(checkImage(value), t, next))) {
        // Only the pixels the crop keeps are resampled.
        i++;
      } else {
        out = await (t as Transform<unknown, unknown>).forward(value, generator);
      }
      if (isTensor(value) && value !== out && value !== input) (value as Tensor).dispose();
      value = out;
    }
    return value as Out;
  }

  toString(): string {
    return `Compose(\n${this.transforms.map((t) => `    ${t}`).join("\n")}\n)`;
  }
}

// Resize then CenterCrop, when the crop lies inside the resized image (a
// larger crop pads, and goes the long way).
async function resizeThenCrop(img: RgbImage, resize: Resize, centerCrop: CenterCrop): Promise<RgbImage | undefined> {
  const [h, w] = resizedSize(img.height, img.width, resize.size);
  const [ch, cw] = centerCrop.size;
  if (ch > h || cw > w) return undefined;
  const [top, left] = centerCropOffsets(h, w, ch, cw);
  return cropOfResized(img, h, w, top, left, ch, cw, resize.interpolation);
}

function fused(img: RgbImage, normalize: Normalize): Tensor {
  const [mean, std] = normalize.perChannel(3);
  return imageToTensor(img, mean, std);
}
