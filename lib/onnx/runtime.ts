// The onnxruntime engine of loadClassifier: an ONNX file written by `npm run
// export --format onnx` (or a run exported in memory) run by onnxruntime-node,
// an optional dependency, loaded only when this engine is asked for.
import * as fs from "fs";
import type { InferenceBackend } from "../classifier";
import { Tensor } from "../tensor";
import { Preprocessing, savedPreprocessing } from "../train/preprocessing";
import { toOnnx } from "./export";
import { readOnnxMetadata } from "./metadata";

type Ort = typeof import("onnxruntime-node");
type Session = import("onnxruntime-node").InferenceSession;

/** The ONNX format of `npm run export` (lib/cli/export.ts writes it). */
const FORMAT = "torch-transfer/onnx-v1";

/** onnxruntime-node, or an Error that says how to get it. */
export function requireOnnxRuntime(): Ort {
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return require("onnxruntime-node") as Ort;
  } catch (err) {
    throw new Error(
      `engine "onnxruntime" needs the optional package onnxruntime-node, which is not installed here ` +
        `(npm install onnxruntime-node): ${(err as Error).message.split("\n")[0]}`,
    );
  }
}

/** The class names an exported file carries, in the head's order, and its preprocessing (the tutorial's in files from before that was recorded). */
function classesOf(file: string, bytes: Uint8Array): { classes: string[]; preprocessing: Preprocessing } {
  let meta: Record<string, string>;
  try {
    meta = readOnnxMetadata(bytes);
  } catch (err) {
    throw new Error(`${file} is not an ONNX model: ${(err as Error).message}`);
  }
  if (meta.format !== FORMAT || !meta.classes) {
    throw new Error(`${file} is not an ONNX model written by npm run export --format onnx (its metadata_props have no ${FORMAT} class names)`);
  }
  const classes = JSON.parse(meta.classes) as unknown;
  if (!Array.isArray(classes) || !classes.every((c) => typeof c === "string")) throw new Error(`${file}: metadata_props classes is not a list of strings`);
  return { classes, preprocessing: savedPreprocessing({ preprocessing: meta.preprocessing ? (JSON.parse(meta.preprocessing) as Preprocessing) : undefined }) };
}

function softmaxRows(logits: Float32Array, rows: number, n: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let r = 0; r < rows; r++) {
    const row = logits.subarray(r * n, (r + 1) * n);
    let max = -Infinity;
    for (const v of row) max = Math.max(max, v);
    let sum = 0;
    const probs = new Float32Array(n);
    const exps = Array.from(row, (v) => Math.exp(v - max));
    for (const e of exps) sum += e;
    exps.forEach((e, i) => (probs[i] = e / sum));
    out.push(probs);
  }
  return out;
}

class OnnxBackend implements InferenceBackend {
  readonly engine = "onnxruntime" as const;
  private disposed = false;
  /** The batch in flight: the session is released only after it, never under it. */
  private inFlight: Promise<unknown> = Promise.resolve();

  constructor(private readonly ort: Ort, private readonly session: Session, private readonly classCount: number, private readonly fixedBatch: boolean) {}

  run(inputs: Tensor[]): Promise<Float32Array[]> {
    if (this.disposed) return Promise.reject(new Error("Classifier has been disposed"));
    const done = this.runBatch(inputs);
    this.inFlight = done.catch(() => undefined);
    return done;
  }

  private async runBatch(inputs: Tensor[]): Promise<Float32Array[]> {
    const images = await Promise.all(inputs.map(async (t) => ({ shape: t.shape, data: (await t.data()) as Float32Array })));
    // A file exported without --dynamic-batch takes one image per call.
    const groups = this.fixedBatch ? images.map((image) => [image]) : [images];
    const rows: Float32Array[] = [];
    for (const group of groups) {
      const [c, h, w] = group[0].shape;
      const batch = new Float32Array(group.length * c * h * w);
      group.forEach((image, i) => batch.set(image.data, i * c * h * w));
      const result = await this.session.run({ input: new this.ort.Tensor("float32", batch, [group.length, c, h, w]) });
      const logits = result.logits;
      rows.push(...softmaxRows(logits.data as Float32Array, group.length, this.classCount));
      logits.dispose();
    }
    return rows;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    void this.inFlight.then(() => this.session.release());
  }
}

/**
 * An onnxruntime session over `file`: an .onnx from `npm run export`, or a run
 * (folder or model.safetensors) exported in memory first, with a symbolic batch.
 */
export async function loadOnnxBackend(file: string): Promise<{ backend: InferenceBackend; classes: string[]; preprocessing: Preprocessing }> {
  const ort = requireOnnxRuntime();
  let bytes: Uint8Array;
  let classes: string[];
  let preprocessing: Preprocessing;
  if (file.toLowerCase().endsWith(".onnx")) {
    bytes = await fs.promises.readFile(file).catch((err: Error) => {
      throw new Error(`cannot read ${file}: ${err.message}`);
    });
    ({ classes, preprocessing } = classesOf(file, bytes));
  } else {
    const { loadTrainedModel } = await import("../train/loadTrained");
    const { model, meta } = await loadTrainedModel(file);
    preprocessing = savedPreprocessing(meta.settings);
    try {
      bytes = await toOnnx(model, { dynamicBatch: true, imageSize: preprocessing.crop });
    } finally {
      model.dispose();
    }
    classes = meta.classes;
  }
  const session = await ort.InferenceSession.create(bytes).catch((err: Error) => {
    throw new Error(`onnxruntime cannot load ${file}: ${err.message}`);
  });
  const input = session.inputMetadata?.find((m) => m.name === "input");
  if (!session.inputNames.includes("input") || !session.outputNames.includes("logits")) {
    await session.release();
    throw new Error(`${file} has no "input" and "logits": not a model written by npm run export --format onnx`);
  }
  const shape = input && input.isTensor ? input.shape : [];
  return { backend: new OnnxBackend(ort, session, classes.length, typeof shape[0] === "number"), classes, preprocessing };
}
