// The tutorial's train_model: train then val each epoch, StepLR after the train
// phase, the best val accuracy's weights kept and restored at the end.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkOptions, invalid } from "../check";
import { checkDevice, defaultDevice } from "../device";
import { noGrad, withGradEnabled } from "../grad";
import { CrossEntropyLoss } from "../nn/loss";
import { Module, StateDict } from "../nn/module";
import { SGD } from "../optim/sgd";
import { StepLR } from "../optim/stepLR";
import { Tensor } from "../tensor";
import { cloneStateDict, disposeStateDict } from "./stateDicts";

export type Phase = "train" | "val";

export interface EpochRecord {
  epoch: number;
  phase: Phase;
  loss: number;
  acc: number;
  seconds: number;
  images: number;
}

/** What a DataLoader gives: batches of float inputs and int64 labels, and how many batches. */
export interface BatchSource {
  [Symbol.asyncIterator](): AsyncIterator<[Tensor, Tensor]>;
  readonly length?: number;
}

export interface TrainOptions {
  dataloaders: { train: BatchSource; val: BatchSource };
  numEpochs?: number;
  device?: string;
  /** Called after each phase of each epoch. */
  onEpoch?: (record: EpochRecord) => void | Promise<void>;
  /** Called after each batch, with the phase's running figures. */
  onBatch?: (progress: { epoch: number; phase: Phase; batch: number; images: number; loss: number }) => void;
  /** Called after each whole epoch, with what a resumable checkpoint needs. */
  onEpochEnd?: (state: TrainState) => void | Promise<void>;
  /** Where the best weights are written as training goes (safetensors); a temporary folder by default. */
  bestPath?: string;
  /** safetensors metadata written with the best weights (class names, settings). */
  bestMetadata?: Record<string, string>;
  /** Stops after the current batch; trainModel then rejects with a TrainingInterrupted. */
  signal?: AbortSignal;
  /** Continue a run: the epoch to start at, and what the earlier epochs gave. */
  resume?: { startEpoch: number; bestAcc: number; bestWeights: StateDict | null; history: EpochRecord[] };
}

const TRAIN_OPTIONS: Record<keyof TrainOptions, true> = {
  dataloaders: true, numEpochs: true, device: true, onEpoch: true, onBatch: true, onEpochEnd: true, bestPath: true, bestMetadata: true, signal: true, resume: true,
};

export interface TrainState {
  epoch: number; // the epoch just finished
  bestAcc: number;
  bestWeights: StateDict;
  history: EpochRecord[];
}

export interface TrainResult<M extends Module> {
  model: M;
  bestAcc: number;
  history: EpochRecord[];
  bestPath: string;
}

export class TrainingInterrupted extends Error {
  constructor(readonly epoch: number, readonly completedEpochs: number) {
    super(`training interrupted during epoch ${epoch}; ${completedEpochs} epoch(s) completed`);
    this.name = "TrainingInterrupted";
  }
}

