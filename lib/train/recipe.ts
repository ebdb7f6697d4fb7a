// The optimizer and learning-rate schedule a run's settings name: the
// tutorial's (SGD with momentum, StepLR per epoch) by default, or AdamW, cosine
// decay and one-cycle as torchvision's training references and fastai use them.
// Warm-up follows torchvision's references: LinearLR from 1% of the rate over
// the warm-up epochs, then the main schedule, in a SequentialLR.
import { AdamW } from "../optim/adam";
import { CosineAnnealingLR } from "../optim/cosineAnnealingLR";
import { LinearLR } from "../optim/linearLR";
import { LRScheduler } from "../optim/lrScheduler";
import { OneCycleLR } from "../optim/oneCycleLR";
import { Optimizer } from "../optim/optimizer";
import { SequentialLR } from "../optim/sequentialLR";
import { SGD } from "../optim/sgd";
import { StepLR } from "../optim/stepLR";
import { Tensor } from "../tensor";

export const OPTIMIZERS = ["sgd", "adamw"] as const;
export const SCHEDULERS = ["step", "cosine", "onecycle"] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];
export type SchedulerName = (typeof SCHEDULERS)[number];

/** torchvision's lr_warmup_decay: the warm-up starts at 1% of the rate. */
export const WARMUP_START_FACTOR = 0.01;

export interface RecipeSettings {
  optimizer: OptimizerName;
  scheduler: SchedulerName;
  lr: number;
  momentum: number;
  weightDecay: number;
  stepSize: number;
  gamma: number;
  warmupEpochs: number;
  epochs: number;
}

/** PyTorch's defaults: none for SGD (the tutorial's), 1e-2 for AdamW. */
export function defaultWeightDecay(optimizer: OptimizerName): number {
  return optimizer === "adamw" ? 1e-2 : 0;
}

export function recipeOptimizer(s: RecipeSettings, params: Tensor[]): Optimizer {
  if (s.optimizer === "adamw") return new AdamW(params, { lr: s.lr, weightDecay: s.weightDecay });
  return new SGD(params, { lr: s.lr, momentum: s.momentum, weightDecay: s.weightDecay });
}

/**
 * The schedule; trainModel steps OneCycleLR after every batch (so it needs the
 * batches per epoch) and the others once per epoch. OneCycleLR's own warm-up
 * is its rising phase: --warmup-epochs sets its length (pctStart), 30% by default.
 */
export function recipeScheduler(s: RecipeSettings, optimizer: Optimizer, stepsPerEpoch: number): LRScheduler {
  if (s.warmupEpochs >= s.epochs) throw new RangeError(`the warm-up (${s.warmupEpochs} epochs) must be shorter than the run (${s.epochs} epochs)`);
  if (s.scheduler === "onecycle") {
    const pctStart = s.warmupEpochs > 0 ? s.warmupEpochs / s.epochs : 0.3;
    return new OneCycleLR(optimizer, { maxLr: s.lr, epochs: s.epochs, stepsPerEpoch, pctStart });
  }
  const warmup = s.warmupEpochs > 0 ? new LinearLR(optimizer, { startFactor: WARMUP_START_FACTOR, totalIters: s.warmupEpochs }) : null;
  const main =
    s.scheduler === "cosine"
      ? new CosineAnnealingLR(optimizer, { tMax: s.epochs - s.warmupEpochs })
      : new StepLR(optimizer, { stepSize: s.stepSize, gamma: s.gamma });
  return warmup ? new SequentialLR(optimizer, { schedulers: [warmup, main], milestones: [s.warmupEpochs] }) : main;
}

/** One line for a run's header: "SGD(lr 0.001, momentum 0.9), StepLR(7, 0.1)" for the tutorial's. */
export function describeRecipe(s: RecipeSettings): string {
  const decay = s.weightDecay !== 0 ? `, weight decay ${s.weightDecay}` : "";
  const optimizer = s.optimizer === "adamw" ? `AdamW(lr ${s.lr}${decay})` : `SGD(lr ${s.lr}, momentum ${s.momentum}${decay})`;
  const warmup = s.warmupEpochs > 0 ? `${s.warmupEpochs} warm-up epoch(s), then ` : "";
  if (s.scheduler === "onecycle") return `${optimizer}, OneCycleLR(maxLr ${s.lr}${s.warmupEpochs > 0 ? `, rising for ${s.warmupEpochs} epoch(s)` : ""}) per batch`;
  const main = s.scheduler === "cosine" ? `CosineAnnealingLR(${s.epochs - s.warmupEpochs})` : `StepLR(${s.stepSize}, ${s.gamma})`;
  return `${optimizer}, ${warmup}${main}`;
}
