// Every sample of a data set through a model in eval mode, in the data set's
// order: its label, the class probabilities (with --tta the mean over the image
// and its mirror) and its loss, for metrics and fastai's top losses.
import { checkBoolean, checkInteger, checkOptions, invalid } from "../check";
import { DataLoader, Dataset } from "../data/dataLoader";
import { checkDevice } from "../device";
import { Module } from "../nn/module";
import { Tensor } from "../tensor";
import { hflip, meanOf, softmaxRows } from "./tta";

export interface PredictDatasetOptions {
  batchSize?: number;
  numWorkers?: number;
  device?: string;
  /** Average the softmax over each image and its horizontal flip. */
  tta?: boolean;
}

export interface SamplePrediction {
  /** The sample's index in the data set. */
  index: number;
  label: number;
  predicted: number;
  /** Softmax probabilities, one per class. */
  probabilities: Float32Array;
  /** Cross-entropy of the probabilities against the label: -log p[label]. */
  loss: number;
}

const OPTIONS: Record<keyof PredictDatasetOptions, true> = { batchSize: true, numWorkers: true, device: true, tta: true };

export async function predictDataset(model: Module, dataset: Dataset, options: PredictDatasetOptions = {}): Promise<SamplePrediction[]> {
  if (!(model instanceof Module)) throw invalid("Module", "model", model);
  const { batchSize = 16, numWorkers, device = "cpu", tta = false } = checkOptions(options, OPTIONS, "predictDataset");
  checkInteger(batchSize, "batchSize", 1);
  checkBoolean(tta, "tta");
  checkDevice(device);
  const loader = new DataLoader(dataset, { batchSize, shuffle: false, numWorkers });
  const out: SamplePrediction[] = [];
  const wasTraining = model.training;
  model.eval();
  try {
    for await (const [inputs, labels] of loader) {
      const owned: Tensor[] = [inputs, labels];
      try {
        const probabilities = async (x: Tensor) => {
          const onDevice = device === "cpu" ? x : x.to(device);
          if (onDevice !== x) owned.push(onDevice);
          const logits = await model.inferenceForward(onDevice);
          owned.push(logits);
          const onCpu = logits.device === "cpu" ? logits : logits.to("cpu");
          if (onCpu !== logits) owned.push(onCpu);
          return softmaxRows((await onCpu.data()) as Float32Array, logits.shape[0], logits.shape[1]);
        };
        let probs = await probabilities(inputs);
        if (tta) {
          const flipped = await hflip(inputs);
          owned.push(flipped);
          probs = meanOf(probs, await probabilities(flipped));
        }
        const labelList = Array.from((await labels.data()) as BigInt64Array, Number);
        const k = probs.length / labelList.length;
        labelList.forEach((label, j) => {
          const row = probs.slice(j * k, (j + 1) * k);
          let predicted = 0;
          for (let c = 1; c < k; c++) if (row[c] > row[predicted]) predicted = c;
          out.push({ index: out.length, label, predicted, probabilities: row, loss: -Math.log(row[label]) });
        });
      } finally {
        for (const t of owned) if (!t.isDisposed) t.dispose();
      }
    }
  } finally {
    model.train(wasTraining);
  }
  return out;
}

/** fastai's top_losses: the `k` samples with the highest loss, highest first (ties by index). */
export function topLosses(predictions: SamplePrediction[], k: number): SamplePrediction[] {
  checkInteger(k, "k", 0);
  return predictions.slice().sort((a, b) => b.loss - a.loss || a.index - b.index).slice(0, k);
}
