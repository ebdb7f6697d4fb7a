// torch.optim.lr_scheduler.StepLR, with PyTorch's recursive form so the learning
// rates are the same floating-point numbers PyTorch prints.
import { checkInteger, checkNumber, checkOptions, invalid } from "../check";
import { SGD } from "./sgd";

export interface StepLROptions {
  /** Epochs between decays. */
  stepSize: number;
  /** The factor of each decay. */
  gamma?: number;
  lastEpoch?: number;
}

export class StepLR {
  readonly optimizer: SGD;
  readonly stepSize: number;
  readonly gamma: number;
  readonly baseLrs: number[];
  lastEpoch: number;
  private lastLr: number[];

  constructor(optimizer: SGD, options: StepLROptions) {
    if (!(optimizer instanceof SGD)) throw invalid("SGD optimizer", "optimizer", optimizer);
    if (options === undefined) throw invalid("options object with stepSize", "options", options);
    const { stepSize, gamma = 0.1, lastEpoch = -1 } = checkOptions(options, { stepSize: true, gamma: true, lastEpoch: true }, "StepLR");
    this.optimizer = optimizer;
    this.stepSize = checkInteger(stepSize, "stepSize", 1);
    this.gamma = checkNumber(gamma, "gamma");
    this.baseLrs = optimizer.paramGroups.map((g) => g.lr);
    this.lastEpoch = checkInteger(lastEpoch, "lastEpoch", -1);
    this.lastLr = this.baseLrs.slice();
    if (this.lastEpoch === -1) this.step();
  }

  /** Called once per epoch, after the training phase. */
  step(): void {
    this.lastEpoch += 1;
    const decay = this.lastEpoch !== 0 && this.lastEpoch % this.stepSize === 0;
    for (const group of this.optimizer.paramGroups) {
      if (decay) group.lr = group.lr * this.gamma;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  stateDict(): { stepSize: number; gamma: number; baseLrs: number[]; lastEpoch: number; lastLr: number[] } {
    return { stepSize: this.stepSize, gamma: this.gamma, baseLrs: this.baseLrs.slice(), lastEpoch: this.lastEpoch, lastLr: this.getLastLr() };
  }

  /** Restores the epoch count and the learning rates, as load_state_dict does. */
  loadStateDict(state: { lastEpoch: number; lastLr: number[] }): void {
    this.lastEpoch = checkInteger(state.lastEpoch, "lastEpoch", 0);
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = checkNumber(state.lastLr[i], `lastLr[${i}]`)));
    this.lastLr = state.lastLr.slice();
  }
}
