// torch.optim.lr_scheduler.ReduceLROnPlateau: the learning rate times factor
// once a metric has not improved for patience epochs. Stepped with the metric.
import { checkInteger, checkNumber, checkOptions, invalid } from "../check";
import { Optimizer } from "./optimizer";

export interface ReduceLROnPlateauOptions {
  mode?: "min" | "max";
  factor?: number;
  patience?: number;
  threshold?: number;
  thresholdMode?: "rel" | "abs";
  cooldown?: number;
  minLr?: number | number[];
  eps?: number;
}

export interface ReduceLROnPlateauState {
  best: number;
  numBadEpochs: number;
  cooldownCounter: number;
  lastEpoch: number;
  lastLr: number[];
}

export class ReduceLROnPlateau {
  readonly optimizer: Optimizer;
  readonly defaultStepsPer = "epoch" as const;
  readonly mode: "min" | "max";
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: "rel" | "abs";
  readonly cooldown: number;
  readonly minLrs: number[];
  readonly eps: number;
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;
  private lastLr: number[];

  constructor(optimizer: Optimizer, options: ReduceLROnPlateauOptions = {}) {
    if (!(optimizer instanceof Optimizer)) throw invalid("Optimizer (SGD, Adam or AdamW)", "optimizer", optimizer);
    const KNOWN: Record<keyof ReduceLROnPlateauOptions, true> = {
      mode: true, factor: true, patience: true, threshold: true, thresholdMode: true, cooldown: true, minLr: true, eps: true,
    };
    const { mode = "min", factor = 0.1, patience = 10, threshold = 1e-4, thresholdMode = "rel", cooldown = 0, minLr = 0, eps = 1e-8 } = checkOptions(options, KNOWN, "ReduceLROnPlateau");
    this.optimizer = optimizer;
    if (mode !== "min" && mode !== "max") throw invalid('"min" or "max"', "mode", mode);
    if (thresholdMode !== "rel" && thresholdMode !== "abs") throw invalid('"rel" or "abs"', "thresholdMode", thresholdMode);
    this.mode = mode;
    this.thresholdMode = thresholdMode;
    // Factor 1 or more would never reduce (PyTorch refuses it too).
    this.factor = checkNumber(factor, "factor", { min: 0, max: 1 - Number.EPSILON / 2 });
    this.patience = checkInteger(patience, "patience", 0);
    this.threshold = checkNumber(threshold, "threshold");
    this.cooldown = checkInteger(cooldown, "cooldown", 0);
    this.eps = checkNumber(eps, "eps", { min: 0 });
    const n = optimizer.paramGroups.length;
    if (Array.isArray(minLr)) {
      if (minLr.length !== n) throw invalid(`a number or ${n} numbers`, "minLr", minLr);
      this.minLrs = minLr.map((x, i) => checkNumber(x, `minLr[${i}]`, { min: 0 }));
    } else {
      this.minLrs = optimizer.paramGroups.map(() => checkNumber(minLr, "minLr", { min: 0 }));
    }
    this.best = mode === "min" ? Infinity : -Infinity;
    this.lastLr = optimizer.paramGroups.map((g) => g.lr);
  }

  /** Called once per epoch with the monitored figure (the val loss, say). */
  step(metric: number): void {
    const current = checkNumber(metric, "metric", { min: -Infinity });
    this.lastEpoch += 1;
    if (this.isBetter(current, this.best)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0; // bad epochs in cooldown do not count
    }
    if (this.numBadEpochs > this.patience) {
      this.reduceLr();
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  stateDict(): ReduceLROnPlateauState {
    return { best: this.best, numBadEpochs: this.numBadEpochs, cooldownCounter: this.cooldownCounter, lastEpoch: this.lastEpoch, lastLr: this.getLastLr() };
  }

  /** Restores a stateDict(); the optimizer's learning rates come back with the optimizer's own state dict. */
  loadStateDict(state: ReduceLROnPlateauState): void {
    if (typeof state !== "object" || state === null) throw invalid("scheduler state object", "state", state);
    // JSON turns the starting best (an infinity) into null.
    this.best = state.best === null ? (this.mode === "min" ? Infinity : -Infinity) : checkNumber(state.best, "best", { min: -Infinity });
    this.numBadEpochs = checkInteger(state.numBadEpochs, "numBadEpochs", 0);
    this.cooldownCounter = checkInteger(state.cooldownCounter, "cooldownCounter", 0);
    this.lastEpoch = checkInteger(state.lastEpoch, "lastEpoch", 0);
    if (Array.isArray(state.lastLr)) this.lastLr = state.lastLr.slice();
  }

  private isBetter(a: number, best: number): boolean {
    if (this.mode === "min" && this.thresholdMode === "rel") return a < best * (1 - this.threshold);
    if (this.mode === "min") return a < best - this.threshold;
    if (this.thresholdMode === "rel") return a > best * (this.threshold + 1);
    return a > best + this.threshold;
  }

  private reduceLr(): void {
    this.optimizer.paramGroups.forEach((g, i) => {
      const oldLr = g.lr;
      const newLr = Math.max(oldLr * this.factor, this.minLrs[i]);
      if (oldLr - newLr > this.eps) g.lr = newLr;
    });
  }
}
