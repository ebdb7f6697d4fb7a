// torch.optim.lr_scheduler.SequentialLR: one scheduler after another, switching
// at the milestones (warm-up with LinearLR, then CosineAnnealingLR).
import { checkInteger, checkOptions, invalid } from "../check";
import { LRScheduler, LRSchedulerState } from "./lrScheduler";
import { Optimizer } from "./optimizer";

export class SequentialLR extends LRScheduler {
  readonly schedulers: LRScheduler[];
  readonly milestones: number[];

  constructor(optimizer: Optimizer, options: { schedulers: LRScheduler[]; milestones: number[]; lastEpoch?: number }) {
    if (options === undefined) throw invalid("options object with schedulers and milestones", "options", options);
    const { schedulers, milestones, lastEpoch = -1 } = checkOptions(options, { schedulers: true, milestones: true, lastEpoch: true }, "SequentialLR");
    if (!Array.isArray(schedulers) || schedulers.length === 0) throw invalid("non-empty array of schedulers", "schedulers", schedulers);
    schedulers.forEach((s, i) => {
      if (!(s instanceof LRScheduler)) throw invalid("LRScheduler (ReduceLROnPlateau cannot be sequenced)", `schedulers[${i}]`, s);
      if (s.optimizer !== optimizer) throw new Error(`SequentialLR expects all schedulers to belong to the same optimizer, but schedulers[${i}] has another`);
    });
    if (!Array.isArray(milestones) || milestones.length !== schedulers.length - 1) {
      throw invalid(`array of ${schedulers.length - 1} milestone(s), one fewer than schedulers`, "milestones", milestones);
    }
    milestones.forEach((m, i) => {
      checkInteger(m, `milestones[${i}]`, 0);
      if (i > 0 && m < milestones[i - 1]) throw invalid(`integer >= milestones[${i - 1}] (${milestones[i - 1]})`, `milestones[${i}]`, m);
    });
    super(optimizer, 0); // the sub-schedulers have set every group's initialLr
    this.schedulers = schedulers.slice();
    this.milestones = milestones.slice();
    this.lastEpoch = checkInteger(lastEpoch, "lastEpoch", -1) + 1;
    for (const g of optimizer.paramGroups) g.lr = g.initialLr as number;
    undo(this.schedulers);
    this.schedulers[0].initialStep();
    this.lastLr = this.schedulers[0].getLastLr();
  }

  override step(): void {
    this.lastEpoch += 1;
    const idx = bisectRight(this.milestones, this.lastEpoch);
    const scheduler = this.schedulers[idx];
    if (idx > 0 && this.milestones[idx - 1] === this.lastEpoch) scheduler.stepAt(0);
    else scheduler.step();
    this.lastLr = scheduler.getLastLr();
  }

  protected getLr(): number[] {
    return this.lastLr.slice();
  }

  override stateDict(): LRSchedulerState {
    return { ...super.stateDict(), schedulers: this.schedulers.map((s) => s.stateDict()) };
  }

  override loadStateDict(state: LRSchedulerState): void {
    const inner = state?.schedulers;
    if (!Array.isArray(inner) || inner.length !== this.schedulers.length) throw invalid(`array of ${this.schedulers.length} scheduler states`, "schedulers", inner);
    // The sub-schedulers' learning rates are restored first, then the current one's.
    inner.forEach((s, i) => this.schedulers[i].loadStateDict(s as LRSchedulerState));
    super.loadStateDict(state);
  }
}

/** Takes back the step each sub-scheduler's constructor made (nested SequentialLRs included, as PyTorch 2 does). */
function undo(schedulers: LRScheduler[]): void {
  for (const s of schedulers) {
    if (s instanceof SequentialLR) undo(s.schedulers);
    else s.lastEpoch -= 1;
  }
}

function bisectRight(sorted: number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x < sorted[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
