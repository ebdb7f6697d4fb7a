// A trained model as a service: load a checkpoint once, classify images
// concurrently. Concurrent requests decode in parallel; the model runs one
// batch at a time. With `maxBatch` above 1, images that arrive while the model
// is busy wait and then go through together as one batch (dynamic batching),
// each request getting its own row back.
import { checkBoolean, checkInteger, checkOptions, invalid } from "./check";
import { checkDevice } from "./device";
import { decodeImage } from "./data/decode";
import { hflip, meanOf } from "./evaluation/tta";
import { noGrad } from "./grad";
import { getModel, listModels, replaceHead } from "./models/registry";
import { addon } from "./native";
import { Module } from "./nn/module";
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
  private disposed = false;
  private readonly batchListeners: ((size: number) => void)[] = [];

  constructor(readonly model: Module, readonly classes: string[], readonly device: string, options: ClassifierOptions = {}) {
    const { maxBatch = 4 } = checkOptions(options, { maxBatch: true }, "Classifier");
    this.maxBatch = checkInteger(maxBatch, "maxBatch", 1);
  }

  /**
   * The `topk` most likely classes of one image (a file path or its bytes), most
   * likely first. With `tta`, the probabilities are the mean of the softmax over
   * the image and its horizontal flip.
   */
  async classify(image: string | Buffer, options: { topk?: number; tta?: boolean } = {}): Promise<Prediction[]> {
    const { topk, tta = false } = checkOptions(options, { topk: true, tta: true }, "classify");
    checkBoolean(tta, "tta");
    if (this.disposed) throw new Error("Classifier has been disposed");
    if (typeof image !== "string" && !Buffer.isBuffer(image)) throw invalid("file path or Buffer", "image", image);
    const k = topk === undefined ? this.classes.length : Math.min(checkInteger(topk, "topk", 1), this.classes.length);
    const input = await this.transform.forward(await decodeImage(image));
    const inputs = tta ? [input, await hflip(input)] : [input];
    if (this.disposed) {
      inputs.forEach((x) => x.dispose());
      throw new Error("Classifier has been disposed");
    }
    const rows = await Promise.all(
      inputs.map((x) => new Promise<Float32Array>((resolve, reject) => {
        this.waiting.push({ input: x, resolve, reject });
        this.drain();
      })),
    );
    const values = rows.length === 2 ? meanOf(rows[0], rows[1]) : rows[0];
    return Array.from(values, (probability, i) => ({ label: this.classes[i], probability }))
      .sort((a, b) => b.probability - a.probability)
      .slice(0, k);
  }

  /**
   * Frees the model now. A batch already running finishes; requests still
   * waiting, and any later classify(), reject saying the classifier is disposed.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const pending of this.waiting.splice(0)) {
      pending.input.dispose();
      pending.reject(new Error("Classifier has been disposed"));
    }
    this.model.dispose();
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Images decoded and waiting for the model, not counting the batch it is running. */
  get queueDepth(): number {
    return this.waiting.length;
  }

  /** Calls `listener` with the size of each batch as it goes to the model (for a server's metrics). */
  onBatch(listener: (size: number) => void): void {
    if (typeof listener !== "function") throw invalid("function", "listener", listener);
    this.batchListeners.push(listener);
  }

  /** Runs queued inputs, up to maxBatch at a time, until none wait. */
  private drain(): void {
    if (this.running || this.waiting.length === 0) return;
    this.running = true;
    const batch = this.waiting.splice(0, this.maxBatch);
    for (const listener of this.batchListeners) listener(batch.length);
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
  const arch = meta.settings.arch;
  if (!listModels().includes(arch)) throw new Error(`${checkpoint} holds a ${arch} model, which this version cannot build (it knows ${listModels().join(", ")})`);
  const stateDict = await load(checkpoint);
  const model = getModel(arch) as Module;
  const headKey = `${model.native.head}.weight`;
  const headWeight = stateDict.get(headKey);
  if (!headWeight) {
    for (const t of stateDict.values()) t.dispose();
    throw new Error(`${checkpoint} has no ${headKey}: not a ${arch} classifier`);
  }
  const outputs = headWeight.shape[0];
  if (outputs !== meta.classes.length) {
    for (const t of stateDict.values()) t.dispose();
    throw new Error(`${checkpoint} names ${meta.classes.length} classes but its ${headKey} has ${outputs} outputs`);
  }
  replaceHead(model, meta.classes.length);
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
