// The tutorial's set-up: its transforms, its data loaders, its two models.
import * as fs from "fs";
import * as path from "path";
import { DataLoader } from "../data/dataLoader";
import { ImageFolder } from "../datasets/imageFolder";
import { getModel, replaceHead } from "../models/registry";
import { Module } from "../nn/module";
import { SGD } from "../optim/sgd";
import { Tensor } from "../tensor";
import * as T from "../transforms";
import { AugmentSettings, trainTransform } from "../transforms/augment/presets";
import { Preprocessing, TUTORIAL_PREPROCESSING } from "./preprocessing";

export { IMAGENET_MEAN, IMAGENET_STD } from "./preprocessing";

export type Mode = "finetune" | "feature-extract";

export const dataTransforms = {
  /**
   * RandomResizedCrop(p.crop) and flip, with the references' policy and RandomErasing
   * when `augment` asks for them; the tutorial's 224, bilinear, by default.
   */
  train: (augment: AugmentSettings = {}, p: Preprocessing = TUTORIAL_PREPROCESSING) =>
    trainTransform(augment, p.mean, p.std, p.crop, p.interpolation),
  /** Resize(p.resize) and CenterCrop(p.crop): the tutorial's 256 and 224, bilinear, by default. */
  val: (p: Preprocessing = TUTORIAL_PREPROCESSING) =>
    new T.Compose([new T.Resize(p.resize, { interpolation: p.interpolation }), new T.CenterCrop(p.crop), new T.ToTensor(), new T.Normalize(p.mean, p.std)]),
};

export interface LoaderOptions {
  batchSize: number;
  numWorkers?: number;
  seed?: number;
  limit?: number;
  /** What the ImageFolders do with a file that does not decode (see ImageFolderOptions). */
  onError?: "raise" | "skip";
  /** Which files are samples (ImageFolder's isValidFile); images by extension by default. */
  isValidFile?: (path: string) => boolean;
  /** The training images' augmentation (the tutorial's by default). */
  augment?: AugmentSettings;
  /** The sizes and filter of both transforms (the tutorial's by default). */
  preprocessing?: Preprocessing;
}

/** ImageFolders for `dir`/train and `dir`/val, with the same classes, and their loaders. */
export function tutorialData(dir: string, { batchSize, numWorkers, seed, onError, isValidFile, augment, preprocessing }: LoaderOptions) {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`data folder ${dir} does not exist`);
  for (const phase of ["train", "val"]) {
    const sub = path.join(dir, phase);
    if (!fs.existsSync(sub)) throw new Error(`data folder ${dir} has no ${phase}/ folder (expected ${sub})`);
  }
  const datasets = {
    train: new ImageFolder(path.join(dir, "train"), { transform: dataTransforms.train(augment, preprocessing), onError, isValidFile }),
    val: new ImageFolder(path.join(dir, "val"), { transform: dataTransforms.val(preprocessing), onError, isValidFile }),
  };
  const a = datasets.train.classes.join(", ");
  const b = datasets.val.classes.join(", ");
  if (a !== b) throw new Error(`train and val have different classes: train has [${a}], val has [${b}]`);
  const dataloaders = {
    train: new DataLoader(datasets.train, { batchSize, shuffle: true, numWorkers, seed }),
    val: new DataLoader(datasets.val, { batchSize, shuffle: true, numWorkers, seed: seed === undefined ? undefined : seed + 1 }),
  };
  return { datasets, dataloaders, classNames: datasets.train.classes };
}

/** A data set folder seen through the val transform: no augmentation, as a feature cache needs. */
export function datasetWithValTransform(root: string, preprocessing?: Preprocessing): ImageFolder<Tensor> {
  return new ImageFolder(root, { transform: dataTransforms.val(preprocessing) });
}

/**
 * The tutorial's model for a mode: `arch` (ResNet-18 by default) with a new
 * classifier layer of `numClasses` outputs; for feature extraction every other
 * parameter is frozen and only the head is given to the optimizer.
 */
export async function tutorialModel(
  mode: Mode, numClasses: number, weights: string | null, arch = "resnet18",
): Promise<{ model: Module; trainable: Tensor[] }> {
  const model = await getModel(arch, { weights });
  if (mode === "feature-extract") for (const p of model.parameters()) p.requiresGrad = false;
  const head = replaceHead(model, numClasses);
  return { model, trainable: mode === "feature-extract" ? head.parameters() : model.parameters() };
}

export function tutorialOptimizer(params: Tensor[], lr: number, momentum: number): SGD {
  return new SGD(params, { lr, momentum });
}
