// Running a classifier over a BatchSource in eval mode without gradients, as
// the tutorial's visualize_model does; shared by the predictions picture and
// the confusion matrix.
import { invalid } from "../check";
import { checkDevice, defaultDevice } from "../device";
import { noGrad } from "../grad";
import { Tensor } from "../tensor";
import { BatchSource } from "../train/trainModel";

/** What visualizeModel needs of a model: an nn.Module (a ResNet), or anything shaped like one. */
export interface ModelLike {
  readonly training: boolean;
  train(mode?: boolean): unknown;
  eval(): unknown;
  forward(input: Tensor): Promise<Tensor>;
}

export interface PredictedBatch {
  /** The batch's inputs, on the CPU side as given; valid until the next batch is asked for. */
  inputs: Tensor;
  labels: number[];
  predicted: number[];
  numClasses: number;
}

export function checkModelLike(model: unknown, name = "model"): ModelLike {
  const m = model as ModelLike;
  if (typeof m !== "object" || m === null || typeof m.forward !== "function" || typeof m.train !== "function" || typeof m.eval !== "function") {
    throw invalid("Module (with forward, train and eval)", name, model);
  }
  return m;
}

export function checkBatchSource(loader: unknown, name: string): BatchSource {
  if (typeof loader !== "object" || loader === null || typeof (loader as BatchSource)[Symbol.asyncIterator] !== "function") {
    throw invalid("DataLoader (an async iterable of [inputs, labels])", name, loader);
  }
  return loader as BatchSource;
}

export function resolveDevice(device: unknown): string {
  return device === undefined ? defaultDevice() : checkDevice(device);
}

/** Runs `fn` with the model in eval mode and gradients off; the model's mode is restored afterwards, even on error. */
export async function inEvalMode<T>(model: ModelLike, fn: () => Promise<T>): Promise<T> {
  const wasTraining = model.training;
  model.eval();
  try {
    return await noGrad(fn);
  } finally {
    model.train(wasTraining);
  }
}

/** The index of the largest value of each row of a [B, K] array (the first one on ties, as torch.max gives). */
export function argmaxRows(values: ArrayLike<number>, rows: number, cols: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let k = 1; k < cols; k++) if (values[r * cols + k] > values[r * cols + best]) best = k;
    out.push(best);
  }
  return out;
}

/** Yields each batch with its labels and predicted classes; call inside inEvalMode. Disposes each batch after use. */
export async function* predictBatches(model: ModelLike, loader: BatchSource, device: string): AsyncGenerator<PredictedBatch> {
  for await (const [inputs, labels] of loader) {
    const owned: Tensor[] = [];
    try {
      const x = inputs.device === device ? inputs : track(owned, inputs.to(device));
      const logits = track(owned, await model.forward(x));
      if (logits.shape.length !== 2 || logits.shape[0] !== inputs.shape[0]) {
        throw new RangeError(`the model gave outputs of shape [${logits.shape.join(", ")}] for a batch of ${inputs.shape[0]}; expected [${inputs.shape[0]}, classes]`);
      }
      const onCpu = logits.device === "cpu" ? logits : track(owned, logits.to("cpu"));
      const [rows, cols] = logits.shape;
      const predicted = argmaxRows((await onCpu.data()) as ArrayLike<number>, rows, cols);
      const labelValues = await labels.data();
      const labelList = Array.from(labelValues as ArrayLike<number | bigint>, Number);
      if (labelList.length !== rows) throw new RangeError(`a batch has ${rows} inputs but ${labelList.length} labels`);
      yield { inputs, labels: labelList, predicted, numClasses: cols };
    } finally {
      for (const t of owned) t.dispose();
      if (!inputs.isDisposed) inputs.dispose();
      if (!labels.isDisposed) labels.dispose();
    }
  }
}

function track(owned: Tensor[], t: Tensor): Tensor {
  owned.push(t);
  return t;
}
