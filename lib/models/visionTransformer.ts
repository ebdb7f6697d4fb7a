// torchvision.models.vit_b_16 and its weights enum (URLs, eval presets and
// image sizes from torchvision 0.14).
import { NativeModule } from "../native";
import { Module } from "../nn/module";
import { buildModel, ModelOptions } from "./build";
import { weightsEnum } from "./weightsEnum";

export class VisionTransformer extends Module {
  declare conv_proj: Module;
  declare encoder: Module;
  /** A Sequential with one Linear: the head is heads.head. */
  declare heads: Module;

  /** @internal */
  constructor(native: NativeModule, readonly arch: string) {
    super(native);
  }

  toString(): string {
    return `VisionTransformer(${this.arch})`;
  }
}

export interface VisionTransformerOptions extends ModelOptions {
  /** The side of the square images the model takes (224); a multiple of the patch size, 16. Named weights fix it to theirs. */
  imageSize?: number;
  /** Dropout after the attention and in the MLPs (0). */
  dropout?: number;
  /** Dropout on the attention weights (0). */
  attentionDropout?: number;
}

const url = (file: string) => `https://download.pytorch.org/models/${file}`;

export const ViT_B_16_Weights = weightsEnum(
  "ViT_B_16_Weights",
  {
    IMAGENET1K_V1: { url: url("vit_b_16-c867db91.pth"), cropSize: 224, numParams: 86567656, minSize: 224 },
    // SWAG: pretrained on Instagram hashtags; end to end fine-tuned at 384, or a linear classifier at 224.
    IMAGENET1K_SWAG_E2E_V1: {
      url: url("vit_b_16_swag-9ac1b537.pth"), cropSize: 384, resizeSize: 384, interpolation: "bicubic", numParams: 86859496, minSize: 384,
    },
    IMAGENET1K_SWAG_LINEAR_V1: {
      url: url("vit_b_16_lc_swag-4e70ced5.pth"), cropSize: 224, resizeSize: 224, interpolation: "bicubic", numParams: 86567656, minSize: 224,
    },
  },
  "IMAGENET1K_V1",
);

export function vit_b_16(options?: VisionTransformerOptions & { weights?: null }): VisionTransformer;
export function vit_b_16(options: VisionTransformerOptions & { weights: NonNullable<VisionTransformerOptions["weights"]> }): Promise<VisionTransformer>;
export function vit_b_16(options?: VisionTransformerOptions): VisionTransformer | Promise<VisionTransformer>;
export function vit_b_16(options: VisionTransformerOptions = {}): VisionTransformer | Promise<VisionTransformer> {
  return buildModel("vit_b_16", (native) => new VisionTransformer(native, "vit_b_16"), ViT_B_16_Weights,
    options as VisionTransformerOptions & Record<string, unknown>, { imageSize: "integer", dropout: "probability", attentionDropout: "probability" });
}
