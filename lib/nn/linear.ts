// torch.nn.Linear.
import { checkBoolean, checkInteger, checkOptions } from "../check";
import { addon, NativeModule } from "../native";
import { Module } from "./module";
import { SerialQueue } from "./serial";

export class Linear extends Module {
  constructor(inFeatures: number, outFeatures: number, options: { bias?: boolean } = {}) {
    const { bias = true } = checkOptions(options, { bias: true }, "Linear");
    super(addon.Module.linear(checkInteger(inFeatures, "inFeatures", 1), checkInteger(outFeatures, "outFeatures", 1), checkBoolean(bias, "bias")));
  }

  /** @internal A handle on a Linear that already lives inside another module (a ResNet's fc). */
  static fromNative(native: NativeModule): Linear {
    const linear = Object.create(Linear.prototype) as { native: NativeModule; queue: SerialQueue };
    linear.native = native;
    linear.queue = new SerialQueue();
    return linear as unknown as Linear;
  }

  get inFeatures(): number {
    return this.native.inFeatures as number;
  }

  get outFeatures(): number {
    return this.native.outFeatures as number;
  }

  toString(): string {
    return `Linear(in_features=${this.inFeatures}, out_features=${this.outFeatures})`;
  }
}
