// torchvision's augmentations (transforms and their functional forms).
export { ColorJitter } from "./colorJitter";
export type { ColorJitterOptions } from "./colorJitter";
export { RandomRotation } from "./randomRotation";
export type { RandomRotationOptions } from "./randomRotation";
export { RandomAffine } from "./randomAffine";
export type { RandomAffineOptions, AffineParams } from "./randomAffine";
export { TrivialAugmentWide, RandAugment } from "./autoaugment";
export { RandomErasing } from "./randomErasing";
export type { RandomErasingOptions, ErasingParams } from "./randomErasing";
export { MixUp, CutMix, RandomChoiceBatch } from "./mixup";
export type { BatchTransform } from "./mixup";
