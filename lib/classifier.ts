// A trained model as a service: load a checkpoint once, classify images
// concurrently. Concurrent requests decode in parallel; the model runs one
// batch at a time. With `maxBatch` above 1, images that arrive while the model
// is busy wait and then go through together as one batch (dynamic batching),
// each request getting its own row back.
import { checkInteger, checkOptions, invalid } from "./check";
import { checkDevice } from "./device";
import { decodeImage } from "./data/decode";
import { noGrad } from "./grad";
import { resnet18, ResNet } from "./models/resnet";
import { addon } from "./native";
import { Linear } from "./nn/linear";
import { modelFileOf, parseModelMetadata } from "./train/checkpoint";
import { dataTransforms } from "./train/tutorial";
import { Tensor } from "./tensor";

export interface Prediction {
  label: string;
  probability: number;
}

export interface ClassifierOptions {
  /**
   * The most images run through the model in one call: requests that arrive
   * while the model is busy share the next call. 4 (the default) measured
   * 1.4x the throughput of 1 on a 2-core CPU, with lower latency too
   * (npm run bench); 1 runs each request on its own.
   */
  maxBatch?: number;
}

export interface LoadClassifierOptions extends ClassifierOptions {
  /** Where the model runs: "cpu" (the default), "cuda" or "cuda:N". */
  device?: string;
}

interface Pending {
  input: Tensor;
  resolve: (probabilities: Float32Array) => void;
  reject: (err: unknown) => void;
}

export class Classifier {
  private readonly transform = dataTransforms.val();
  readonly maxBatch: number;
  private readonly waiting: Pending[] = [];
  private running = false;

  constructor(readonly model: ResNet, readonly classes: string[], readonly device: string, options: ClassifierOptions = {}) {
    const { maxBatch = 4 } = checkOptions(options, { maxBatch: true }, "Classifier");
    this.maxBatch = checkInteger(maxBatch, "maxBatch", 1);
  }

  /** The `topk` most likely classes of one image (a file path or its bytes), most likely first. */
  async classify(image: string | Buffer, options: { topk?: number } = {}): Promise<Prediction[]> {
    const { topk } = checkOptions(options, { topk: true }, "classify");
    if (typeof image !== "string" && !Buffer.isBuffer(image)) throw invalid("file path or Buffer", "image", image);
    const k = topk === undefined ? this.classes.length : Math.min(checkInteger(topk, "topk", 1), this.classes.length);
    const input = (await this.transform.forward(await decodeImage(image))) as Tensor;
    const values = await new Promise<Float32Array>((resolve, reject) => {
      this.waiting.push({ input, resolve, reject });
      this.drain();
    });
    return Array.from(values, (probability, i) => ({ label: this.classes[i], probability }))
      .sort((a, b) => b.probability - a.probability)
      .slice(0, k);
  }

  /** Runs queued inputs, up to maxBatch at a time, until none wait. */
  private drain(): void {
    if (this.running || this.waiting.length === 0) return;
    this.running = true;
    const batch = this.waiting.splice(0, this.maxBatch);
    this.run(batch.map((p) => p.input)).then(
      (rows) => batch.forEach((p, i) => p.resolve(rows[i])),
      (err) => batch.forEach((p) => p.reject(err)),
    ).finally(() => {
      batch.forEach((p) => p.input.dispose());
      this.running = false;
      this.drain();
    });
  }

  /** Softmax probabilities of each input, one row per input. */
  private async run(inputs: Tensor[]): Promise<Float32Array[]> {
    const batch = addon.stack(inputs);
    const onDevice = this.device === "cpu" ? batch : batch.to(this.device);
    try {
      const logits = await noGrad(() => this.model.forward(onDevice));
      try {
        const probs = await addon.softmax(logits, 1);
        const values = (await probs.data()) as Float32Array;
        probs.dispose();
        const n = this.classes.length;
        return inputs.map((_, i) => values.slice(i * n, (i + 1) * n));
      } finally {
        logits.dispose();
      }
    } finally {
      if (onDevice !== batch) onDevice.dispose();
      batch.dispose();
    }
  }
}

/**
 * Loads a model written by `npm run finetune` / `feature-extract`: its
 * model.safetensors (with the class names in its metadata), or the run folder
 * that holds it.
 */
export async function loadClassifier(fileOrRunDir: string, options: LoadClassifierOptions = {}): Promise<Classifier> {
  const { device = "cpu", maxBatch } = checkOptions(options, { device: true, maxBatch: true }, "loadClassifier");
  if (typeof fileOrRunDir !== "string" || fileOrRunDir === "") throw invalid("path to a model.safetensors or its run folder", "fileOrRunDir", fileOrRunDir);
  checkDevice(device);
  if (maxBatch !== undefined) checkInteger(maxBatch, "maxBatch", 1);
  const checkpoint = await modelFileOf(fileOrRunDir);
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
  return new Classifier(model, meta.classes, device, { maxBatch });
}
