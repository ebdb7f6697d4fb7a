// torch.amp.GradScaler (torch.cuda.amp.GradScaler): the loss multiplied by a
// scale before backward, so that float16 gradients do not underflow; the
// gradients unscaled before the step, the step skipped when one is inf or NaN,
// and the scale halved after such a step and doubled after growthInterval
// clean ones. The arithmetic is native (native/amp.cc) and device-generic: it
// runs on CPU tensors as on CUDA ones.
import { checkBoolean, checkInteger, checkNumber, checkOptions, invalid, withCallerStack } from "../check";
import { addon, NativeGradScaler } from "../native";
import { Optimizer } from "../optim/optimizer";
import { checkTensor, Tensor } from "../tensor";

export interface GradScalerOptions {
  /** The first scale (PyTorch: 2**16). */
  initScale?: number;
  /** The scale's factor after growthInterval steps without an inf (PyTorch: 2). */
  growthFactor?: number;
  /** The scale's factor after a step with an inf (PyTorch: 0.5). */
  backoffFactor?: number;
  /** Clean steps before the scale grows (PyTorch: 2000). */
  growthInterval?: number;
  /** false: every method passes through (scale(loss) is loss, step(optimizer) steps). */
  enabled?: boolean;
}

/** What GradScaler.stateDict() gives, as torch's state_dict in camelCase. */
export interface GradScalerState {
  scale: number;
  growthFactor: number;
  backoffFactor: number;
  growthInterval: number;
  growthTracker: number;
}

const OPTIONS: Record<keyof GradScalerOptions, true> = { initScale: true, growthFactor: true, backoffFactor: true, growthInterval: true, enabled: true };

export class GradScaler {
  /** @internal */
  readonly native: NativeGradScaler;
  readonly growthFactor: number;
  readonly backoffFactor: number;
  readonly growthInterval: number;
  readonly enabled: boolean;

  constructor(options: GradScalerOptions = {}) {
    const o = checkOptions(options, OPTIONS, "GradScaler");
    const initScale = checkNumber(o.initScale ?? 2 ** 16, "initScale", { min: Number.MIN_VALUE });
    // PyTorch's own checks: growth above 1, backoff below 1.
    this.growthFactor = checkNumber(o.growthFactor ?? 2, "growthFactor", { min: 1 });
    if (this.growthFactor === 1) throw invalid("number above 1", "growthFactor", this.growthFactor);
    this.backoffFactor = checkNumber(o.backoffFactor ?? 0.5, "backoffFactor", { min: Number.MIN_VALUE, max: 1 });
    if (this.backoffFactor === 1) throw invalid("number below 1", "backoffFactor", this.backoffFactor);
    this.growthInterval = checkInteger(o.growthInterval ?? 2000, "growthInterval", 1);
    this.enabled = o.enabled === undefined ? true : checkBoolean(o.enabled, "enabled");
    this.native = new addon.GradScaler({ initScale, growthFactor: this.growthFactor, backoffFactor: this.backoffFactor, growthInterval: this.growthInterval });
  }

  /** scaler.scale(loss): the loss times the current scale, to call backward() on. */
  async scale(loss: Tensor): Promise<Tensor> {
    checkTensor(loss, "loss");
    if (!this.enabled) return loss;
    return withCallerStack(this.native.scaleLoss(loss), new Error());
  }

  /** scaler.step(optimizer): unscales the gradients and steps, unless one is inf or NaN. Resolves to whether it stepped. */
  async step(optimizer: Optimizer): Promise<boolean> {
    if (!(optimizer instanceof Optimizer)) throw invalid("Optimizer", "optimizer", optimizer);
    if (!this.enabled) {
      await optimizer.step();
      return true;
    }
    return withCallerStack(this.native.step(optimizer.native), new Error());
  }

  /** scaler.update(): the scale for the next step. */
  async update(): Promise<void> {
    if (!this.enabled) return;
    return withCallerStack(this.native.update(), new Error());
  }

  /** The scale after the last finished update (1 when disabled, as PyTorch's get_scale). */
  getScale(): number {
    return this.enabled ? this.native.scale : 1;
  }

  /** Clean steps since the scale last changed. */
  getGrowthTracker(): number {
    return this.native.growthTracker;
  }

  stateDict(): GradScalerState {
    return { scale: this.native.scale, growthFactor: this.growthFactor, backoffFactor: this.backoffFactor, growthInterval: this.growthInterval, growthTracker: this.native.growthTracker };
  }

  /** Restores the scale and growth tracker of stateDict() (the factors are the constructor's). */
  loadStateDict(state: GradScalerState): void {
    if (typeof state !== "object" || state === null) throw invalid("GradScaler state dict", "state", state);
    const scale = checkNumber(state.scale, "state.scale", { min: Number.MIN_VALUE });
    const tracker = checkInteger(state.growthTracker, "state.growthTracker", 0);
    this.native.setState(scale, tracker);
  }

  toString(): string {
    return `GradScaler(scale ${this.getScale()}, growthFactor ${this.growthFactor}, backoffFactor ${this.backoffFactor}, growthInterval ${this.growthInterval})`;
  }
}
