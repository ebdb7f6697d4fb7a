// A trained model as a service: load a checkpoint once, classify images
// concurrently. Concurrent requests decode in parallel; the model runs one
// batch at a time. With `maxBatch` above 1, images that arrive while the model
// is busy wait and then go through together as one batch (dynamic batching),
// each request getting its own row back.
import { checkBoolean, checkInteger, checkOptions, invalid } from "./check";
import { checkDevice } from "./device";
import { decodeImage } from "./data/decode";
import { hflip, meanOf } from "./evaluation/tta";
import { addon } from "./native";
import { Module } from "./nn/module";
import { modelFileOf } from "./train/checkpoint";
import { loadTrainedModel } from "./train/loadTrained";
import { Preprocessing, savedPreprocessing, TUTORIAL_PREPROCESSING } from "./train/preprocessing";
import { dataTransforms } from "./train/tutorial";
import { chooseEngine, EngineChoice, EngineTimer } from "./engineChoice";
import { Tensor, tensor } from "./tensor";

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

/** What runs the model: libtorch (this package's addon) or onnxruntime-node. */
export type ClassifierEngine = "libtorch" | "onnxruntime";

export interface LoadClassifierOptions extends ClassifierOptions {
  /** Where the model runs: "cpu" (the default), "cuda" or "cuda:N"; onnxruntime runs on "cpu" only. */
  device?: string;
  /**
   * "libtorch" (the default): this package's addon, through the model's fused
   * eval form (Module.inferenceForward). "onnxruntime": the model exported to
   * ONNX, run by onnxruntime-node (an optional dependency), with the same
   * decoder, batching and API. "auto": on the CPU with onnxruntime-node
   * installed, both are loaded and each runs 2 warm-up then 5 timed batches of
   * min(maxBatch, 4) images at load; the faster (median) is kept and the other
   * freed (`classifier.engineChoice` holds the figures). Anywhere else, and if
   * onnxruntime cannot run, "auto" is libtorch.
   */
  engine?: ClassifierEngine | "auto";
  /** @internal Seconds per batch for an engine (tests inject a deterministic one); the default times real batches. */
  engineTimer?: EngineTimer;
}

/** What runs a Classifier's batches of preprocessed images (libtorch's or onnxruntime's): softmax probabilities, one row per image. */
export interface InferenceBackend {
  readonly engine: ClassifierEngine;
  run(inputs: Tensor[]): Promise<Float32Array[]>;
  dispose(): void;
}

interface Pending {
  input: Tensor;
  resolve: (probabilities: Float32Array) => void;
  reject: (err: unknown) => void;
}

export class Classifier {
  private readonly transform: ReturnType<typeof dataTransforms.val>;
  readonly maxBatch: number;
  readonly preprocessing: Preprocessing;
  private readonly waiting: Pending[] = [];
  private running = false;
  private disposed = false;
  private readonly batchListeners: ((size: number) => void)[] = [];

  private readonly backend: InferenceBackend;
  private readonly module: Module | null;

  /** `preprocessing`: the model's eval preset (loadClassifier reads it from the file); the tutorial's by default. */
  constructor(model: Module | InferenceBackend, readonly classes: string[], readonly device: string, options: ClassifierOptions & { preprocessing?: Preprocessing } = {}) {
    const { maxBatch = 4, preprocessing = TUTORIAL_PREPROCESSING } = checkOptions(options, { maxBatch: true, preprocessing: true }, "Classifier");
    this.maxBatch = checkInteger(maxBatch, "maxBatch", 1);
    this.preprocessing = preprocessing;
    this.transform = dataTransforms.val(preprocessing);
    this.module = model instanceof Module ? model : null;
    this.backend = model instanceof Module ? { engine: "libtorch", run: (inputs) => this.runModule(inputs), dispose: () => model.dispose() } : model;
  }

  /** What runs the model: "libtorch" or "onnxruntime". */
  get engine(): ClassifierEngine {
    return this.backend.engine;
  }

  /** What `engine: "auto"` measured at load, when it measured anything. */
  engineChoice: EngineChoice | undefined;

  /** @internal The backend running this classifier's batches (engine "auto" times it). */
  get inferenceBackend(): InferenceBackend {
    return this.backend;
  }

