// The training pipelines a run can ask for by name: the tutorial's
// (RandomResizedCrop and flip) and torchvision's classification references'
// ClassificationPresetTrain with TrivialAugmentWide ("ta_wide") or RandAugment
// ("ra") after the flip, bilinear, and RandomErasing after Normalize.
import { RgbImage } from "../../data/image";
import { Tensor } from "../../tensor";
import { Compose } from "../compose";
import { Normalize } from "../normalize";
import { RandomHorizontalFlip } from "../randomHorizontalFlip";
import { RandomResizedCrop } from "../randomResizedCrop";
import { ToTensor } from "../toTensor";
import type { InterpolationMode } from "../functional";
import { Transform } from "../transform";
import { RandAugment, TrivialAugmentWide } from "./autoaugment";
import { CutMix, MixUp, RandomChoiceBatch, BatchTransform } from "./mixup";
import { RandomErasing } from "./randomErasing";

export type AugmentName = "tutorial" | "trivialaugment" | "randaugment";
export const AUGMENTS: readonly AugmentName[] = ["tutorial", "trivialaugment", "randaugment"];

export interface AugmentSettings {
  augment?: AugmentName;
  /** RandomErasing's probability; 0 for none. */
  randomErase?: number;
}

/**
 * The crop takes the preset's filter; the policies stay bilinear, the one
 * filter besides nearest that our geometric ops (as torchvision's tensor ops) have.
 */
export function trainTransform(
  settings: AugmentSettings, mean: number[], std: number[], cropSize = 224, interpolation: InterpolationMode = "bilinear",
): Compose<RgbImage, Tensor> {
  const steps: Transform<never, unknown>[] = [new RandomResizedCrop(cropSize, { interpolation }), new RandomHorizontalFlip()];
  if (settings.augment === "trivialaugment") steps.push(new TrivialAugmentWide({ interpolation: "bilinear" }));
  if (settings.augment === "randaugment") steps.push(new RandAugment({ interpolation: "bilinear" }));
  steps.push(new ToTensor(), new Normalize(mean, std));
  if (settings.randomErase) steps.push(new RandomErasing({ p: settings.randomErase }));
  // The steps end in a Tensor (Normalize or RandomErasing), which the array type cannot say.
  return new Compose<RgbImage, Tensor>(steps as unknown as [Transform<never, Tensor>]);
}

/** train.py's mixup_transforms: RandomMixup and RandomCutmix with p=1.0, one of them per batch when both are asked for. */
export function batchMixing(numClasses: number, mixupAlpha: number, cutmixAlpha: number): BatchTransform | null {
  const choices: BatchTransform[] = [];
  if (mixupAlpha > 0) choices.push(new MixUp({ numClasses, p: 1.0, alpha: mixupAlpha }));
  if (cutmixAlpha > 0) choices.push(new CutMix({ numClasses, p: 1.0, alpha: cutmixAlpha }));
  if (choices.length === 0) return null;
  return choices.length === 1 ? choices[0] : new RandomChoiceBatch(choices);
}
