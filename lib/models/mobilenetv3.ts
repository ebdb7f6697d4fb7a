// torchvision.models: mobilenet_v3_large and mobilenet_v3_small, and their
// weights enums (URLs and eval presets from torchvision 0.14).
import { NativeModule } from "../native";
import { Module } from "../nn/module";
import { buildModel, ModelOptions } from "./build";
import { AnyWeightsEnum, weightsEnum } from "./weightsEnum";

export class MobileNetV3 extends Module {
  declare features: Module;
  declare avgpool: Module;
  /** Linear, Hardswish, Dropout, Linear: the head is classifier[3]. */
  declare classifier: Module;

  /** @internal */
  constructor(native: NativeModule, readonly arch: string) {
    super(native);
  }

  toString(): string {
    return `MobileNetV3(${this.arch})`;
  }
}

export interface MobileNetV3Options extends ModelOptions {
  /** The classifier's dropout probability (0.2). */
  dropout?: number;
}

const url = (file: string) => `https://download.pytorch.org/models/${file}`;

export const MobileNet_V3_Large_Weights = weightsEnum(
  "MobileNet_V3_Large_Weights",
  {
    IMAGENET1K_V1: { url: url("mobilenet_v3_large-8738ca79.pth"), cropSize: 224, numParams: 5483032 },
    IMAGENET1K_V2: { url: url("mobilenet_v3_large-5c1a4163.pth"), cropSize: 224, resizeSize: 232, numParams: 5483032 },
  },
  "IMAGENET1K_V2",
);
export const MobileNet_V3_Small_Weights = weightsEnum(
  "MobileNet_V3_Small_Weights",
  { IMAGENET1K_V1: { url: url("mobilenet_v3_small-047dcff4.pth"), cropSize: 224, numParams: 2542856 } },
  "IMAGENET1K_V1",
);

function builder(arch: string, weights: AnyWeightsEnum) {
  function build(options?: MobileNetV3Options & { weights?: null }): MobileNetV3;
  function build(options: MobileNetV3Options & { weights: NonNullable<MobileNetV3Options["weights"]> }): Promise<MobileNetV3>;
  function build(options?: MobileNetV3Options): MobileNetV3 | Promise<MobileNetV3>;
  function build(options: MobileNetV3Options = {}): MobileNetV3 | Promise<MobileNetV3> {
    return buildModel(arch, (native) => new MobileNetV3(native, arch), weights, options as MobileNetV3Options & Record<string, unknown>, {
      dropout: "probability",
    });
  }
  return build;
}

export const mobilenet_v3_large = builder("mobilenet_v3_large", MobileNet_V3_Large_Weights);
export const mobilenet_v3_small = builder("mobilenet_v3_small", MobileNet_V3_Small_Weights);
