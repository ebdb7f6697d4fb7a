// torch.optim.lr_scheduler.OneCycleLR: the 1cycle policy, stepped after every
// batch. The learning rate climbs from maxLr / divFactor to maxLr over pctStart
// of the steps, then anneals to maxLr / divFactor / finalDivFactor; momentum
// (SGD) or beta1 (Adam) moves the other way between maxMomentum and baseMomentum.
import { checkBoolean, checkInteger, checkNumber, checkOptions, invalid } from "../check";
import { LRScheduler, LRSchedulerState, StepsPer } from "./lrScheduler";
import { Optimizer } from "./optimizer";

export interface OneCycleLROptions {
  maxLr: number | number[];
  /** The number of steps, or epochs and stepsPerEpoch whose product it is. */
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  pctStart?: number;
  annealStrategy?: "cos" | "linear";
  cycleMomentum?: boolean;
  baseMomentum?: number | number[];
  maxMomentum?: number | number[];
  divFactor?: number;
  finalDivFactor?: number;
  threePhase?: boolean;
  lastEpoch?: number;
}

interface Phase {
  endStep: number;
  startLr: "initialLr" | "maxLr" | "minLr";
  endLr: "initialLr" | "maxLr" | "minLr";
  startMomentum: "maxMomentum" | "baseMomentum";
  endMomentum: "maxMomentum" | "baseMomentum";
}

export class OneCycleLR extends LRScheduler {
  override readonly defaultStepsPer: StepsPer = "batch";
  readonly totalSteps: number;
  readonly annealStrategy: "cos" | "linear";
  readonly cycleMomentum: boolean;
  /** Per group, as PyTorch keeps them in param_groups. */
  readonly maxLrs: number[];
  readonly minLrs: number[];
  readonly maxMomentums: number[];
  readonly baseMomentums: number[];
  private readonly phases: Phase[];
  private readonly useBeta1: boolean;

