// A model saved by finetune or feature-extract, rebuilt: its architecture from
// the file's metadata, a head with one output per class name, the weights loaded.
import { getModel, listModels, replaceHead } from "../models/registry";
import { ModelOptions } from "../models/build";
import { Module } from "../nn/module";
import { ModelMetadata, modelFileOf, parseModelMetadata } from "./checkpoint";
import { savedPreprocessing } from "./preprocessing";

export interface TrainedModel {
  /** The model.safetensors read. */
  checkpoint: string;
  model: Module;
  meta: ModelMetadata;
}

export async function loadTrainedModel(fileOrRunDir: string): Promise<TrainedModel> {
  const checkpoint = await modelFileOf(fileOrRunDir);
  // Imported when called, as checkpoint.ts does: serialization imports the model side itself.
  const { load, loadSafetensorsMetadata } = await import("../serialization");
  const meta = parseModelMetadata(checkpoint, await loadSafetensorsMetadata(checkpoint));
  const arch = meta.settings.arch;
  if (!listModels().includes(arch)) throw new Error(`${checkpoint} holds a ${arch} model, which this version cannot build (it knows ${listModels().join(", ")})`);
  const stateDict = await load(checkpoint);
  // A ViT's position embedding fixes its input size: the crop it was trained at (384 for SWAG E2E).
  const model = getModel(arch, arch.startsWith("vit_") ? ({ imageSize: savedPreprocessing(meta.settings).crop } as ModelOptions) : {}) as Module;
  try {
    const headKey = `${model.native.head}.weight`;
    const headWeight = stateDict.get(headKey);
    if (!headWeight) throw new Error(`${checkpoint} has no ${headKey}: not a ${arch} classifier`);
    const outputs = headWeight.shape[0];
    if (outputs !== meta.classes.length) throw new Error(`${checkpoint} names ${meta.classes.length} classes but its ${headKey} has ${outputs} outputs`);
    replaceHead(model, meta.classes.length);
    try {
      model.loadStateDict(stateDict);
    } catch (err) {
      throw new Error(`${checkpoint}: ${(err as Error).message}`);
    }
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    for (const t of stateDict.values()) t.dispose();
  }
  return { checkpoint, model, meta };
}
