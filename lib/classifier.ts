// A trained model as a service: load a checkpoint once, classify images
// concurrently. Calls on the model are serialised by the model itself, so
// concurrent requests decode in parallel and take turns on the weights.
import { checkInteger, invalid } from "./check";
import { checkDevice } from "./device";
import { decodeImage } from "./data/decode";
import { noGrad } from "./grad";
import { resnet18, ResNet } from "./models/resnet";
import { addon } from "./native";
import { Linear } from "./nn/linear";
import { parseModelMetadata } from "./train/checkpoint";
import { dataTransforms } from "./train/tutorial";
import { Tensor } from "./tensor";

export interface Prediction {
  label: string;
  probability: number;
}

export class Classifier {
  private readonly transform = dataTransforms.val();

  constructor(readonly model: ResNet, readonly classes: string[], readonly device: string) {}

  /** The `topk` most likely classes of one image (a file path or its bytes), most likely first. */
  async classify(image: string | Buffer, { topk }: { topk?: number } = {}): Promise<Prediction[]> {
    if (typeof image !== "string" && !Buffer.isBuffer(image)) throw invalid("file path or Buffer", "image", image);
    const k = topk === undefined ? this.classes.length : Math.min(checkInteger(topk, "topk", 1), this.classes.length);
    const input = (await this.transform.forward(await decodeImage(image))) as Tensor;
    const batch = addon.stack([input]);
    input.dispose();
    const onDevice = this.device === "cpu" ? batch : batch.to(this.device);
    try {
      const logits = await noGrad(() => this.model.forward(onDevice));
      const probs = await addon.softmax(logits, 1);
      const values = (await probs.data()) as Float32Array;
      logits.dispose();
      probs.dispose();
      return Array.from(values, (probability, i) => ({ label: this.classes[i], probability }))
        .sort((a, b) => b.probability - a.probability)
        .slice(0, k);
    } finally {
      if (onDevice !== batch) onDevice.dispose();
      batch.dispose();
    }
  }
}

/** Loads a model written by `npm run finetune` / `feature-extract` (model.safetensors with class names). */
export async function loadClassifier(checkpoint: string, { device = "cpu" }: { device?: string } = {}): Promise<Classifier> {
  if (typeof checkpoint !== "string" || checkpoint === "") throw invalid("path to a model.safetensors", "checkpoint", checkpoint);
  checkDevice(device);
  const { load, loadSafetensorsMetadata } = await import("./serialization");
  const meta = parseModelMetadata(checkpoint, await loadSafetensorsMetadata(checkpoint));
  const stateDict = await load(checkpoint);
  const fcWeight = stateDict.get("fc.weight");
  if (!fcWeight) throw new Error(`${checkpoint} has no fc.weight: not a ResNet-18 classifier`);
  if (fcWeight.shape[0] !== meta.classes.length) {
    throw new Error(`${checkpoint} names ${meta.classes.length} classes but its fc.weight has ${fcWeight.shape[0]} outputs`);
  }
  const model = resnet18();
  model.fc = new Linear(model.fc.inFeatures, meta.classes.length);
  try {
    model.loadStateDict(stateDict);
  } catch (err) {
    throw new Error(`${checkpoint}: ${(err as Error).message}`);
  } finally {
    for (const t of stateDict.values()) t.dispose();
  }
  model.to(device).eval();
  return new Classifier(model, meta.classes, device);
}
