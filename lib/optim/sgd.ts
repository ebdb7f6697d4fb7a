// torch.optim.SGD: one parameter group, PyTorch's update rule (native/sgd.cc).
import { checkBoolean, checkNumber, checkOptions, invalid, withCallerStack } from "../check";
import { addon, NativeSGD } from "../native";
import { checkTensor, Tensor } from "../tensor";

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

const SGD_OPTIONS: Record<keyof SGDOptions, true> = { lr: true, momentum: true, dampening: true, weightDecay: true, nesterov: true };

export interface ParamGroup {
  lr: number;
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  readonly params: Tensor[];
}

export class SGD {
  /** @internal */
  readonly native: NativeSGD;
  readonly paramGroups: ParamGroup[];

  constructor(params: Iterable<Tensor>, options: SGDOptions) {
    if (params === null || typeof (params as Iterable<Tensor>)?.[Symbol.iterator] !== "function") {
      throw invalid("iterable of Tensors", "params", params);
    }
    const list = [...params];
    if (list.length === 0) throw new RangeError("optimizer got an empty parameter list");
    list.forEach((p, i) => checkTensor(p, `params[${i}]`));
    if (typeof options !== "object" || options === null) throw invalid("options object with lr", "options", options);
    checkOptions(options, SGD_OPTIONS, "SGD");
    const lr = checkNumber(options.lr, "lr", { min: 0 });
    const momentum = checkNumber(options.momentum ?? 0, "momentum", { min: 0 });
    const dampening = checkNumber(options.dampening ?? 0, "dampening");
    const weightDecay = checkNumber(options.weightDecay ?? 0, "weightDecay", { min: 0 });
    const nesterov = checkBoolean(options.nesterov ?? false, "nesterov");
    if (nesterov && (momentum <= 0 || dampening !== 0)) throw new RangeError("Nesterov momentum requires a momentum and zero dampening");
    this.native = new addon.SGD(list, lr, momentum, dampening, weightDecay, nesterov);
    const native = this.native;
    this.paramGroups = [
      {
        get lr() {
          return native.lr;
        },
        set lr(value: number) {
          native.lr = checkNumber(value, "lr", { min: 0 });
        },
        momentum,
        dampening,
        weightDecay,
        nesterov,
        params: list,
      },
    ];
  }

  /**
   * Resets the gradients before the next backward: zeroed in place by default,
   * as PyTorch 1.13 does (their memory is reused), or dropped with
   * `{ setToNone: true }`, PyTorch 2's default (a parameter whose gradient is
   * then never computed is skipped by step()).
   */
  zeroGrad(options: { setToNone?: boolean } = {}): void {
    const { setToNone = false } = checkOptions(options, { setToNone: true }, "zeroGrad");
    this.native.zeroGrad(checkBoolean(setToNone, "setToNone"));
  }

  step(): Promise<void> {
    return withCallerStack(this.native.step(), new Error());
  }

  /** Momentum buffers, one per parameter (null before its first step), for checkpoints. */
  momentumBuffers(): (Tensor | null)[] {
    return this.native.momentumBuffers();
  }

  loadMomentumBuffers(buffers: (Tensor | null)[]): void {
    const n = this.paramGroups[0].params.length;
    if (!Array.isArray(buffers) || buffers.length !== n) throw invalid(`array of ${n} Tensors or nulls`, "buffers", buffers);
    buffers.forEach((b, i) => this.native.setMomentumBuffer(i, b === null ? null : checkTensor(b, `buffers[${i}]`)));
  }
}
