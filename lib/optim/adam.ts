// torch.optim.Adam and AdamW (native/adam.cc), with parameter groups. They
// differ only in weight decay: Adam adds it to the gradient, AdamW shrinks the
// weights by lr * weightDecay before the update.
import { invalid } from "../check";
import { booleanOption, lrOption, numberOption, OptionSpec, Optimizer, ParamGroup, Params } from "./optimizer";

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  amsgrad?: boolean;
}

/** Every Adam or AdamW option of one parameter group, each defaulted. */
export type AdamGroupOptions = Required<AdamOptions>;
export type AdamParamGroup = ParamGroup<AdamGroupOptions>;

const betasOption: OptionSpec = {
  check(value, name) {
    const ok = Array.isArray(value) && value.length === 2 && value.every((b) => typeof b === "number" && Number.isFinite(b) && b >= 0 && b < 1);
    if (!ok) throw invalid("two numbers in [0, 1)", name, value);
    return value;
  },
  toNative: (value) => [
    ["beta1", (value as number[])[0]],
    ["beta2", (value as number[])[1]],
  ],
};

const SPECS = {
  lr: lrOption,
  betas: betasOption,
  eps: numberOption({ min: 0 }),
  weightDecay: numberOption({ min: 0 }),
  amsgrad: booleanOption,
};
const STATE = ["step", "expAvg", "expAvgSq", "maxExpAvgSq"];

export class Adam extends Optimizer<AdamGroupOptions> {
  /** `params`: Tensors, or a list of `{ params, lr, betas, ... }` groups whose options override `options`. */
  constructor(params: Params<AdamGroupOptions>, options: AdamOptions = {}) {
    super("adam", "Adam", params, options, SPECS, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false }, STATE);
  }
}

export class AdamW extends Optimizer<AdamGroupOptions> {
  /** As Adam, with decoupled weight decay (default 1e-2, PyTorch's). */
  constructor(params: Params<AdamGroupOptions>, options: AdamOptions = {}) {
    super("adamw", "AdamW", params, options, SPECS, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false }, STATE);
  }
}
