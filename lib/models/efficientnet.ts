// torchvision.models: efficientnet_b0 to efficientnet_b3, and their weights
// enums (eval presets and parameter counts from torchvision 0.14, the same in
// 0.21; URLs from 0.15 on, see `ported`).
import { NativeModule } from "../native";
import { Module } from "../nn/module";
import { buildModel, ModelOptions } from "./build";
import { AnyWeightsEnum, weightsEnum } from "./weightsEnum";

export class EfficientNet extends Module {
  declare features: Module;
  declare avgpool: Module;
  /** Dropout, Linear: the head is classifier[1]. */
  declare classifier: Module;

  /** @internal */
  constructor(native: NativeModule, readonly arch: string) {
    super(native);
  }

  toString(): string {
    return `EfficientNet(${this.arch})`;
  }
}

export interface EfficientNetOptions extends ModelOptions {
  /**
   * The classifier's dropout probability (0.2 for b0 and b1, 0.3 for b2 and b3). Later
   * torchvision versions take it as `dropout`; 0.14's builders fix it.
   */
  dropout?: number;
  /** The last block's probability of skipping its residual branch in training, rising linearly from 0 (0.2). */
  stochasticDepthProb?: number;
}

const url = (file: string) => `https://download.pytorch.org/models/${file}`;
// The original paper's weights, ported from timm, were measured with bicubic resizing.
// torchvision 0.15 republished them under new files (the same sizes, presets and
// parameter counts; torchvision 0.21 names the new ones): `url` is the file
// today's torchvision downloads, and 0.14's, which Debian 12's python3-torchvision
// caches, is still used when it is the one in the cache.
const ported = (file: string, file014: string, cropSize: number, resizeSize: number, numParams: number) =>
  ({ url: url(file), formerUrls: [url(file014)], cropSize, resizeSize, interpolation: "bicubic" as const, numParams });

export const EfficientNet_B0_Weights = weightsEnum(
  "EfficientNet_B0_Weights",
  { IMAGENET1K_V1: ported("efficientnet_b0_rwightman-7f5810bc.pth", "efficientnet_b0_rwightman-3dd342df.pth", 224, 256, 5288548) },
  "IMAGENET1K_V1",
);
export const EfficientNet_B1_Weights = weightsEnum(
  "EfficientNet_B1_Weights",
  {
    IMAGENET1K_V1: ported("efficientnet_b1_rwightman-bac287d4.pth", "efficientnet_b1_rwightman-533bc792.pth", 240, 256, 7794184),
    IMAGENET1K_V2: { url: url("efficientnet_b1-c27df63c.pth"), cropSize: 240, resizeSize: 255, numParams: 7794184 },
  },
  "IMAGENET1K_V2",
);
export const EfficientNet_B2_Weights = weightsEnum(
  "EfficientNet_B2_Weights",
  { IMAGENET1K_V1: ported("efficientnet_b2_rwightman-c35c1473.pth", "efficientnet_b2_rwightman-bcdf34b7.pth", 288, 288, 9109994) },
  "IMAGENET1K_V1",
);
export const EfficientNet_B3_Weights = weightsEnum(
  "EfficientNet_B3_Weights",
  { IMAGENET1K_V1: ported("efficientnet_b3_rwightman-b3899882.pth", "efficientnet_b3_rwightman-cf984f9c.pth", 300, 320, 12233232) },
  "IMAGENET1K_V1",
);

const EXTRA = { dropout: "probability", stochasticDepthProb: "probability" } as const;

function builder(arch: string, weights: AnyWeightsEnum) {
  function build(options?: EfficientNetOptions & { weights?: null }): EfficientNet;
  function build(options: EfficientNetOptions & { weights: NonNullable<EfficientNetOptions["weights"]> }): Promise<EfficientNet>;
  function build(options?: EfficientNetOptions): EfficientNet | Promise<EfficientNet>;
  function build(options: EfficientNetOptions = {}): EfficientNet | Promise<EfficientNet> {
    return buildModel(arch, (native) => new EfficientNet(native, arch), weights, options as EfficientNetOptions & Record<string, unknown>, EXTRA);
  }
  return build;
}

export const efficientnet_b0 = builder("efficientnet_b0", EfficientNet_B0_Weights);
export const efficientnet_b1 = builder("efficientnet_b1", EfficientNet_B1_Weights);
export const efficientnet_b2 = builder("efficientnet_b2", EfficientNet_B2_Weights);
export const efficientnet_b3 = builder("efficientnet_b3", EfficientNet_B3_Weights);