export async function trainModel<M extends Module>(
  model: M,
  criterion: CrossEntropyLoss,
  optimizer: SGD,
  scheduler: StepLR | null,
  options: TrainOptions,
): Promise<TrainResult<M>> {
  if (!(model instanceof Module)) throw invalid("Module", "model", model);
  if (!(criterion instanceof CrossEntropyLoss)) throw invalid("CrossEntropyLoss", "criterion", criterion);
  if (!(optimizer instanceof SGD)) throw invalid("SGD", "optimizer", optimizer);
  if (scheduler !== null && !(scheduler instanceof StepLR)) throw invalid("StepLR or null", "scheduler", scheduler);
  if (options === undefined) throw invalid("options object with dataloaders", "options", options);
  const { dataloaders, numEpochs = 25, onEpoch, onBatch, onEpochEnd, signal, resume } = checkOptions(options, TRAIN_OPTIONS, "trainModel");
  if (!dataloaders || !dataloaders.train || !dataloaders.val) throw invalid("{ train, val } data loaders", "dataloaders", dataloaders);
  if (!Number.isInteger(numEpochs) || numEpochs < 1) throw invalid("positive integer", "numEpochs", numEpochs);
  const device = checkDevice(options.device ?? defaultDevice());

  const bestPath = options.bestPath ?? path.join(fs.mkdtempSync(path.join(os.tmpdir(), "torch-transfer-")), "best_model_params.safetensors");
  const { save } = await import("../serialization");
  const history: EpochRecord[] = resume ? resume.history.slice() : [];
  let bestAcc = resume?.bestAcc ?? 0;
  let bestWeights = resume?.bestWeights ? cloneStateDict(resume.bestWeights) : cloneStateDict(model.stateDict());
  const saveBest = () => save(bestWeights, bestPath, { ...options.bestMetadata, bestValAcc: String(bestAcc) });
  if (!resume?.bestWeights) await saveBest();

  try {
    for (let epoch = resume?.startEpoch ?? 0; epoch < numEpochs; epoch++) {
      for (const phase of ["train", "val"] as const) {
        const record = await runPhase(model, optimizer, dataloaders[phase], phase, epoch, device, onBatch, signal, history.length / 2);
        if (phase === "train" && scheduler) scheduler.step();
        history.push(record);
        if (phase === "val" && record.acc > bestAcc) {
          bestAcc = record.acc;
          disposeStateDict(bestWeights);
          bestWeights = cloneStateDict(model.stateDict());
          await saveBest();
        }
        await onEpoch?.(record);
      }
      await onEpochEnd?.({ epoch, bestAcc, bestWeights, history: history.slice() });
    }
    model.loadStateDict(bestWeights);
  } finally {
    disposeStateDict(bestWeights);
  }
  return { model, bestAcc, history, bestPath };
}

async function runPhase(
  model: Module,
  optimizer: SGD,
  loader: BatchSource,
  phase: Phase,
  epoch: number,
  device: string,
  onBatch: TrainOptions["onBatch"],
  signal: AbortSignal | undefined,
  completedEpochs: number,
): Promise<EpochRecord> {
  model.train(phase === "train");
  const started = process.hrtime.bigint();
  let runningLoss = 0;
  let corrects = 0;
  let images = 0;
  let batch = 0;
  for await (const [inputs, labels] of loader) {
    const n = inputs.shape[0];
    const onDevice = device === "cpu" ? [inputs, labels] : [inputs.to(device), labels.to(device)];
    try {
      // One crossing per batch: forward, loss, backward and the SGD step in C++.
      const { loss, correct } = await withGradEnabled(phase === "train", () =>
        model.runBatch(phase === "train" ? optimizer.native : null, onDevice[0], onDevice[1], phase === "train"),
      );
      runningLoss += loss * n;
      corrects += correct;
      images += n;
      batch++;
      onBatch?.({ epoch, phase, batch, images, loss: runningLoss / images });
    } finally {
      if (device !== "cpu") onDevice.forEach((t) => t.dispose());
      inputs.dispose();
      labels.dispose();
    }
    if (signal?.aborted) throw new TrainingInterrupted(epoch, Math.floor(completedEpochs));
  }
  [runningLoss, corrects, images] = await model.reduceTotals([runningLoss, corrects, images]);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (images === 0) throw new Error(`the ${phase} data loader gave no batches`);
  return { epoch, phase, loss: runningLoss / images, acc: corrects / images, seconds, images };
}

/** Evaluates `model` on `loader` without training, as the val phase does. */
export async function evaluate(model: Module, loader: BatchSource, device = "cpu"): Promise<{ loss: number; acc: number; images: number }> {
  const wasTraining = model.training;
  try {
    const r = await noGrad(() => runPhase(model, null as unknown as SGD, loader, "val", 0, checkDevice(device), undefined, undefined, 0));
    return { loss: r.loss, acc: r.acc, images: r.images };
  } finally {
    model.train(wasTraining);
  }
}
