// tt.onnx.export(model, file, options): a model's eval-mode forward pass as an
// ONNX file, written whole or not at all. The graph is written by hand, layer by
// layer (exporters.ts); the weights go in as raw float32 under their state-dict names.
import { checkBoolean, checkInteger, checkOptions, invalid } from "../check";
import { Module } from "../nn/module";
import { writeChunksAtomic } from "../serialization/atomicFile";
import { exportableModels, exporterFor } from "./exporters";
import { Graph, Weight } from "./graph";
import { encodeModel } from "./proto";

/** onnx 1.12's checker knows opsets up to 17; 13 is the oldest whose ops this exporter spells. */
export const MIN_OPSET = 13;
export const MAX_OPSET = 17;
export const DEFAULT_OPSET = 17;
/** IR version 8 is onnx 1.12's own, the one that goes with opset 17. */
const IR_VERSION = 8;

export interface OnnxExportOptions {
  /** ONNX opset, 13 to 17 (default 17: LayerNormalization and HardSwish as single ops). */
  opset?: number;
  /** The batch dimension as a symbol ("batch") rather than 1 (default false). */
  dynamicBatch?: boolean;
  /** Height and width of the input image (default 224); every registered architecture but a ViT takes any size. */
  imageSize?: number;
  /** Key-value strings for the file's metadata_props (class names, preprocessing). */
  metadata?: Record<string, string>;
}

function archOf(model: Module): string {
  const arch = (model as Module & { arch?: unknown }).arch;
  if (typeof arch !== "string") throw new TypeError(`Expected a whole model (tt.models.NAME()) for model but received a ${model.kind}`);
  return arch;
}

function checkMetadata(value: unknown): Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw invalid("an object of strings", "metadata", value);
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== "string") throw invalid("string", `metadata.${key}`, v);
  }
  return value as Record<string, string>;
}

async function readWeights(model: Module): Promise<Map<string, Weight>> {
  const weights = new Map<string, Weight>();
  for (const [key, t] of model.stateDict()) {
    try {
      // num_batches_tracked (int64) only counts training steps; the eval graph never reads it.
      if (key.endsWith("num_batches_tracked")) {
        weights.set(key, { dims: t.shape, data: new Float32Array(0) });
        continue;
      }
      if (t.dtype !== "float32") throw new Error(`cannot export: ${key} is ${t.dtype}; ONNX export writes float32 models (call model.to("cpu", "float32") first)`);
      weights.set(key, { dims: t.shape, data: (await t.data()) as Float32Array });
    } finally {
      t.dispose();
    }
  }
  return weights;
}

/** The ONNX ModelProto bytes of a model's eval-mode forward pass. */
export async function toOnnx(model: Module, options: OnnxExportOptions = {}): Promise<Uint8Array> {
  if (!(model instanceof Module)) throw invalid("Module", "model", model);
  if (model.isDisposed) throw new Error("model is a Module that has been disposed");
  const { opset = DEFAULT_OPSET, dynamicBatch = false, imageSize = 224, metadata = {} } =
    checkOptions(options, { opset: true, dynamicBatch: true, imageSize: true, metadata: true }, "onnx.export");
  if (typeof opset !== "number" || !Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) {
    throw invalid(`integer opset from ${MIN_OPSET} to ${MAX_OPSET}`, "opset", opset);
  }
  checkBoolean(dynamicBatch, "dynamicBatch");
  checkInteger(imageSize, "imageSize", 1);
  checkMetadata(metadata);
  const arch = archOf(model);
  const exporter = exporterFor(arch);
  if (!exporter) throw new Error(`ONNX export does not know ${arch} yet (it knows ${exportableModels().join(", ")})`);

  const g = new Graph(await readWeights(model), opset);
  const input = g.input("input", [dynamicBatch ? "batch" : 1, 3, imageSize, imageSize]);
  const logits = exporter(g, input);
  const unused = g.unused();
  if (unused.length) throw new Error(`cannot export ${arch}: the graph does not read ${unused.join(", ")} (a changed module tree?)`);
  return encodeModel({
    ir_version: IR_VERSION,
    producer_name: "torch-transfer",
    producer_version: require("../../package.json").version,
    opset_import: [{ domain: "", version: opset }],
    metadata_props: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    graph: g.toProto(arch, logits, "logits"),
  });
}

/**
 * Writes `model` as an ONNX file (input "input", NCHW float32; output "logits"),
 * in eval mode whatever mode the model is in: BatchNorm with its running
 * statistics, dropout and stochastic depth left out.
 */
async function exportModel(model: Module, file: string, options: OnnxExportOptions = {}): Promise<void> {
  if (typeof file !== "string" || file === "") throw invalid("non-empty file path string", "file", file);
  const bytes = await toOnnx(model, options);
  await writeChunksAtomic(file, [bytes]);
}

export { exportModel as export };
