export {
  ResNet, resnet18, resnet34, resnet50, resnet101, resnet152, resnext50_32x4d, wide_resnet50_2,
  ResNet18_Weights, ResNet34_Weights, ResNet50_Weights, ResNet101_Weights, ResNet152_Weights, ResNeXt50_32X4D_Weights, Wide_ResNet50_2_Weights,
} from "./resnet";
export type { ResNetOptions, ResNet18Options } from "./resnet";
export { MobileNetV3, mobilenet_v3_large, mobilenet_v3_small, MobileNet_V3_Large_Weights, MobileNet_V3_Small_Weights } from "./mobilenetv3";
export type { MobileNetV3Options } from "./mobilenetv3";
export { ConvNeXt, convnext_tiny, ConvNeXt_Tiny_Weights } from "./convnext";
export type { ConvNeXtOptions } from "./convnext";
export {
  EfficientNet, efficientnet_b0, efficientnet_b1, efficientnet_b2, efficientnet_b3,
  EfficientNet_B0_Weights, EfficientNet_B1_Weights, EfficientNet_B2_Weights, EfficientNet_B3_Weights,
} from "./efficientnet";
export type { EfficientNetOptions } from "./efficientnet";
export { VisionTransformer, vit_b_16, ViT_B_16_Weights } from "./visionTransformer";
export type { VisionTransformerOptions } from "./visionTransformer";
export type { ModelOptions } from "./build";
export { Weights } from "./weightsEnum";
export type { WeightsEnum, AnyWeightsEnum, WeightsSpec } from "./weightsEnum";
export { listModels, getModel, getModelWeights, getWeight, getHead, replaceHead, getFeatureStages } from "./registry";
export type { FeatureStages } from "./registry";