  /** The libtorch model; an engine "onnxruntime" classifier has none. */
  get model(): Module {
    if (!this.module) throw new Error(`this Classifier runs on ${this.engine}: it has no libtorch model`);
    return this.module;
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
    this.backend.dispose();
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
    this.backend.run(batch.map((p) => p.input)).then(
      (rows) => batch.forEach((p, i) => p.resolve(rows[i])),
      (err) => batch.forEach((p) => p.reject(err)),
    ).finally(() => {
      batch.forEach((p) => p.input.dispose());
      this.running = false;
      this.drain();
    });
  }

  /** Softmax probabilities of each input, one row per input, from the libtorch model. */
  private async runModule(inputs: Tensor[]): Promise<Float32Array[]> {
    const batch = addon.stack(inputs);
    const onDevice = this.device === "cpu" ? batch : batch.to(this.device);
    try {
      // The fused eval form (BatchNorm folded, oneDNN layout, InferenceMode); rebuilt by itself if the weights change.
      const logits = await this.model.inferenceForward(onDevice);
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
 * that holds it. With `engine: "onnxruntime"`, also an .onnx written by
 * `npm run export --format onnx` (a run is exported in memory first).
 */
export async function loadClassifier(fileOrRunDir: string, options: LoadClassifierOptions = {}): Promise<Classifier> {
  const { device = "cpu", maxBatch, engine = "libtorch", engineTimer } = checkOptions(options, { device: true, maxBatch: true, engine: true, engineTimer: true }, "loadClassifier");
  if (typeof fileOrRunDir !== "string" || fileOrRunDir === "") throw invalid("path to a model.safetensors or its run folder", "fileOrRunDir", fileOrRunDir);
  if (engine !== "libtorch" && engine !== "onnxruntime" && engine !== "auto") throw invalid('"libtorch", "onnxruntime" or "auto"', "engine", engine);
  if (engine === "onnxruntime" && device !== "cpu") throw new Error(`engine "onnxruntime" runs on cpu here, got device "${device}"`);
  if (engineTimer !== undefined && typeof engineTimer !== "function") throw invalid("function", "engineTimer", engineTimer);
  checkDevice(device);
  if (maxBatch !== undefined) checkInteger(maxBatch, "maxBatch", 1);
  if (engine === "onnxruntime") return loadOnnxClassifier(fileOrRunDir, device, maxBatch);
  if (fileOrRunDir.toLowerCase().endsWith(".onnx")) throw new Error(`${fileOrRunDir} is an ONNX model: load it with { engine: "onnxruntime" }`);
  const { model, meta } = await loadTrainedModel(fileOrRunDir);
  model.to(device).eval();
  const classifier = new Classifier(model, meta.classes, device, { maxBatch, preprocessing: savedPreprocessing(meta.settings) });
  if (engine === "libtorch" || device !== "cpu" || !onnxRuntimeInstalled()) return classifier;

  // "auto": time both on a batch of the classifier's own size, keep the faster.
  let onnx: Classifier;
  try {
    onnx = await loadOnnxClassifier(fileOrRunDir, device, maxBatch);
  } catch (err) {
    classifier.engineChoice = { chosen: "libtorch", batch: 0, secondsPerBatch: {}, failed: { onnxruntime: (err as Error).message } };
    return classifier;
  }
  const { crop } = classifier.preprocessing;
  const pixels = new Float32Array(3 * crop * crop);
  const batch = Math.min(classifier.maxBatch, 4);
  const { backend, choice } = await chooseEngine([classifier.inferenceBackend, onnx.inferenceBackend], () => tensor(pixels, [3, crop, crop]), batch, engineTimer)
    .catch((err) => {
      onnx.dispose();
      classifier.dispose();
      throw err;
    });
  const [kept, freed] = backend.engine === "onnxruntime" ? [onnx, classifier] : [classifier, onnx];
  freed.dispose();
  kept.engineChoice = choice;
  return kept;
}

async function loadOnnxClassifier(fileOrRunDir: string, device: string, maxBatch: number | undefined): Promise<Classifier> {
  const { loadOnnxBackend } = await import("./onnx/runtime");
  const { backend, classes, preprocessing } = await loadOnnxBackend(await modelFileOf(fileOrRunDir));
  return new Classifier(backend, classes, device, { maxBatch, preprocessing });
}

/** Whether onnxruntime-node can be found, without loading it. */
function onnxRuntimeInstalled(): boolean {
  try {
    require.resolve("onnxruntime-node");
    return true;
  } catch {
    return false;
  }
}
