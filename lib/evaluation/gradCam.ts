// Grad-CAM (Selvaraju et al., 2017): where a model looked for a class. The
// gradient of the class score with respect to the last convolutional stage's
// output A, averaged over each channel's positions, weights the channels;
// the map is the ReLU of the weighted sum, upsampled to the input's size.
//
// Every registered architecture follows that stage with global average
// pooling, p = mean over (h, w) of A, so dScore/dA[k, y, x] = dScore/dp[k] / (h w)
// at every position, and the channel weight, its mean over positions, is
// dScore/dp[k] / (h w). Autograd runs through the head alone, from p: the same
// numbers as hooking A, without a native hook. (Checked against a PyTorch hook
// on torchvision's resnet18 in __tests__/gradCam.test.ts.)
import { checkInteger, checkOptions, invalid } from "../check";
import { withGradEnabled, noGrad } from "../grad";
import { FeatureStages, getFeatureStages } from "../models/registry";
import { Linear } from "../nn/linear";
import { Module } from "../nn/module";
import { getRngState, setRngState } from "../runtime";
import { checkTensor, stack, tensor, Tensor } from "../tensor";

export interface GradCamOptions {
  /** The class to explain (default: the predicted one). */
  targetClass?: number;
}

export interface GradCamResult {
  /** The class explained, and its score (logit). */
  classIndex: number;
  score: number;
  /** The model's logits for the image. */
  logits: Float32Array;
  /** ReLU(sum over k of weights[k] * A[k]): height x width, row by row, not normalised. */
  map: Float32Array;
  height: number;
  width: number;
  /** Each channel's weight: the mean over positions of dScore/dA[k]. */
  weights: Float32Array;
}

/** Grad-CAM of one image, [3, H, W] or [1, 3, H, W], for a whole model of a registered architecture, in eval mode. */
export async function gradCam(model: Module, input: Tensor, options: GradCamOptions = {}): Promise<GradCamResult> {
  if (!(model instanceof Module)) throw invalid("Module", "model", model);
  const { targetClass } = checkOptions(options, { targetClass: true }, "gradCam");
  checkTensor(input, "input");
  if (!(input.shape.length === 3 || (input.shape.length === 4 && input.shape[0] === 1))) {
    throw new RangeError(`gradCam takes one image, [3, H, W] or [1, 3, H, W], got shape [${input.shape.join(", ")}]`);
  }
  const stages = getFeatureStages(model);
  const wasTraining = model.training;
  model.eval();
  const owned: Tensor[] = [];
  const keep = (t: Tensor) => (owned.push(t), t);
  try {
    const device = model.parameters()[0]?.device ?? "cpu";
    let x = input.shape.length === 3 ? keep(stack([input])) : input;
    if (x.device !== device) x = keep(x.to(device));
    const activation = await noGrad(() => runTo(model, stages, x, keep));
    const [, channels, height, width] = activation.shape;
    const pooled = keep(await noGrad(() => model.getSubmodule(stages.pool).forward(activation)));
    const pooledValues = (await readCpu(pooled, keep)) as Float32Array;
    const leaf = keep(tensor(Float32Array.from(pooledValues), stages.flatten ? [1, channels] : [1, channels, 1, 1]));
    leaf.requiresGrad = true;
    const head = model.getSubmodule(stages.head);
    const { logits, score, classIndex } = await withFrozen(head.parameters(), () =>
      withGradEnabled(true, async () => {
        const onDevice = device === "cpu" ? leaf : keep(leaf.to(device));
        const out = keep(await head.forward(onDevice));
        const values = Float32Array.from((await readCpu(out, keep)) as Float32Array);
        const k = values.length;
        const target = targetClass === undefined ? argmax(values) : checkInteger(targetClass, "targetClass", 0);
        if (target >= k) throw new RangeError(`targetClass must be below the model's ${k} classes, got ${target}`);
        // The class score as a one-element tensor: a Linear with the one-hot row as its weight.
        const selector = oneHotSelector(k, target, device, keep);
        const s = keep(await selector.forward(out));
        selector.dispose();
        await s.backward();
        return { logits: values, score: values[target], classIndex: target };
      }),
    );
    const grad = leaf.grad;
    if (!grad) throw new Error("gradCam: no gradient reached the pooled features");
    const g = (await keep(grad).data()) as Float32Array;
    const weights = Float32Array.from(g, (v) => v / (height * width));
    const a = (await readCpu(activation, keep)) as Float32Array;
    const plane = height * width;
    const map = new Float32Array(plane);
    for (let i = 0; i < plane; i++) {
      let sum = 0;
      for (let k = 0; k < channels; k++) sum += weights[k] * a[k * plane + i];
      map[i] = Math.max(0, sum);
    }
    return { classIndex, score, logits, map, height, width, weights };
  } finally {
    for (const t of owned) if (!t.isDisposed) t.dispose();
    model.train(wasTraining);
  }
}

/** The top-level children in order, up to and including the last convolutional stage. */
async function runTo(model: Module, stages: FeatureStages, x: Tensor, keep: (t: Tensor) => Tensor): Promise<Tensor> {
  for (const [name, child] of model.namedChildren()) {
    x = keep(await child.forward(x));
    if (name === stages.features) return x;
  }
  throw new Error(`the model has no ${stages.features} stage`);
}

async function readCpu(t: Tensor, keep: (t: Tensor) => Tensor) {
  return (t.device === "cpu" ? t : keep(t.to("cpu"))).data();
}

function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** Only the leaf takes gradients: the head's weights keep theirs as they were. */
async function withFrozen<T>(params: Tensor[], fn: () => Promise<T>): Promise<T> {
  const was = params.map((p) => p.requiresGrad);
  params.forEach((p) => (p.requiresGrad = false));
  try {
    return await fn();
  } finally {
    params.forEach((p, i) => (p.requiresGrad = was[i]));
  }
}

function oneHotSelector(k: number, target: number, device: string, keep: (t: Tensor) => Tensor): Linear {
  // A new Linear draws its initial weights: the caller's random stream must not move.
  const rng = getRngState();
  const selector = new Linear(k, 1, { bias: false });
  setRngState(rng);
  const row = new Float32Array(k);
  row[target] = 1;
  const [weight] = selector.parameters();
  weight.requiresGrad = false;
  weight.copy_(keep(tensor(row, [1, k])));
  selector.to(device);
  return selector;
}

/**
 * F.interpolate(map, size, mode="bilinear", align_corners=False) of one
 * height x width plane, as PyTorch computes the source positions.
 */
export function upsampleBilinear(map: Float32Array, height: number, width: number, outHeight: number, outWidth: number): Float32Array {
  const out = new Float32Array(outHeight * outWidth);
  const axis = (size: number, outSize: number) =>
    Array.from({ length: outSize }, (_, i) => {
      const src = Math.max(0, (size / outSize) * (i + 0.5) - 0.5);
      const i0 = Math.floor(src);
      const i1 = i0 < size - 1 ? i0 + 1 : i0;
      return { i0, i1, t: src - i0 };
    });
  const ys = axis(height, outHeight);
  const xs = axis(width, outWidth);
  for (let y = 0; y < outHeight; y++) {
    const { i0: y0, i1: y1, t: ty } = ys[y];
    for (let x = 0; x < outWidth; x++) {
      const { i0: x0, i1: x1, t: tx } = xs[x];
      const top = (1 - tx) * map[y0 * width + x0] + tx * map[y0 * width + x1];
      const bottom = (1 - tx) * map[y1 * width + x0] + tx * map[y1 * width + x1];
      out[y * outWidth + x] = (1 - ty) * top + ty * bottom;
    }
  }
  return out;
}
