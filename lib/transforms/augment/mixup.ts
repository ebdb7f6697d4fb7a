// MixUp and CutMix on batches, as torchvision 0.14's classification references
// (references/classification/transforms.py: RandomMixup, RandomCutmix) do
// them: each image paired with the batch rolled by one, the targets made
// one-hot and mixed by the same lambda. In float32 arithmetic, as torch's
// in-place mul_ and add_ on a float32 batch are.
import { checkInteger, checkNumber, invalid } from "../../check";
import { defaultGenerator, Generator } from "../../random";
import { checkTensor, tensor, Tensor } from "../../tensor";
import { pyFloat } from "../functional";
import { symmetricBeta } from "./sampling";

/** What a batch transform takes and gives: inputs [N, C, H, W] and int64 labels [N] in, soft targets [N, numClasses] out. */
export interface BatchTransform {
  forward(batch: Tensor, target: Tensor, generator?: Generator): Promise<[Tensor, Tensor]>;
}

export interface MixOptions {
  numClasses: number;
  /** The probability of mixing a batch at all (the references' default 0.5; their train.py passes 1.0). */
  p?: number;
  alpha?: number;
}

async function readBatch(batch: Tensor, target: Tensor, numClasses: number): Promise<{ x: Float32Array; y: Float32Array; n: number }> {
  checkTensor(batch, "batch");
  checkTensor(target, "target");
  if (batch.shape.length !== 4) throw new RangeError(`Batch ndim should be 4. Got ${batch.shape.length}`);
  if (target.shape.length !== 1) throw new RangeError(`Target ndim should be 1. Got ${target.shape.length}`);
  if (batch.dtype !== "float32") throw new TypeError(`Batch dtype should be float32. Got ${batch.dtype}`);
  if (target.dtype !== "int64") throw new TypeError(`Target dtype should be int64. Got ${target.dtype}`);
  const n = batch.shape[0];
  const labels = (await target.data()) as BigInt64Array;
  const y = new Float32Array(n * numClasses);
  labels.forEach((label, i) => {
    const k = Number(label);
    if (k < 0 || k >= numClasses) throw new RangeError(`Target ${k} is outside [0, ${numClasses - 1}] (numClasses ${numClasses})`);
    y[i * numClasses + k] = 1;
  });
  const x = Float32Array.from((await batch.data()) as Float32Array);
  return { x, y, n };
}

/** target.mul_(lambda).add_(target_rolled.mul_(1 - lambda)) along the first dimension, rows of `row` values, in float32. */
function mixRolled(values: Float32Array, n: number, lambda: number, row: number): Float32Array {
  const f = Math.fround, a = f(lambda), b = f(1.0 - lambda);
  const out = new Float32Array(values.length);
  for (let i = 0; i < n; i++) {
    const from = ((i - 1 + n) % n) * row;
    for (let k = 0; k < row; k++) out[i * row + k] = f(f(values[i * row + k] * a) + f(values[from + k] * b));
  }
  return out;
}

/** What MixUp and CutMix share: the one-hot targets, the draw of p and of lambda. */
export abstract class BatchMix implements BatchTransform {
  readonly numClasses: number;
  readonly p: number;
  readonly alpha: number;

  constructor(options: MixOptions) {
    if (typeof options !== "object" || options === null) throw invalid("options object with numClasses", "options", options);
    const { numClasses, p = 0.5, alpha = 1.0 } = options;
    this.numClasses = checkInteger(numClasses, "numClasses", 1);
    this.p = checkNumber(p, "p", { min: 0, max: 1 });
    if (!(checkNumber(alpha, "alpha") > 0)) throw invalid("positive number", "alpha", alpha);
    this.alpha = alpha;
  }

  async forward(batch: Tensor, target: Tensor, generator: Generator = defaultGenerator): Promise<[Tensor, Tensor]> {
    const { x, y, n } = await readBatch(batch, target, this.numClasses);
    if (generator.random() >= this.p) return [tensor(x, batch.shape), tensor(y, [n, this.numClasses])];
    const lambda = symmetricBeta(this.alpha, generator);
    return this.mix(x, y, batch.shape, lambda, generator);
  }

