// torchvision's CenterCrop: zero padding when the crop is larger than the
// image, then offsets round((H - h) / 2) with Python's round.
import { checkImage, pyRound, RgbImage } from "../data/image";
import { crop, pairSize } from "./functional";
import { Transform } from "./transform";

export function centerCropOffsets(height: number, width: number, cropH: number, cropW: number): [number, number] {
  // Padding first (left/top get the smaller half) shifts the origin, as torchvision's pad does.
  const padTop = cropH > height ? Math.floor((cropH - height) / 2) : 0;
  const padLeft = cropW > width ? Math.floor((cropW - width) / 2) : 0;
  const paddedH = cropH > height ? cropH : height, paddedW = cropW > width ? cropW : width;
  return [pyRound((paddedH - cropH) / 2) - padTop, pyRound((paddedW - cropW) / 2) - padLeft];
}

export class CenterCrop implements Transform<RgbImage, RgbImage> {
  readonly size: [number, number];

  constructor(size: number | number[]) {
    this.size = pairSize(size, "size");
  }

  async forward(input: RgbImage): Promise<RgbImage> {
    const img = checkImage(input);
    const [h, w] = this.size;
    const [top, left] = centerCropOffsets(img.height, img.width, h, w);
    return crop(img, top, left, h, w);
  }

  toString(): string {
    return `CenterCrop(size=(${this.size.join(", ")}))`;
  }
}