  constructor(optimizer: Optimizer, options: OneCycleLROptions) {
    if (typeof options !== "object" || options === null) throw invalid("options object with maxLr", "options", options);
    const KNOWN: Record<keyof OneCycleLROptions, true> = {
      maxLr: true, totalSteps: true, epochs: true, stepsPerEpoch: true, pctStart: true, annealStrategy: true, cycleMomentum: true,
      baseMomentum: true, maxMomentum: true, divFactor: true, finalDivFactor: true, threePhase: true, lastEpoch: true,
    };
    checkOptions(options, KNOWN, "OneCycleLR");
    const {
      maxLr, totalSteps, epochs, stepsPerEpoch, pctStart = 0.3, annealStrategy = "cos", cycleMomentum = true,
      baseMomentum = 0.85, maxMomentum = 0.95, divFactor = 25, finalDivFactor = 1e4, threePhase = false, lastEpoch = -1,
    } = options;
    if (!(optimizer instanceof Optimizer)) throw invalid("Optimizer (SGD, Adam or AdamW)", "optimizer", optimizer);
    let steps: number;
    if (totalSteps !== undefined) {
      steps = checkInteger(totalSteps, "totalSteps", 1);
    } else if (epochs !== undefined && stepsPerEpoch !== undefined) {
      steps = checkInteger(epochs, "epochs", 1) * checkInteger(stepsPerEpoch, "stepsPerEpoch", 1);
    } else {
      throw invalid("totalSteps, or epochs and stepsPerEpoch", "options", options);
    }
    checkNumber(pctStart, "pctStart", { min: 0, max: 1 });
    if (annealStrategy !== "cos" && annealStrategy !== "linear") throw invalid('"cos" or "linear"', "annealStrategy", annealStrategy);
    checkNumber(divFactor, "divFactor", { min: Number.MIN_VALUE });
    checkNumber(finalDivFactor, "finalDivFactor", { min: Number.MIN_VALUE });
    const groups = optimizer.paramGroups;
    const perGroup = (value: unknown, name: string) => {
      const list = Array.isArray(value) ? value : groups.map(() => value);
      if (list.length !== groups.length) throw invalid(`a number or ${groups.length} numbers`, name, value);
      return list.map((x, i) => checkNumber(x, Array.isArray(value) ? `${name}[${i}]` : name, { min: 0 }));
    };
    const maxLrs = perGroup(maxLr, "maxLr");
    const cycle = checkBoolean(cycleMomentum, "cycleMomentum");
    const useBeta1 = "betas" in optimizer.defaults;
    if (cycle && !("momentum" in optimizer.defaults) && !useBeta1) throw new TypeError("OneCycleLR's cycleMomentum needs an optimizer with momentum or betas");
    const maxMomentums = cycle ? perGroup(maxMomentum, "maxMomentum") : [];
    const baseMomentums = cycle ? perGroup(baseMomentum, "baseMomentum") : [];
    if (lastEpoch === -1) {
      groups.forEach((g, i) => {
        g.initialLr = maxLrs[i] / divFactor;
        if (cycle) setMomentum(g as unknown as Record<string, unknown>, useBeta1, maxMomentums[i]);
      });
    }
    super(optimizer, lastEpoch);
    this.totalSteps = steps;
    this.annealStrategy = annealStrategy;
    this.cycleMomentum = cycle;
    this.useBeta1 = useBeta1;
    this.maxLrs = maxLrs;
    this.minLrs = groups.map((g) => (g.initialLr as number) / finalDivFactor);
    this.maxMomentums = maxMomentums;
    this.baseMomentums = baseMomentums;
    this.phases = checkBoolean(threePhase, "threePhase")
      ? [
          { endStep: pctStart * steps - 1, startLr: "initialLr", endLr: "maxLr", startMomentum: "maxMomentum", endMomentum: "baseMomentum" },
          { endStep: 2 * pctStart * steps - 2, startLr: "maxLr", endLr: "initialLr", startMomentum: "baseMomentum", endMomentum: "maxMomentum" },
          { endStep: steps - 1, startLr: "initialLr", endLr: "minLr", startMomentum: "maxMomentum", endMomentum: "maxMomentum" },
        ]
      : [
          { endStep: pctStart * steps - 1, startLr: "initialLr", endLr: "maxLr", startMomentum: "maxMomentum", endMomentum: "baseMomentum" },
          { endStep: steps - 1, startLr: "maxLr", endLr: "minLr", startMomentum: "baseMomentum", endMomentum: "maxMomentum" },
        ];
    this.initialStep();
  }

  protected getLr(): number[] {
    const stepNum = this.lastEpoch;
    if (stepNum > this.totalSteps) {
      throw new RangeError(`OneCycleLR stepped ${stepNum + 1} times, but totalSteps is ${this.totalSteps}`);
    }
    return this.optimizer.paramGroups.map((group, i) => {
      const value = {
        initialLr: group.initialLr as number, maxLr: this.maxLrs[i], minLr: this.minLrs[i],
        maxMomentum: this.maxMomentums[i], baseMomentum: this.baseMomentums[i],
      };
      let startStep = 0;
      let lr = 0;
      for (let p = 0; p < this.phases.length; p++) {
        const phase = this.phases[p];
        if (stepNum <= phase.endStep || p === this.phases.length - 1) {
          const pct = (stepNum - startStep) / (phase.endStep - startStep);
          lr = this.anneal(value[phase.startLr], value[phase.endLr], pct);
          if (this.cycleMomentum) {
            setMomentum(group as unknown as Record<string, unknown>, this.useBeta1, this.anneal(value[phase.startMomentum], value[phase.endMomentum], pct));
          }
          break;
        }
        startStep = phase.endStep;
      }
      return lr;
    });
  }

  private anneal(start: number, end: number, pct: number): number {
    if (this.annealStrategy === "linear") return (end - start) * pct + start;
    const cosOut = Math.cos(Math.PI * pct) + 1;
    return end + ((start - end) / 2.0) * cosOut;
  }

  override stateDict(): LRSchedulerState {
    return { ...super.stateDict(), totalSteps: this.totalSteps };
  }
}

function setMomentum(group: Record<string, unknown>, useBeta1: boolean, value: number): void {
  if (useBeta1) group.betas = [value, (group.betas as number[])[1]];
  else group.momentum = value;
}
