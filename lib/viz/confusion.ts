// Confusion matrix of a classifier on a BatchSource: counts[actual][predicted].
import { checkOptions, invalid } from "../check";
import { BatchSource } from "../train/trainModel";
import { checkBatchSource, checkModelLike, ModelLike, inEvalMode, predictBatches, resolveDevice } from "./predict";

export interface ConfusionOptions {
  /** Number of classes (default: the length of classNames, else the model's output width). */
  numClasses?: number;
  classNames?: string[];
  device?: string;
}

const CONFUSION_MATRIX_OPTIONS: Record<keyof ConfusionOptions, true> = { numClasses: true, classNames: true, device: true };

export interface ConfusionMatrix {
  /** counts[actual][predicted], as sklearn's confusion_matrix(y_true, y_pred). */
  counts: number[][];
  classNames: string[];
  total: number;
  correct: number;
}

export async function confusionMatrix(model: ModelLike, loader: BatchSource, options: ConfusionOptions = {}): Promise<ConfusionMatrix> {
  checkOptions(options, CONFUSION_MATRIX_OPTIONS, "confusionMatrix");
  checkModelLike(model);
  checkBatchSource(loader, "loader");
  const { classNames } = options;
  if (classNames !== undefined && (!Array.isArray(classNames) || !classNames.every((c) => typeof c === "string"))) {
    throw invalid("array of strings", "classNames", classNames);
  }
  let k = options.numClasses ?? classNames?.length;
  if (k !== undefined && (!Number.isInteger(k) || k < 1)) throw invalid("positive integer", "numClasses", k);
  const device = resolveDevice(options.device);
  const pairs: [number, number][] = [];
  await inEvalMode(model, async () => {
    for await (const batch of predictBatches(model, loader, device)) {
      k ??= batch.numClasses;
      batch.labels.forEach((actual, j) => pairs.push([actual, batch.predicted[j]]));
    }
  });
  const n = Math.max(k ?? 0, ...pairs.flat().map((v) => v + 1));
  const counts = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (const [actual, predicted] of pairs) {
    if (actual < 0) throw new RangeError(`a label is ${actual}; labels must be class indices`);
    counts[actual][predicted]++;
  }
  const names = Array.from({ length: n }, (_, i) => classNames?.[i] ?? String(i));
  return { counts, classNames: names, total: pairs.length, correct: pairs.filter(([a, p]) => a === p).length };
}
