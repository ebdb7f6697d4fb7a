// torch.optim.lr_scheduler.LRScheduler: what every epoch- or batch-stepped
// scheduler shares. Subclasses give PyTorch's recursive get_lr (and its closed
// form, which SequentialLR uses at a milestone), written in the same order of
// floating-point operations, so the learning rates are PyTorch's numbers.
import { checkInteger, checkNumber, invalid } from "../check";
import { Optimizer } from "./optimizer";

/** When trainModel steps a scheduler: after every training batch, or once per epoch. */
export type StepsPer = "batch" | "epoch";

export interface LRSchedulerState {
  lastEpoch: number;
  stepCount?: number;
  baseLrs?: number[];
  lastLr: number[];
  [key: string]: unknown;
}

export abstract class LRScheduler {
  readonly optimizer: Optimizer;
  baseLrs: number[];
  /** The number of steps taken, less one (PyTorch's name: it counts batches for per-batch schedules). */
  lastEpoch: number;
  /** How trainModel steps this scheduler unless told otherwise. */
  readonly defaultStepsPer: StepsPer = "epoch";
  /** @internal PyTorch's _step_count. */
  stepCount = 0;
  protected lastLr: number[];

  protected constructor(optimizer: unknown, lastEpoch = -1) {
    if (!(optimizer instanceof Optimizer)) throw invalid("Optimizer (SGD, Adam or AdamW)", "optimizer", optimizer);
    this.optimizer = optimizer;
    this.lastEpoch = checkInteger(lastEpoch, "lastEpoch", -1);
    const groups = optimizer.paramGroups;
    if (lastEpoch === -1) {
      for (const g of groups) if (g.initialLr === undefined) g.initialLr = g.lr;
    } else {
      groups.forEach((g, i) => {
        if (g.initialLr === undefined) throw new Error(`initialLr is not set in paramGroups[${i}] when resuming an optimizer (lastEpoch ${lastEpoch})`);
      });
    }
    this.baseLrs = groups.map((g) => g.initialLr as number);
    this.lastLr = groups.map((g) => g.lr);
  }

  /** @internal The step every constructor ends with (PyTorch's _initial_step); subclasses call it last. */
  initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /** One step of the schedule: once per epoch, or once per batch for per-batch schedules. */
  step(): void {
    this.stepCount += 1;
    this.lastEpoch += 1;
    this.apply(this.getLr());
  }

  /** @internal step(epoch) in PyTorch: jumps to `epoch` by the closed form where there is one (SequentialLR's milestones). */
  stepAt(epoch: number): void {
    this.stepCount += 1;
    this.lastEpoch = epoch;
    this.apply(this.closedFormLr() ?? this.getLr());
  }

  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  /** The learning rates for `lastEpoch`, from the current ones (PyTorch's get_lr). */
  protected abstract getLr(): number[];

  /** The learning rates for `lastEpoch` from the base ones, where the schedule has such a form. */
  protected closedFormLr(): number[] | null {
    return null;
  }

  /** Counters and learning rates, JSON-safe; the settings come from the constructor. */
  stateDict(): LRSchedulerState {
    return { lastEpoch: this.lastEpoch, stepCount: this.stepCount, baseLrs: this.baseLrs.slice(), lastLr: this.getLastLr() };
  }

  /**
   * Restores a stateDict(): the counters, and the optimizer's learning rates
   * to the last ones (so a checkpoint without the optimizer's groups still resumes).
   */
  loadStateDict(state: LRSchedulerState): void {
    if (typeof state !== "object" || state === null) throw invalid("scheduler state object", "state", state);
    const n = this.optimizer.paramGroups.length;
    const lrs = (value: unknown, name: string) => {
      if (!Array.isArray(value) || value.length !== n) throw invalid(`array of ${n} numbers`, name, value);
      return value.map((x, i) => checkNumber(x, `${name}[${i}]`));
    };
    const lastLr = lrs(state.lastLr, "lastLr");
    this.lastEpoch = checkInteger(state.lastEpoch, "lastEpoch", -1);
    if (state.stepCount !== undefined) this.stepCount = checkInteger(state.stepCount, "stepCount", 0);
    if (state.baseLrs !== undefined) this.baseLrs = lrs(state.baseLrs, "baseLrs");
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = lastLr[i]));
    this.lastLr = lastLr;
  }

  private apply(values: number[]): void {
    this.optimizer.paramGroups.forEach((g, i) => (g.lr = values[i]));
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }
}
