// torch.optim.lr_scheduler.LinearLR: the learning rate times a factor going
// linearly from startFactor to endFactor over totalIters steps (warm-up).
import { checkInteger, checkNumber, checkOptions } from "../check";
import { LRScheduler } from "./lrScheduler";
import { Optimizer } from "./optimizer";

export interface LinearLROptions {
  startFactor?: number;
  endFactor?: number;
  totalIters?: number;
  lastEpoch?: number;
}

export class LinearLR extends LRScheduler {
  readonly startFactor: number;
  readonly endFactor: number;
  readonly totalIters: number;

  constructor(optimizer: Optimizer, options: LinearLROptions = {}) {
    const { startFactor = 1 / 3, endFactor = 1, totalIters = 5, lastEpoch = -1 } = checkOptions(options, { startFactor: true, endFactor: true, totalIters: true, lastEpoch: true }, "LinearLR");
    super(optimizer, lastEpoch);
    // 0 would divide by zero in the recursive form (PyTorch 2 refuses it too).
    this.startFactor = checkNumber(startFactor, "startFactor", { min: Number.MIN_VALUE, max: 1 });
    this.endFactor = checkNumber(endFactor, "endFactor", { min: 0, max: 1 });
    this.totalIters = checkInteger(totalIters, "totalIters", 1);
    this.initialStep();
  }

  protected getLr(): number[] {
    const { startFactor: s, endFactor: f, totalIters: n, lastEpoch: e } = this;
    const groups = this.optimizer.paramGroups;
    if (e === 0) return groups.map((g) => g.lr * s);
    if (e > n) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * (1 + (f - s) / (n * s + (e - 1) * (f - s))));
  }

  protected override closedFormLr(): number[] {
    const { startFactor: s, endFactor: f, totalIters: n, lastEpoch: e } = this;
    return this.baseLrs.map((b) => b * (s + ((f - s) * Math.min(n, e)) / n));
  }
}
