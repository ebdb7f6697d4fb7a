// The eval preprocessing a run trains, validates and serves with: its weights'
// own preset (torchvision's weights.transforms()) for named weights, the
// tutorial's Resize(256) and CenterCrop(224), bilinear, for random weights or a
// file (torchvision's references/classification/train.py defaults to the same).
import { getModelWeights, getWeight } from "../models/registry";
import type { InterpolationMode } from "../transforms/functional";

/** Resize(resize, interpolation), CenterCrop(crop), ToTensor, Normalize(mean, std); training crops `crop` with the same filter. */
export interface Preprocessing {
  resize: number;
  crop: number;
  mean: number[];
  std: number[];
  interpolation: InterpolationMode;
}

export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
export const IMAGENET_STD = [0.229, 0.224, 0.225];

export const TUTORIAL_PREPROCESSING: Readonly<Preprocessing> = Object.freeze({
  resize: 256, crop: 224, mean: IMAGENET_MEAN, std: IMAGENET_STD, interpolation: "bilinear",
});

/**
 * The preprocessing for `arch` started from `weights` as the training commands
 * take it: a weights name (DEFAULT, IMAGENET1K_V1, ..., "imagenet" meaning
 * DEFAULT, as tutorialModel resolves it) gives that weight's preset; "none",
 * null or a weights file gives the tutorial's.
 */
export function preprocessingFor(arch: string, weights: string | null): Preprocessing {
  const enumName = getModelWeights(arch).enumName;
  const name = weights === null || weights === "none" ? null
    : weights.toLowerCase() === "imagenet" ? "DEFAULT"
      : weights.startsWith(`${enumName}.`) ? weights.slice(enumName.length + 1) : weights;
  const member = name !== null && /^(DEFAULT|IMAGENET1K_[A-Z0-9_]+)$/.test(name) ? getWeight(arch, name) : undefined;
  if (!member) return { ...TUTORIAL_PREPROCESSING };
  return { resize: member.resizeSize, crop: member.cropSize, mean: [...member.mean], std: [...member.std], interpolation: member.interpolation };
}

/** A model file's preprocessing: what its settings recorded, the tutorial's for files written before it was. */
export function savedPreprocessing(settings: { preprocessing?: Preprocessing } | undefined): Preprocessing {
  return settings?.preprocessing ?? { ...TUTORIAL_PREPROCESSING };
}