  /** The mix itself, for a given lambda (and, for CutMix, box centre); what forward() draws. */
  abstract mix(x: Float32Array, y: Float32Array, shape: number[], lambda: number, generator: Generator): [Tensor, Tensor];
}

export class MixUp extends BatchMix {
  mix(x: Float32Array, y: Float32Array, shape: number[], lambda: number): [Tensor, Tensor] {
    const n = shape[0];
    return [tensor(mixRolled(x, n, lambda, x.length / n), shape), tensor(mixRolled(y, n, lambda, this.numClasses), [n, this.numClasses])];
  }

  toString(): string {
    return `MixUp(num_classes=${this.numClasses}, p=${pyFloat(this.p)}, alpha=${pyFloat(this.alpha)})`;
  }
}

/** CutMix's box: centre (rx, ry) and half-sizes int(r * W), int(r * H) with r = sqrt(1 - lambda) / 2, clipped to the image. */
export function cutmixBox(lambda: number, height: number, width: number, rx: number, ry: number): [number, number, number, number] {
  const r = 0.5 * Math.sqrt(1.0 - lambda);
  const rw = Math.trunc(r * width), rh = Math.trunc(r * height);
  return [Math.max(rx - rw, 0), Math.max(ry - rh, 0), Math.min(rx + rw, width), Math.min(ry + rh, height)];
}

export class CutMix extends BatchMix {
  mix(x: Float32Array, y: Float32Array, shape: number[], lambda: number, generator: Generator): [Tensor, Tensor] {
    const [n, c, h, w] = shape;
    const rx = generator.randint(0, w - 1), ry = generator.randint(0, h - 1);
    return this.mixAt(x, y, shape, lambda, rx, ry, n, c, h, w);
  }

  /** The references' arithmetic for a given lambda and box centre. */
  mixAt(x: Float32Array, y: Float32Array, shape: number[], lambda: number, rx: number, ry: number, n = shape[0], c = shape[1], h = shape[2], w = shape[3]): [Tensor, Tensor] {
    const [x1, y1, x2, y2] = cutmixBox(lambda, h, w, rx, ry);
    const out = Float32Array.from(x);
    const plane = h * w;
    for (let i = 0; i < n; i++) {
      const from = (i - 1 + n) % n;
      for (let ch = 0; ch < c; ch++) {
        for (let yy = y1; yy < y2; yy++) {
          const dst = (i * c + ch) * plane + yy * w, src = (from * c + ch) * plane + yy * w;
          out.set(x.subarray(src + x1, src + x2), dst + x1);
        }
      }
    }
    const adjusted = 1.0 - ((x2 - x1) * (y2 - y1)) / (w * h);
    return [tensor(out, shape), tensor(mixRolled(y, n, adjusted, this.numClasses), [n, this.numClasses])];
  }

  toString(): string {
    return `CutMix(num_classes=${this.numClasses}, p=${pyFloat(this.p)}, alpha=${pyFloat(this.alpha)})`;
  }
}

/** torchvision's RandomChoice over batch transforms: one, chosen uniformly, per batch. */
export class RandomChoiceBatch implements BatchTransform {
  readonly transforms: BatchTransform[];

  constructor(transforms: BatchTransform[]) {
    if (!Array.isArray(transforms) || transforms.length === 0 || !transforms.every((t) => t && typeof t.forward === "function")) {
      throw invalid("non-empty array of batch transforms", "transforms", transforms);
    }
    this.transforms = [...transforms];
  }

  forward(batch: Tensor, target: Tensor, generator: Generator = defaultGenerator): Promise<[Tensor, Tensor]> {
    return this.transforms[generator.randint(0, this.transforms.length - 1)].forward(batch, target, generator);
  }

  toString(): string {
    return `RandomChoice(${this.transforms.join(", ")})`;
  }
}
