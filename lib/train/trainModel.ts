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
import { AmpPlan, ampPlan } from "../amp/plan";
import { GradScaler } from "../amp/gradScaler";
import { probeLayouts } from "../layoutProbe";
import { NativeAmpOptions } from "../native";

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
  /**
   * Stop once the val accuracy has not beaten the best for this many epochs in a
   * row (Keras' and Lightning's patience); the best weights are restored as
   * always. Counted from the history, so a resumed run keeps its count.
   */
  earlyStopping?: { patience: number };
  /**
   * Called before each epoch; may return another optimizer and scheduler to
   * train with from this epoch on (a frozen-backbone phase, then everything,
   * as fastai's fine_tune does).
   */
  beforeEpoch?: (epoch: number) => void | OptimizerSwap | Promise<void | OptimizerSwap>;
  /**
   * Mixed precision: on CUDA, float16 autocast with a GradScaler
   * (torch.cuda.amp); on CPU, bfloat16 autocast where the CPU has AVX512_BF16
   * or AMX, else float32 with a warning. An AmpPlan (tt.amp.ampPlan) says
   * exactly what to run, with no warning.
   */
  amp?: boolean | AmpPlan;
  /** The GradScaler amp uses on CUDA (one is made when absent); keep it to save its state with a checkpoint. */
  gradScaler?: GradScaler;
  /** Continue a run: the epoch to start at, and what the earlier epochs gave. */
  resume?: { startEpoch: number; bestAcc: number; bestWeights: StateDict | null; history: EpochRecord[] };
}

const TRAIN_OPTIONS: Record<keyof TrainOptions, true> = {
  dataloaders: true, numEpochs: true, device: true, onEpoch: true, onBatch: true, onEpochEnd: true, bestPath: true, bestMetadata: true, signal: true, resume: true,
  schedulerStepsPer: true, plateauMetric: true, earlyStopping: true, beforeEpoch: true, amp: true, gradScaler: true,
};

