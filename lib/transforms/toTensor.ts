// ToTensor: uint8 HWC -> float32 CHW in [0, 1].
import { checkImage, RgbImage } from "../data/image";
import { tensor, Tensor } from "../tensor";
import { Transform } from "./transform";

/** The CHW float values of an image, scaled to [0, 1]. */
export function imageToChw(img: RgbImage): Float32Array {
  const plane = img.width * img.height;
  const out = new Float32Array(plane * 3);
  const src = img.data;
  for (let p = 0; p < plane; p++) {
    out[p] = src[p * 3] / 255;
    out[plane + p] = src[p * 3 + 1] / 255;
    out[2 * plane + p] = src[p * 3 + 2] / 255;
  }
  return out;
}

export class ToTensor implements Transform<RgbImage, Tensor> {
  async forward(input: RgbImage): Promise<Tensor> {
    const img = checkImage(input);
    return tensor(imageToChw(img), [3, img.height, img.width]);
  }

  toString(): string {
    return "ToTensor()";
  }
}
