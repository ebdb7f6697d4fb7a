// torch.optim.SGD: PyTorch's update rule (native/sgd.cc), with parameter groups.
import { invalid } from "../check";
import { checkTensor, Tensor } from "../tensor";
import { booleanOption, lrOption, numberOption, Optimizer, ParamGroup as Group, Params } from "./optimizer";

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/** Every SGD option of one parameter group, each defaulted. */
export type SGDGroupOptions = Required<SGDOptions>;
export type ParamGroup = Group<SGDGroupOptions>;

const SPECS = {
  lr: lrOption,
  momentum: numberOption({ min: 0 }),
  dampening: numberOption(),
  weightDecay: numberOption({ min: 0 }),
  nesterov: booleanOption,
};

export class SGD extends Optimizer<SGDGroupOptions> {
  /** `params`: Tensors, or a list of `{ params, lr, momentum, ... }` groups whose options override `options`. */
  constructor(params: Params<SGDGroupOptions>, options: SGDOptions) {
    if (typeof options !== "object" || options === null) throw invalid("options object with lr", "options", options);
    super("sgd", "SGD", params, options, SPECS, { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false }, ["momentumBuffer"]);
  }

  protected override checkGroup(o: SGDGroupOptions, where: string): void {
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) throw new RangeError(`Nesterov momentum requires a momentum and zero dampening (${where})`);
  }

  /** Momentum buffers, one per parameter across groups (null before its first step), for checkpoints. */
  momentumBuffers(): (Tensor | null)[] {
    return this.native.state().map((s) => (s?.momentumBuffer as Tensor | undefined) ?? null);
  }

  loadMomentumBuffers(buffers: (Tensor | null)[]): void {
    const params = this.paramGroups.flatMap((g) => g.params);
    if (!Array.isArray(buffers) || buffers.length !== params.length) throw invalid(`array of ${params.length} Tensors or nulls`, "buffers", buffers);
    buffers.forEach((b, i) => {
      if (b === null) return this.native.setState(i, null);
      const t = checkTensor(b, `buffers[${i}]`);
      if (t.shape.join(",") !== params[i].shape.join(",")) {
        throw new RangeError(`momentum buffer ${i} has shape [${t.shape.join(", ")}] but its parameter has [${params[i].shape.join(", ")}]`);
      }
      this.native.setState(i, { momentumBuffer: t });
    });
  }
}
