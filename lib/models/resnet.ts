// torchvision.models: resnet18/34/50/101/152, resnext50_32x4d, wide_resnet50_2,
// and their weights enums (URLs and eval presets from torchvision 0.14).
import { invalid } from "../check";
import { NativeModule } from "../native";
import { Linear } from "../nn/linear";
import { Module } from "../nn/module";
import { buildModel, ModelOptions } from "./build";
import { AnyWeightsEnum, weightsEnum } from "./weightsEnum";

export class ResNet extends Module {
  declare conv1: Module;
  declare bn1: Module;
  declare relu: Module;
  declare maxpool: Module;
  declare layer1: Module;
  declare layer2: Module;
  declare layer3: Module;
  declare layer4: Module;
  declare avgpool: Module;

  /** @internal */
  constructor(native: NativeModule, readonly arch: string) {
    super(native);
  }

  /** The classifier head; assign a new Linear to replace it, as `model.fc = nn.Linear(...)` does. */
  get fc(): Linear {
    return Module.wrap(this.native.child("fc"), this.queue) as Linear;
  }

  set fc(linear: Linear) {
    if (!(linear instanceof Linear)) throw invalid("Linear", "fc", linear);
    this.native.setChild("fc", linear.native);
  }

  toString(): string {
    return `ResNet(${this.arch}, fc=${this.fc.toString()})`;
  }
}

export interface ResNetOptions extends ModelOptions {
  /** Each residual branch's last BatchNorm starts at zero, so every block starts as the identity. */
  zeroInitResidual?: boolean;
}
/** @deprecated the same as ResNetOptions */
export type ResNet18Options = ResNetOptions;

const V1 = (file: string, numParams: number) => ({ url: `https://download.pytorch.org/models/${file}`, cropSize: 224, numParams });
const V2 = (file: string, numParams: number) => ({ ...V1(file, numParams), resizeSize: 232 });

export const ResNet18_Weights = weightsEnum("ResNet18_Weights", { IMAGENET1K_V1: V1("resnet18-f37072fd.pth", 11689512) }, "IMAGENET1K_V1");
export const ResNet34_Weights = weightsEnum("ResNet34_Weights", { IMAGENET1K_V1: V1("resnet34-b627a593.pth", 21797672) }, "IMAGENET1K_V1");
export const ResNet50_Weights = weightsEnum(
  "ResNet50_Weights",
  { IMAGENET1K_V1: V1("resnet50-0676ba61.pth", 25557032), IMAGENET1K_V2: V2("resnet50-11ad3fa6.pth", 25557032) },
  "IMAGENET1K_V2",
);
export const ResNet101_Weights = weightsEnum(
  "ResNet101_Weights",
  { IMAGENET1K_V1: V1("resnet101-63fe2227.pth", 44549160), IMAGENET1K_V2: V2("resnet101-cd907fc2.pth", 44549160) },
  "IMAGENET1K_V2",
);
export const ResNet152_Weights = weightsEnum(
  "ResNet152_Weights",
  { IMAGENET1K_V1: V1("resnet152-394f9c45.pth", 60192808), IMAGENET1K_V2: V2("resnet152-f82ba261.pth", 60192808) },
  "IMAGENET1K_V2",
);
export const ResNeXt50_32X4D_Weights = weightsEnum(
  "ResNeXt50_32X4D_Weights",
  { IMAGENET1K_V1: V1("resnext50_32x4d-7cdf4587.pth", 25028904), IMAGENET1K_V2: V2("resnext50_32x4d-1a0047aa.pth", 25028904) },
  "IMAGENET1K_V2",
);
export const Wide_ResNet50_2_Weights = weightsEnum(
  "Wide_ResNet50_2_Weights",
  { IMAGENET1K_V1: V1("wide_resnet50_2-95faca4d.pth", 68883240), IMAGENET1K_V2: V2("wide_resnet50_2-9ba9bcbe.pth", 68883240) },
  "IMAGENET1K_V2",
);

const EXTRA = { zeroInitResidual: "boolean" } as const;

function builder(arch: string, weights: AnyWeightsEnum) {
  function build(options?: ResNetOptions & { weights?: null }): ResNet;
  function build(options: ResNetOptions & { weights: NonNullable<ResNetOptions["weights"]> }): Promise<ResNet>;
  function build(options?: ResNetOptions): ResNet | Promise<ResNet>;
  function build(options: ResNetOptions = {}): ResNet | Promise<ResNet> {
    return buildModel(arch, (native) => new ResNet(native, arch), weights, options as ResNetOptions & Record<string, unknown>, EXTRA);
  }
  return build;
}

/**
 * torchvision's ResNet-18. Without weights the model comes back at once, with
 * torchvision's initialisation; with weights it comes back as a Promise, since
 * reading (or downloading) them is I/O.
 */
export const resnet18 = builder("resnet18", ResNet18_Weights);
export const resnet34 = builder("resnet34", ResNet34_Weights);
export const resnet50 = builder("resnet50", ResNet50_Weights);
export const resnet101 = builder("resnet101", ResNet101_Weights);
export const resnet152 = builder("resnet152", ResNet152_Weights);
export const resnext50_32x4d = builder("resnext50_32x4d", ResNeXt50_32X4D_Weights);
export const wide_resnet50_2 = builder("wide_resnet50_2", Wide_ResNet50_2_Weights);
