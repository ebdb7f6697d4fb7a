// The tutorial's train_model: train then val each epoch, the scheduler stepped
// after the train phase (or after every training batch, for per-batch
// schedules such as OneCycleLR), the best val accuracy's weights kept and
// restored at the end.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkOptions, invalid } from "../check";
import { checkDevice, defaultDevice } from "../device";
import { noGrad, withGradEnabled } from "../grad";
import { CrossEntropyLoss } from "../nn/loss";
import { Module, StateDict } from "../nn/module";
import { LRScheduler, StepsPer } from "../optim/lrScheduler";
import { Optimizer } from "../optim/optimizer";
import { ReduceLROnPlateau } from "../optim/reduceLROnPlateau";
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
  /**
   * When the scheduler steps: "batch" after every training batch (OneCycleLR's
   * default; also a warm-up counted in batches), "epoch" after each training
   * phase (every other scheduler's default). ReduceLROnPlateau steps once per
   * epoch, after the val phase, with `plateauMetric`.
   */
  schedulerStepsPer?: StepsPer;
  /** What ReduceLROnPlateau watches: the val loss (default, for mode "min") or the val accuracy (for mode "max"). */
  plateauMetric?: "valLoss" | "valAcc";
  /** Continue a run: the epoch to start at, and what the earlier epochs gave. */
  resume?: { startEpoch: number; bestAcc: number; bestWeights: StateDict | null; history: EpochRecord[] };
}

const TRAIN_OPTIONS: Record<keyof TrainOptions, true> = {
  dataloaders: true, numEpochs: true, device: true, onEpoch: true, onBatch: true, onEpochEnd: true, bestPath: true, bestMetadata: true, signal: true, resume: true,
  schedulerStepsPer: true, plateauMetric: true,
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
  optimizer: Optimizer,
  scheduler: LRScheduler | ReduceLROnPlateau | null,
  options: TrainOptions,
): Promise<TrainResult<M>> {
  if (!(model instanceof Module)) throw invalid("Module", "model", model);
  if (!(criterion instanceof CrossEntropyLoss)) throw invalid("CrossEntropyLoss", "criterion", criterion);
  if (!(optimizer instanceof Optimizer)) throw invalid("Optimizer (SGD, Adam or AdamW)", "optimizer", optimizer);
  if (scheduler !== null && !(scheduler instanceof LRScheduler) && !(scheduler instanceof ReduceLROnPlateau)) {
    throw invalid("learning-rate scheduler or null", "scheduler", scheduler);
  }
  if (scheduler !== null && scheduler.optimizer !== optimizer) throw new Error("the scheduler was made for another optimizer than trainModel's");
  if (options === undefined) throw invalid("options object with dataloaders", "options", options);
  const { dataloaders, numEpochs = 25, onEpoch, onBatch, onEpochEnd, signal, resume } = checkOptions(options, TRAIN_OPTIONS, "trainModel");
  const stepsPer = options.schedulerStepsPer ?? scheduler?.defaultStepsPer ?? "epoch";
  if (stepsPer !== "batch" && stepsPer !== "epoch") throw invalid('"batch" or "epoch"', "schedulerStepsPer", stepsPer);
  if (stepsPer === "batch" && scheduler instanceof ReduceLROnPlateau) throw invalid('"epoch" for ReduceLROnPlateau', "schedulerStepsPer", stepsPer);
  const plateauMetric = options.plateauMetric ?? "valLoss";
  if (plateauMetric !== "valLoss" && plateauMetric !== "valAcc") throw invalid('"valLoss" or "valAcc"', "plateauMetric", plateauMetric);
  const batchScheduler = stepsPer === "batch" ? (scheduler as LRScheduler) : null;
  if (!dataloaders || !dataloaders.train || !dataloaders.val) throw invalid("{ train, val } data loaders", "dataloaders", dataloaders);
  if (!Number.isInteger(numEpochs) || numEpochs < 1) throw invalid("positive integer", "numEpochs", numEpochs);
  const device = checkDevice(options.device ?? defaultDevice());

  const bestPath = options.bestPath ?? path.join(fs.mkdtempSync(path.join(os.tmpdir(), "torch-transfer-")), "best_model_params.safetensors");
  const { save } = await import("../serialization");
  const history: EpochRecord[] = resume ? resume.history.slice() : [];
  let bestAcc = resume?.bestAcc ?? 0;
  let bestWeights = resume?.bestWeights ? cloneStateDict(resume.bestWeights) : cloneStateDict(model.stateDict());
  // Always safetensors, which keeps the metadata, even under a .pt name such as the tutorial's.
  const saveBest = () => save(bestWeights, bestPath, { ...options.bestMetadata, bestValAcc: String(bestAcc) }, { format: "safetensors" });
  if (!resume?.bestWeights) await saveBest();

  try {
    for (let epoch = resume?.startEpoch ?? 0; epoch < numEpochs; epoch++) {
      for (const phase of ["train", "val"] as const) {
        const record = await runPhase(model, optimizer, dataloaders[phase], phase, epoch, device, onBatch, signal, history.length / 2, batchScheduler);
        if (phase === "train" && scheduler instanceof LRScheduler && !batchScheduler) scheduler.step();
        if (phase === "val" && scheduler instanceof ReduceLROnPlateau) scheduler.step(plateauMetric === "valLoss" ? record.loss : record.acc);
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
  optimizer: Optimizer,
  loader: BatchSource,
  phase: Phase,
  epoch: number,
  device: string,
  onBatch: TrainOptions["onBatch"],
  signal: AbortSignal | undefined,
  completedEpochs: number,
  batchScheduler: LRScheduler | null = null,
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
      // One crossing per batch: forward, loss, backward and the optimizer step in C++.
      const { loss, correct } = await withGradEnabled(phase === "train", () =>
        model.runBatch(phase === "train" ? optimizer.native : null, onDevice[0], onDevice[1], phase === "train"),
      );
      runningLoss += loss * n;
      corrects += correct;
      images += n;
      batch++;
      // The new learning rate is posted behind this batch's step, so the next batch uses it.
      if (phase === "train") batchScheduler?.step();
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
    const r = await noGrad(() => runPhase(model, null as unknown as Optimizer, loader, "val", 0, checkDevice(device), undefined, undefined, 0));
    return { loss: r.loss, acc: r.acc, images: r.images };
  } finally {
    model.train(wasTraining);
  }
}
