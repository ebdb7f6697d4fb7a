// torch.optim.lr_scheduler.CosineAnnealingLR: from the base learning rate down
// to etaMin over tMax steps along half a cosine, by PyTorch's recursive form.
import { checkInteger, checkNumber, checkOptions, invalid } from "../check";
import { LRScheduler } from "./lrScheduler";
import { Optimizer } from "./optimizer";

export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;

  constructor(optimizer: Optimizer, options: { tMax: number; etaMin?: number; lastEpoch?: number }) {
    if (options === undefined) throw invalid("options object with tMax", "options", options);
    const { tMax, etaMin = 0, lastEpoch = -1 } = checkOptions(options, { tMax: true, etaMin: true, lastEpoch: true }, "CosineAnnealingLR");
    super(optimizer, lastEpoch);
    this.tMax = checkInteger(tMax, "tMax", 1);
    this.etaMin = checkNumber(etaMin, "etaMin", { min: 0 });
    this.initialStep();
  }

  protected getLr(): number[] {
    const { tMax, etaMin, lastEpoch: e } = this;
    const groups = this.optimizer.paramGroups;
    if (e === 0) return groups.map((g) => g.lr);
    if (this.stepCount === 1 && e > 0) return this.baseLrs.map((b) => etaMin + ((b - etaMin) * (1 + Math.cos((e * Math.PI) / tMax))) / 2);
    if ((e - 1 - tMax) % (2 * tMax) === 0) return this.baseLrs.map((b, i) => groups[i].lr + ((b - etaMin) * (1 - Math.cos(Math.PI / tMax))) / 2);
    return groups.map((g) => ((1 + Math.cos((Math.PI * e) / tMax)) / (1 + Math.cos((Math.PI * (e - 1)) / tMax))) * (g.lr - etaMin) + etaMin);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => this.etaMin + ((b - this.etaMin) * (1 + Math.cos((Math.PI * this.lastEpoch) / this.tMax))) / 2);
  }
}