export interface OptimizerSwap {
  optimizer: Optimizer;
  scheduler: LRScheduler | ReduceLROnPlateau | null;
}

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
  /** Set when earlyStopping ended the run: the last epoch trained, and the val accuracy's epochs without improvement. */
  stoppedEarly?: { epoch: number; epochsWithoutImprovement: number };
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
  // The tutorial's running loss multiplies each batch's loss by its size: a per-sample loss has no single value.
  if (criterion.reduction === "none") throw invalid('a criterion with reduction "mean" or "sum"', "criterion", criterion.toString());
  if (options === undefined) throw invalid("options object with dataloaders", "options", options);
  const { dataloaders, numEpochs = 25, onEpoch, onBatch, onEpochEnd, signal, resume, beforeEpoch } = checkOptions(options, TRAIN_OPTIONS, "trainModel");
  if (beforeEpoch !== undefined && typeof beforeEpoch !== "function") throw invalid("function", "beforeEpoch", beforeEpoch);
  const plateauMetric = options.plateauMetric ?? "valLoss";
  if (plateauMetric !== "valLoss" && plateauMetric !== "valAcc") throw invalid('"valLoss" or "valAcc"', "plateauMetric", plateauMetric);
  let batchScheduler = checkSchedule(optimizer, scheduler, options.schedulerStepsPer);
  if (!dataloaders || !dataloaders.train || !dataloaders.val) throw invalid("{ train, val } data loaders", "dataloaders", dataloaders);
  if (!Number.isInteger(numEpochs) || numEpochs < 1) throw invalid("positive integer", "numEpochs", numEpochs);
  const device = checkDevice(options.device ?? defaultDevice());
  const patience = checkPatience(options.earlyStopping);
  const amp = resolveAmp(options.amp, options.gradScaler, device);
  // The val phase's fast eval form may use oneDNN's layouts once the probe says so; it runs meanwhile.
  const layoutsProbed = probeLayouts();

  const bestPath = options.bestPath ?? path.join(fs.mkdtempSync(path.join(os.tmpdir(), "torch-transfer-")), "best_model_params.safetensors");
  const { save } = await import("../serialization");
  const history: EpochRecord[] = resume ? resume.history.slice() : [];
  let bestAcc = resume?.bestAcc ?? 0;
  let bestWeights = resume?.bestWeights ? cloneStateDict(resume.bestWeights) : cloneStateDict(model.stateDict());
  // Always safetensors, which keeps the metadata, even under a .pt name such as the tutorial's.
  const saveBest = () => save(bestWeights, bestPath, { ...options.bestMetadata, bestValAcc: String(bestAcc) }, { format: "safetensors" });
  if (!resume?.bestWeights) await saveBest();

  let stoppedEarly: TrainResult<M>["stoppedEarly"];
  const shouldStop = () => {
    const stale = epochsWithoutImprovement(history);
    if (patience === undefined || stale < patience) return false;
    stoppedEarly = { epoch: history[history.length - 1].epoch, epochsWithoutImprovement: stale };
    return true;
  };
  try {
    for (let epoch = resume?.startEpoch ?? 0; epoch < numEpochs && !shouldStop(); epoch++) {
      const swap = await beforeEpoch?.(epoch);
      if (swap) {
        if (typeof swap !== "object") throw invalid("{ optimizer, scheduler } or nothing", "what beforeEpoch returned", swap);
        batchScheduler = checkSchedule(swap.optimizer, swap.scheduler, options.schedulerStepsPer);
        ({ optimizer, scheduler } = swap);
      }
      for (const phase of ["train", "val"] as const) {
        if (phase === "val") await layoutsProbed;
        const record = await runPhase(model, criterion, optimizer, dataloaders[phase], phase, epoch, device, onBatch, signal, history.length / 2, batchScheduler, amp);
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
  return { model, bestAcc, history, bestPath, ...(stoppedEarly ? { stoppedEarly } : {}) };
}

/** What each step runs under for trainModel's amp and gradScaler options. */
function resolveAmp(option: TrainOptions["amp"], scaler: GradScaler | undefined, device: string): NativeAmpOptions | null {
  if (scaler !== undefined && !(scaler instanceof GradScaler)) throw invalid("GradScaler", "gradScaler", scaler);
  if (option === undefined || option === false) return null;
  if (option === true) {
    const plan = ampPlan(device, scaler);
    if (plan.fellBack) process.emitWarning(plan.description, "TorchTransferAmpWarning");
    return plan.native;
  }
  if (typeof option !== "object" || option === null || !("native" in option)) throw invalid("boolean or AmpPlan (tt.amp.ampPlan)", "amp", option);
  return option.native;
}

/** Checks an optimizer and its scheduler; the scheduler to step after every batch, if any. */
function checkSchedule(optimizer: Optimizer, scheduler: LRScheduler | ReduceLROnPlateau | null, stepsPerOption: StepsPer | undefined): LRScheduler | null {
  if (!(optimizer instanceof Optimizer)) throw invalid("Optimizer (SGD, Adam or AdamW)", "optimizer", optimizer);
  if (scheduler !== null && !(scheduler instanceof LRScheduler) && !(scheduler instanceof ReduceLROnPlateau)) {
    throw invalid("learning-rate scheduler or null", "scheduler", scheduler);
  }
  if (scheduler !== null && scheduler.optimizer !== optimizer) throw new Error("the scheduler was made for another optimizer than trainModel's");
  const stepsPer = stepsPerOption ?? scheduler?.defaultStepsPer ?? "epoch";
  if (stepsPer !== "batch" && stepsPer !== "epoch") throw invalid('"batch" or "epoch"', "schedulerStepsPer", stepsPer);
  if (stepsPer === "batch" && scheduler instanceof ReduceLROnPlateau) throw invalid('"epoch" for ReduceLROnPlateau', "schedulerStepsPer", stepsPer);
  return stepsPer === "batch" ? (scheduler as LRScheduler) : null;
}

function checkPatience(option: TrainOptions["earlyStopping"]): number | undefined {
  if (option === undefined) return undefined;
  if (typeof option !== "object" || option === null) throw invalid("{ patience }", "earlyStopping", option);
  checkOptions(option, { patience: true }, "earlyStopping");
  if (!Number.isInteger(option.patience) || option.patience < 1) throw invalid("positive integer", "earlyStopping.patience", option.patience);
  return option.patience;
}

/**
 * Val epochs since the val accuracy last rose above its best so far, by the
 * rule that keeps the best weights (strictly above; the best starts at 0).
 */
export function epochsWithoutImprovement(history: EpochRecord[]): number {
  let best = 0;
  let stale = 0;
  for (const r of history) {
    if (r.phase !== "val") continue;
    if (r.acc > best) {
      best = r.acc;
      stale = 0;
    } else stale++;
  }
  return stale;
}

async function runPhase(
  model: Module,
  criterion: CrossEntropyLoss,
  optimizer: Optimizer,
  loader: BatchSource,
  phase: Phase,
  epoch: number,
  device: string,
  onBatch: TrainOptions["onBatch"],
  signal: AbortSignal | undefined,
  completedEpochs: number,
  batchScheduler: LRScheduler | null = null,
  amp: NativeAmpOptions | null = null,
): Promise<EpochRecord> {
  model.train(phase === "train");
  const started = process.hrtime.bigint();
  let runningLoss = 0;
  let corrects = 0;
  let images = 0;
  let batch = 0;
  for await (const [inputs, labels] of loader) {
    const n = inputs.shape[0];
    const onDevice = device === "cpu" ? [inputs, labels] : [inputs.to(device, { nonBlocking: true }), labels.to(device, { nonBlocking: true })];
    try {
      // One crossing per batch: forward, the criterion's loss, backward and the optimizer step in C++.
      const { loss, correct } = await withGradEnabled(phase === "train", () =>
        model.runBatch(phase === "train" ? optimizer.native : null, onDevice[0], onDevice[1], phase === "train", criterion.nativeOptions, amp),
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

/** Evaluates `model` on `loader` without training, as the val phase does (plain cross-entropy unless `criterion` is given). */
export async function evaluate(
  model: Module, loader: BatchSource, device = "cpu", criterion = new CrossEntropyLoss(),
): Promise<{ loss: number; acc: number; images: number }> {
  const wasTraining = model.training;
  try {
    const r = await noGrad(() => runPhase(model, criterion, null as unknown as Optimizer, loader, "val", 0, checkDevice(device), undefined, undefined, 0));
    return { loss: r.loss, acc: r.acc, images: r.images };
  } finally {
    model.train(wasTraining);
  }
}
