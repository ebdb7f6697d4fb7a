// torchvision's augmentations (transforms and their functional forms).
export { ColorJitter } from "./colorJitter";
export type { ColorJitterOptions, JitterRange } from "./colorJitter";
export { RandomRotation } from "./randomRotation";
export type { RandomRotationOptions } from "./randomRotation";
export { RandomAffine } from "./randomAffine";
export type { RandomAffineOptions, AffineParams } from "./randomAffine";
export { TrivialAugmentWide, RandAugment } from "./autoaugment";
export type { OpName, OpSpace, PolicyOptions } from "./autoaugment";
export { RandomErasing } from "./randomErasing";
export type { RandomErasingOptions, ErasingParams } from "./randomErasing";
export { BatchMix, MixUp, CutMix, RandomChoiceBatch } from "./mixup";
export type { BatchTransform, MixOptions } from "./mixup";
export type { AugmentName, AugmentSettings } from "./presets";
