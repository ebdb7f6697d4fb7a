// Every architecture by torchvision's name: its builder and its weights enum.
// Callers look a model up here (getModel, --arch) and never switch on names;
// adding a model is a line below and one in native/registry.cc.
import { invalid } from "../check";
import { Linear } from "../nn/linear";
import { Module } from "../nn/module";
import type { ModelOptions } from "./build";
import * as convnext from "./convnext";
import * as efficientnet from "./efficientnet";
import * as mobilenetv3 from "./mobilenetv3";
import * as resnet from "./resnet";
import * as vit from "./visionTransformer";
import { AnyWeightsEnum, Weights } from "./weightsEnum";

interface Entry {
  build: (options?: ModelOptions) => Module | Promise<Module>;
  weights: AnyWeightsEnum;
  /** Where the last convolutional stage ends and what follows it, for Grad-CAM; none for a transformer. */
  stages?: FeatureStages;
}

/**
 * A model as its forward runs it: the top-level children up to and including
 * `features` (the last convolutional stage; ResNet's layer4, MobileNetV3's and
 * ConvNeXt's features), then global average pooling, then the classifier
 * `head` (flattened first where the model's forward flattens).
 */
export interface FeatureStages {
  /** The model's class name (ResNet, MobileNetV3, ConvNeXt). */
  kind: string;
  features: string;
  pool: string;
  head: string;
  flatten: boolean;
}

const RESNET: FeatureStages = { kind: "ResNet", features: "layer4", pool: "avgpool", head: "fc", flatten: true };
const MOBILENET: FeatureStages = { kind: "MobileNetV3", features: "features", pool: "avgpool", head: "classifier", flatten: true };
// ConvNeXt's classifier is Sequential(LayerNorm2d, Flatten, Linear): it flattens itself.
const CONVNEXT: FeatureStages = { kind: "ConvNeXt", features: "features", pool: "avgpool", head: "classifier", flatten: false };
const EFFICIENTNET: FeatureStages = { kind: "EfficientNet", features: "features", pool: "avgpool", head: "classifier", flatten: true };

const MODELS: Record<string, Entry> = {
  resnet18: { build: resnet.resnet18, weights: resnet.ResNet18_Weights, stages: RESNET },
  resnet34: { build: resnet.resnet34, weights: resnet.ResNet34_Weights, stages: RESNET },
  resnet50: { build: resnet.resnet50, weights: resnet.ResNet50_Weights, stages: RESNET },
  resnet101: { build: resnet.resnet101, weights: resnet.ResNet101_Weights, stages: RESNET },
  resnet152: { build: resnet.resnet152, weights: resnet.ResNet152_Weights, stages: RESNET },
  resnext50_32x4d: { build: resnet.resnext50_32x4d, weights: resnet.ResNeXt50_32X4D_Weights, stages: RESNET },
  wide_resnet50_2: { build: resnet.wide_resnet50_2, weights: resnet.Wide_ResNet50_2_Weights, stages: RESNET },
  mobilenet_v3_large: { build: mobilenetv3.mobilenet_v3_large, weights: mobilenetv3.MobileNet_V3_Large_Weights, stages: MOBILENET },
  mobilenet_v3_small: { build: mobilenetv3.mobilenet_v3_small, weights: mobilenetv3.MobileNet_V3_Small_Weights, stages: MOBILENET },
  convnext_tiny: { build: convnext.convnext_tiny, weights: convnext.ConvNeXt_Tiny_Weights, stages: CONVNEXT },
  efficientnet_b0: { build: efficientnet.efficientnet_b0, weights: efficientnet.EfficientNet_B0_Weights, stages: EFFICIENTNET },
  efficientnet_b1: { build: efficientnet.efficientnet_b1, weights: efficientnet.EfficientNet_B1_Weights, stages: EFFICIENTNET },
  efficientnet_b2: { build: efficientnet.efficientnet_b2, weights: efficientnet.EfficientNet_B2_Weights, stages: EFFICIENTNET },
  efficientnet_b3: { build: efficientnet.efficientnet_b3, weights: efficientnet.EfficientNet_B3_Weights, stages: EFFICIENTNET },
  vit_b_16: { build: vit.vit_b_16, weights: vit.ViT_B_16_Weights },
};

/** The registered architecture names, sorted (torchvision's list_models). */
export function listModels(): string[] {
  return Object.keys(MODELS).sort();
}

function entry(name: string): Entry {
  if (typeof name !== "string" || !Object.prototype.hasOwnProperty.call(MODELS, name)) {
    throw invalid(`one of ${listModels().join(", ")}`, "arch", name);
  }
  return MODELS[name];
}

/** A model by name, as torchvision's get_model(name, **config) builds it; a Promise when weights are given. */
export function getModel(name: string, options: ModelOptions = {}): Module | Promise<Module> {
  return entry(name).build(options);
}

/** The weights enum of an architecture (torchvision's get_model_weights). */
export function getModelWeights(name: string): AnyWeightsEnum {
  return entry(name).weights;
}

/** The stages of an architecture, by name or by a model of it (see FeatureStages). */
export function getFeatureStages(nameOrModel: string | Module): FeatureStages {
  const kinds = [...new Set(Object.values(MODELS).flatMap((e) => (e.stages ? [e.stages.kind] : [])))];
  if (typeof nameOrModel === "string") {
    const stages = entry(nameOrModel).stages;
    if (!stages) throw new TypeError(`${nameOrModel} has no convolutional stage (Grad-CAM needs one of ${kinds.join(", ")})`);
    return stages;
  }
  if (!(nameOrModel instanceof Module)) throw invalid("architecture name or Module", "model", nameOrModel);
  const kind = nameOrModel.kind;
  const found = Object.values(MODELS).find((e) => e.stages?.kind === kind);
  if (!found?.stages) throw new TypeError(`Expected a whole model of a registered architecture with a convolutional stage (${kinds.join(", ")}) but received a ${kind}`);
  return found.stages;
}

/** The weights enum member a name gives for an architecture ("IMAGENET1K_V2", "DEFAULT"), or undefined. */
export function getWeight(name: string, weightsName: string): Weights | undefined {
  const member: unknown = (getModelWeights(name) as unknown as Record<string, unknown>)[weightsName];
  return member instanceof Weights ? member : undefined;  // not the enum's other fields (enumName, members)
}

function headPath(model: Module): string {
  if (!(model instanceof Module)) throw invalid("Module", "model", model);
  const path = model.native.head;
  if (!path) throw new TypeError(`Expected a whole model (tt.models.NAME()) but received a ${model.kind}`);
  return path;
}

/** The classifier layer of a model, wherever its architecture keeps it (fc, classifier.3, heads.head). */
export function getHead(model: Module): Linear {
  return model.getSubmodule(headPath(model)) as Linear;
}

/**
 * Swaps a model's classifier layer for a new Linear with `numClasses` outputs
 * (timm's reset_classifier), torchvision's default initialisation; returns it.
 */
export function replaceHead(model: Module, numClasses: number): Linear {
  const path = headPath(model);
  const old = getHead(model);
  const head = new Linear(old.inFeatures, numClasses);
  model.setSubmodule(path, head);
  return head;
}
