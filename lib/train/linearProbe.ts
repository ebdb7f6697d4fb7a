// --cache-features: a linear probe. The frozen backbone runs once per image, in
// eval mode and without augmentation; fc then trains on the cached features.
// This is not the tutorial's feature extraction: there every epoch sees new
// random crops and flips, and BatchNorm's running statistics keep adapting to
// the new data set (the backbone runs in train mode); here both are given up
// for a run that is many times faster.
import { DataLoader } from "../data/dataLoader";
import { Dataset } from "../data/dataLoader";
import { noGrad } from "../grad";
import { Generator as RandomGenerator } from "../random";
import { addon } from "../native";
import { invalid } from "../check";
import { Linear } from "../nn/linear";
import { CrossEntropyLoss } from "../nn/loss";
import { LRScheduler } from "../optim/lrScheduler";
import { Optimizer } from "../optim/optimizer";
import { Module } from "../nn/module";
import { tensor, Tensor } from "../tensor";
import { cloneStateDict, disposeStateDict } from "./stateDicts";
import { EpochRecord, Phase } from "./trainModel";

export interface FeatureSet {
  features: Float32Array; // N x dim
  labels: number[];
  dim: number;
}

/** Runs `model`'s backbone over a data set once, in eval mode. */
export async function extractFeatures(model: Module, dataset: Dataset, { batchSize = 32, numWorkers, device = "cpu" }: { batchSize?: number; numWorkers?: number; device?: string }): Promise<FeatureSet> {
  const wasTraining = model.training;
  model.eval();
  const chunks: Float32Array[] = [];
  const labels: number[] = [];
  let dim = 0;
  try {
    for await (const [inputs, targets] of new DataLoader(dataset, { batchSize, shuffle: false, numWorkers })) {
      const x = device === "cpu" ? inputs : inputs.to(device);
      const f = await noGrad(() => model.native.features(x, false));
      dim = f.shape[1];
      chunks.push((await f.data()) as Float32Array);
      for (const v of (await targets.data()) as BigInt64Array) labels.push(Number(v));
      f.dispose();
      if (x !== inputs) x.dispose();
      inputs.dispose();
      targets.dispose();
    }
  } finally {
    model.train(wasTraining);
  }
  const features = new Float32Array(labels.length * dim);
  let offset = 0;
  for (const c of chunks) {
    features.set(c, offset);
    offset += c.length;
  }
  return { features, labels, dim };
}

/** Mini-batches of cached features, reshuffled each epoch with a seeded generator. */
function* batches(set: FeatureSet, batchSize: number, shuffle: boolean, generator: RandomGenerator): Generator<[Tensor, Tensor]> {
  const order = shuffle ? generator.permutation(set.labels.length) : set.labels.map((_, i) => i);
  for (let start = 0; start < order.length; start += batchSize) {
    const idx = order.slice(start, start + batchSize);
    const x = new Float32Array(idx.length * set.dim);
    idx.forEach((i, k) => x.set(set.features.subarray(i * set.dim, (i + 1) * set.dim), k * set.dim));
    yield [tensor(x, [idx.length, set.dim]), tensor(BigInt64Array.from(idx, (i) => BigInt(set.labels[i])))];
  }
}

/**
 * train_model's loop over cached features: the best val accuracy's fc is kept
 * and restored. `criterion` is applied as trainModel's fused step applies it
 * (weight, labelSmoothing, reduction), in both phases.
 */
export async function trainLinearProbe(
  fc: Linear,
  criterion: CrossEntropyLoss,
  optimizer: Optimizer,
  scheduler: LRScheduler | null,
  data: { train: FeatureSet; val: FeatureSet },
  { numEpochs, batchSize, seed = 0, onEpoch }: { numEpochs: number; batchSize: number; seed?: number; onEpoch?: (r: EpochRecord) => void },
): Promise<{ bestAcc: number; history: EpochRecord[] }> {
  if (!(criterion instanceof CrossEntropyLoss)) throw invalid("CrossEntropyLoss", "criterion", criterion);
  if (criterion.reduction === "none") throw invalid('a criterion with reduction "mean" or "sum"', "criterion", criterion.toString());
  const generator = new RandomGenerator(seed);
  const history: EpochRecord[] = [];
  let bestAcc = 0;
  let best = cloneStateDict(fc.stateDict());
  try {
    for (let epoch = 0; epoch < numEpochs; epoch++) {
      for (const phase of ["train", "val"] as Phase[]) {
        const started = process.hrtime.bigint();
        const set = data[phase];
        let loss = 0;
        let correct = 0;
        for (const [x, y] of batches(set, batchSize, phase === "train", generator)) {
          const r = await addon.trainStep(fc.native, phase === "train" ? optimizer.native : null, x, y, phase === "train", criterion.nativeOptions);
          if (phase === "train" && scheduler?.defaultStepsPer === "batch") scheduler.step();
          loss += r.loss * x.shape[0];
          correct += r.correct;
          x.dispose();
          y.dispose();
        }
        if (phase === "train" && scheduler && scheduler.defaultStepsPer === "epoch") scheduler.step();
        const n = set.labels.length;
        const record = { epoch, phase, loss: loss / n, acc: correct / n, seconds: Number(process.hrtime.bigint() - started) / 1e9, images: n };
        history.push(record);
        if (phase === "val" && record.acc > bestAcc) {
          bestAcc = record.acc;
          disposeStateDict(best);
          best = cloneStateDict(fc.stateDict());
        }
        onEpoch?.(record);
      }
    }
    fc.loadStateDict(best);
  } finally {
    disposeStateDict(best);
  }
  return { bestAcc, history };
}
