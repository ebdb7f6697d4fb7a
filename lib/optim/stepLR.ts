// torch.optim.lr_scheduler.StepLR: the learning rate times gamma every stepSize epochs.
import { checkInteger, checkNumber, checkOptions, invalid } from "../check";
import { LRScheduler } from "./lrScheduler";
import { Optimizer } from "./optimizer";

export interface StepLROptions {
  /** Epochs between decays. */
  stepSize: number;
  /** The factor of each decay. */
  gamma?: number;
  lastEpoch?: number;
}

export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;

  constructor(optimizer: Optimizer, options: StepLROptions) {
    if (options === undefined) throw invalid("options object with stepSize", "options", options);
    const { stepSize, gamma = 0.1, lastEpoch = -1 } = checkOptions(options, { stepSize: true, gamma: true, lastEpoch: true }, "StepLR");
    super(optimizer, lastEpoch);
    this.stepSize = checkInteger(stepSize, "stepSize", 1);
    this.gamma = checkNumber(gamma, "gamma");
    this.initialStep();
  }

  protected getLr(): number[] {
    const decay = this.lastEpoch !== 0 && this.lastEpoch % this.stepSize === 0;
    return this.optimizer.paramGroups.map((g) => (decay ? g.lr * this.gamma : g.lr));
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** Math.floor(this.lastEpoch / this.stepSize));
  }

  override stateDict() {
    return { ...super.stateDict(), stepSize: this.stepSize, gamma: this.gamma };
  }
}
