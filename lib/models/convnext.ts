// torchvision.models.convnext_tiny and its weights enum (URL and eval preset from torchvision 0.14).
import { NativeModule } from "../native";
import { Module } from "../nn/module";
import { buildModel, ModelOptions } from "./build";
import { weightsEnum } from "./weightsEnum";

export class ConvNeXt extends Module {
  declare features: Module;
  declare avgpool: Module;
  /** LayerNorm2d, Flatten, Linear: the head is classifier[2]. */
  declare classifier: Module;

  /** @internal */
  constructor(native: NativeModule, readonly arch: string) {
    super(native);
  }

  toString(): string {
    return `ConvNeXt(${this.arch})`;
  }
}

export interface ConvNeXtOptions extends ModelOptions {
  /** The last block's probability of skipping its residual branch in training, rising linearly from 0 (0.1 for tiny). */
  stochasticDepthProb?: number;
}

export const ConvNeXt_Tiny_Weights = weightsEnum(
  "ConvNeXt_Tiny_Weights",
  { IMAGENET1K_V1: { url: "https://download.pytorch.org/models/convnext_tiny-983f1562.pth", cropSize: 224, resizeSize: 236, numParams: 28589128 } },
  "IMAGENET1K_V1",
);

export function convnext_tiny(options?: ConvNeXtOptions & { weights?: null }): ConvNeXt;
export function convnext_tiny(options: ConvNeXtOptions & { weights: NonNullable<ConvNeXtOptions["weights"]> }): Promise<ConvNeXt>;
export function convnext_tiny(options?: ConvNeXtOptions): ConvNeXt | Promise<ConvNeXt>;
export function convnext_tiny(options: ConvNeXtOptions = {}): ConvNeXt | Promise<ConvNeXt> {
  return buildModel("convnext_tiny", (native) => new ConvNeXt(native, "convnext_tiny"), ConvNeXt_Tiny_Weights,
    options as ConvNeXtOptions & Record<string, unknown>, { stochasticDepthProb: "probability" });
}
