// Test-time augmentation as fastai and torchvision's references do the
// simplest kind: the mean of the softmax over an image and its mirror image.
import { checkTensor, tensor, Tensor } from "../tensor";

/** A [..., H, W] float tensor mirrored left to right (torchvision's F.hflip on a tensor). */
export async function hflip(input: Tensor): Promise<Tensor> {
  checkTensor(input, "input");
  if (input.shape.length < 2) throw new RangeError(`hflip needs a tensor of at least 2 dimensions, got shape [${input.shape.join(", ")}]`);
  const onCpu = input.device === "cpu" ? input : input.to("cpu");
  try {
    const values = await onCpu.data();
    const src = values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
    const w = input.shape[input.shape.length - 1];
    const out = new Float32Array(src.length);
    for (let row = 0; row < src.length; row += w) for (let x = 0; x < w; x++) out[row + x] = src[row + w - 1 - x];
    const flipped = tensor(out, input.shape.slice());
    if (input.device === "cpu") return flipped;
    const moved = flipped.to(input.device);
    flipped.dispose();
    return moved;
  } finally {
    if (onCpu !== input) onCpu.dispose();
  }
}

/** Row-wise softmax of [rows, cols] logits, in float64 then rounded to float32. */
export function softmaxRows(logits: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let max = -Infinity;
    for (let k = 0; k < cols; k++) max = Math.max(max, logits[r * cols + k]);
    let sum = 0;
    for (let k = 0; k < cols; k++) sum += Math.exp(logits[r * cols + k] - max);
    for (let k = 0; k < cols; k++) out[r * cols + k] = Math.exp(logits[r * cols + k] - max) / sum;
  }
  return out;
}

/** The mean of two probability arrays, element by element (the image's and its mirror's). */
export function meanOf(a: Float32Array, b: Float32Array): Float32Array {
  return a.map((v, i) => (v + b[i]) / 2);
}
