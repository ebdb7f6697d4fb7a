// --freeze-epochs: fastai's fine_tune. First the head alone (the backbone
// frozen) for freezeEpochs epochs; then everything, the backbone in its own
// parameter group at lr x backboneLrMult, with the schedule started again for
// the epochs left. As in fastai:
//   - phase 2's learning rate is half phase 1's (fine_tune's base_lr /= 2);
//   - BatchNorm layers keep training while the backbone is frozen (fastai's
//     train_bn=True): their weights and biases are in phase 1's optimizer and
//     their statistics follow the new data, in train mode as the tutorial's
//     feature extractor already runs them. Pretrained statistics describe
//     ImageNet, not the new images; fastai measured better results adapting them.
//   - with --scheduler onecycle, phase 1 rises for 99% of its steps
//     (pct_start=0.99) and phase 2 starts at maxLr / 5 (div=5).
// fastai's `epochs` counts phase 2 alone; here --epochs is the whole run, so
// that epoch numbers, checkpoints and --resume mean what they mean elsewhere
// (a run of no more epochs than freezeEpochs is all phase 1, and --resume with
// more epochs goes on into phase 2).
import { Module } from "../nn/module";
import { AdamW } from "../optim/adam";
import { LRScheduler } from "../optim/lrScheduler";
import { OneCycleLR } from "../optim/oneCycleLR";
import { Optimizer } from "../optim/optimizer";
import { SGD } from "../optim/sgd";
import { Tensor } from "../tensor";
import { RecipeSettings, recipeScheduler } from "./recipe";

export interface FineTuneSettings extends RecipeSettings {
  /** 0 or absent: no frozen phase. */
  freezeEpochs?: number;
  /** Default 0.01 (fastai's lr_mult of 100). */
  backboneLrMult?: number;
}

export interface FineTunePhase {
  phase: 1 | 2;
  optimizer: Optimizer;
  scheduler: LRScheduler;
}

/** fastai's bn_types: BatchNorm's weights train with the head while the rest is frozen. */
const TRAIN_WHILE_FROZEN = new Set(["BatchNorm1d", "BatchNorm2d", "BatchNorm3d"]);

/** The phase an epoch belongs to. */
export function phaseOf(s: FineTuneSettings, epoch: number): 1 | 2 {
  return epoch < (s.freezeEpochs ?? 0) ? 1 : 2;
}

/** Freezes or unfreezes the model for `phase` and builds that phase's optimizer and schedule. */
export function fineTunePhase(settings: FineTuneSettings, model: Module, phase: 1 | 2, stepsPerEpoch: number): FineTunePhase {
  const s = { ...settings, freezeEpochs: settings.freezeEpochs ?? 0, backboneLrMult: settings.backboneLrMult ?? 0.01 };
  if (s.freezeEpochs < 1) throw new RangeError(`fineTunePhase needs a frozen phase of at least 1 epoch, got ${s.freezeEpochs}`);
  const headPath = model.native.head;
  if (!headPath) throw new TypeError(`Expected a whole model (tt.models.NAME()) but received a ${model.kind}`);
  const inHead = (name: string) => name.startsWith(`${headPath}.`);
  const bnPrefixes = model.namedModules().filter(([, m]) => TRAIN_WHILE_FROZEN.has(m.kind)).map(([name]) => `${name}.`);
  const isBn = (name: string) => bnPrefixes.some((prefix) => name.startsWith(prefix));
  const params = model.namedParameters();
  const head = params.filter(([name]) => inHead(name)).map(([, p]) => p);
  const backbone = params.filter(([name]) => !inHead(name)).map(([, p]) => p);
  if (phase === 1) {
    for (const [name, p] of params) p.requiresGrad = inHead(name) || isBn(name);
    const trainable = params.filter(([name]) => inHead(name) || isBn(name)).map(([, p]) => p);
    const optimizer = makeOptimizer(s, [{ params: trainable, lr: s.lr }]);
    const phaseSettings = { ...s, epochs: Math.min(s.freezeEpochs, s.epochs), warmupEpochs: 0 };
    const scheduler = s.scheduler === "onecycle"
      ? new OneCycleLR(optimizer, { maxLr: s.lr, epochs: phaseSettings.epochs, stepsPerEpoch, pctStart: 0.99 })
      : recipeScheduler(phaseSettings, optimizer, stepsPerEpoch);
    return { phase, optimizer, scheduler };
  }
  for (const [, p] of params) p.requiresGrad = true;
  const lr = s.lr / 2;
  const groups = [{ params: backbone, lr: lr * s.backboneLrMult }, { params: head, lr }];
  const optimizer = makeOptimizer(s, groups);
  const epochs = s.epochs - s.freezeEpochs;
  if (s.warmupEpochs >= epochs) throw new RangeError(`the warm-up (${s.warmupEpochs} epochs) must be shorter than the unfrozen phase (${epochs} epochs)`);
  const scheduler = s.scheduler === "onecycle"
    ? new OneCycleLR(optimizer, { maxLr: groups.map((g) => g.lr), epochs, stepsPerEpoch, pctStart: s.warmupEpochs > 0 ? s.warmupEpochs / epochs : 0.3, divFactor: 5 })
    : recipeScheduler({ ...s, lr, epochs }, optimizer, stepsPerEpoch);
  return { phase, optimizer, scheduler };
}

function makeOptimizer(s: RecipeSettings, groups: { params: Tensor[]; lr: number }[]): Optimizer {
  if (s.optimizer === "adamw") return new AdamW(groups, { lr: groups[groups.length - 1].lr, weightDecay: s.weightDecay });
  return new SGD(groups, { lr: groups[groups.length - 1].lr, momentum: s.momentum, weightDecay: s.weightDecay });
}

