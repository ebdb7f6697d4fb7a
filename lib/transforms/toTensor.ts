// ToTensor: uint8 HWC -> float32 CHW in [0, 1].
import { checkImage, RgbImage } from "../data/image";
import { addon } from "../native";
import { Tensor } from "../tensor";
import { Transform } from "./transform";

/**
 * The image as a float32 CHW tensor in [0, 1], then, when given, normalized
 * per channel; one native pass, in torch's float32 arithmetic.
 */
export function imageToTensor(img: RgbImage, mean?: number[], std?: number[]): Tensor {
  return mean && std ? addon.imageToTensor(img.data, img.height, img.width, 3, mean, std) : addon.imageToTensor(img.data, img.height, img.width, 3);
}

export class ToTensor implements Transform<RgbImage, Tensor> {
  async forward(input: RgbImage): Promise<Tensor> {
    return imageToTensor(checkImage(input));
  }

  toString(): string {
    return "ToTensor()";
  }
}
