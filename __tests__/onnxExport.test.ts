// tt.onnx.export: for every registered architecture, ONNX's own checker
// (full_check, strict shape inference against the shapes we write) accepts the
// file, and onnxruntime-node computes our eval-mode logits from it, at batch 1
// and batch 3 through a symbolic batch dimension.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tt from "../lib";
import { checkOnnx, compare, ortRun, perturbBatchNorms, testInput } from "./helpers/onnx";

// float32 logits computed by two libraries whose kernels sum in different orders
// (libtorch's oneDNN/BLAS and onnxruntime's MLAS) differ by rounding that grows
// with depth: about 1e-6 of the largest |logit| measured here across these
// architectures (ResNet-152's 150 layers included). 1e-4 leaves that a 100x
// margin, while a wrong BatchNorm epsilon, a missed layer or a misplaced stride
// moves the logits by far more.
const RELATIVE_TOLERANCE = 1e-4;

// 64x64 keeps every architecture's run short on two cores: the CNNs pool
// globally, so the graph is the one a 224x224 export writes, but smaller; a ViT
// is built for 64x64 (4x4 patches of 16, plus the class token).
const SIZE = 64;
const BUILD_OPTIONS: Record<string, Record<string, unknown>> = { vit_b_16: { imageSize: SIZE } };

let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "tt-onnx-"))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function ours(model: tt.nn.Module, data: Float32Array, shape: number[]): Promise<Float32Array> {
  const x = tt.tensor(data, shape);
  const y = await tt.noGrad(() => model.forward(x));
  const out = (await y.data()) as Float32Array;
  x.dispose();
  y.dispose();
  return out;
}

async function expectSameLogits(model: tt.nn.Module, file: string, batches: number[], size: number): Promise<void> {
  const inputs = batches.map((batch) => ({ shape: [batch, 3, size, size], data: testInput([batch, 3, size, size]) }));
  const got = ortRun(file, inputs).results;
  for (const [i, { data, shape }] of inputs.entries()) {
    const expected = await ours(model, data, shape);
    expect(got[i].dims).toEqual([shape[0], expected.length / shape[0]]);
    const { diff, scale } = compare(expected, got[i].data);
    expect(scale).toBeGreaterThan(0);
    expect(diff).toBeLessThanOrEqual(RELATIVE_TOLERANCE * scale);
  }
}

test("every registered architecture has an exporter", () => {
  expect(tt.onnx.exportableModels()).toEqual(tt.models.listModels());
});

test.each(tt.models.listModels())("%s: onnx.checker (full_check) accepts the file and onnxruntime-node gives our logits at batch 1 and 3", async (arch) => {
  tt.manualSeed(7);
  const model = tt.models.getModel(arch, BUILD_OPTIONS[arch] ?? {}) as tt.nn.Module;
  // A new head, as fine-tuning makes one (Linear's default initialisation: ViT's own starts at zero).
  tt.models.replaceHead(model, 5);
  await perturbBatchNorms(model);
  model.eval();
  const size = SIZE;
  const file = path.join(dir, `${arch}.onnx`);
  await tt.onnx.export(model, file, { dynamicBatch: true, imageSize: size });

  const checked = checkOnnx(file);
  expect(checked.opset).toEqual([tt.onnx.DEFAULT_OPSET]);
  expect(checked.inputs).toEqual({ input: ["batch", 3, size, size] });
  expect(checked.outputs).toEqual({ logits: ["batch", 5] });
  expect(checked.ops).not.toContain("Dropout");
  // Every state-dict entry but BatchNorm's step counters is an initializer.
  const entries = [...model.stateDict().keys()].filter((k) => !k.endsWith("num_batches_tracked"));
  expect(checked.initializers).toBeGreaterThanOrEqual(entries.length);

  await expectSameLogits(model, file, [1, 3], size);
  fs.rmSync(file);
  model.dispose();
});

test.each(["mobilenet_v3_small", "convnext_tiny"])("%s at opset 13 (HardSwish and LayerNormalization spelled out) passes the checker and matches", async (arch) => {
  tt.manualSeed(8);
  const model = tt.models.getModel(arch) as tt.nn.Module;
  await perturbBatchNorms(model);
  model.eval();
  const file = path.join(dir, `${arch}-13.onnx`);
  await tt.onnx.export(model, file, { opset: 13, imageSize: 64 });
  const checked = checkOnnx(file);
  expect(checked.opset).toEqual([13]);
  expect(checked.inputs).toEqual({ input: [1, 3, 64, 64] });
  expect(checked.ops).not.toContain("HardSwish");
  expect(checked.ops).not.toContain("LayerNormalization");
  await expectSameLogits(model, file, [1], 64);
  model.dispose();
});

test("a model in train mode exports its eval-mode graph and stays in train mode", async () => {
  tt.manualSeed(9);
  const model = tt.models.mobilenet_v3_small({ numClasses: 3, dropout: 0.9 });
  await perturbBatchNorms(model);
  model.train();
  const file = path.join(dir, "train-mode.onnx");
  await tt.onnx.export(model, file, { imageSize: 64 });
  expect(model.training).toBe(true);
  expect(checkOnnx(file).ops).not.toContain("Dropout");
  model.eval();
  await expectSameLogits(model, file, [1], 64);
  model.dispose();
});

test("without dynamicBatch the batch dimension is 1, and metadata goes into metadata_props", async () => {
  const model = tt.models.resnet18({ numClasses: 2 });
  const file = path.join(dir, "static.onnx");
  await tt.onnx.export(model, file, { imageSize: 64, metadata: { classes: '["ants","bees"]', arch: "resnet18" } });
  const checked = checkOnnx(file);
  expect(checked.inputs).toEqual({ input: [1, 3, 64, 64] });
  expect(checked.outputs).toEqual({ logits: [1, 2] });
  expect(checked.metadata).toEqual({ classes: '["ants","bees"]', arch: "resnet18" });
  model.dispose();
});

test("writing is atomic: the file appears whole, with no temporary file left beside it", async () => {
  const model = tt.models.resnet18({ numClasses: 2 });
  const folder = fs.mkdtempSync(path.join(dir, "atomic-"));
  const file = path.join(folder, "m.onnx");
  fs.writeFileSync(file, "old");
  await tt.onnx.export(model, file, { imageSize: 64 });
  expect(fs.readdirSync(folder)).toEqual(["m.onnx"]);
  expect(checkOnnx(file).outputs).toEqual({ logits: [1, 2] });
  const missing = path.join(folder, "no-such-folder", "m.onnx");
  await expect(tt.onnx.export(model, missing, { imageSize: 64 })).rejects.toThrow(`cannot write ${missing}`);
  expect(fs.readdirSync(folder)).toEqual(["m.onnx"]);
  model.dispose();
});

test.each([
  [{ opset: 12 }, "Expected integer opset from 13 to 17 for opset but received 12 of type number"],
  [{ opset: 18 }, "Expected integer opset from 13 to 17 for opset but received 18 of type number"],
  [{ opset: "17" }, 'Expected integer opset from 13 to 17 for opset but received "17" of type string'],
  [{ dynamicBatch: 1 }, "Expected boolean for dynamicBatch but received 1 of type number"],
  [{ imageSize: 0 }, "Expected positive integer for imageSize but received 0 of type number"],
  [{ metadata: { classes: ["a"] } }, "Expected string for metadata.classes but received an array of length 1"],
  [{ dynamic_batch: true }, "dynamic_batch"],
])("rejects bad options %j: %s", async (options, message) => {
  const model = tt.models.resnet18({ numClasses: 2 });
  const file = path.join(dir, "bad.onnx");
  await expect(tt.onnx.export(model, file, options as tt.onnx.OnnxExportOptions)).rejects.toThrow(message);
  expect(fs.existsSync(file)).toBe(false);
  model.dispose();
});

test("rejects a part of a model and a disposed model, naming what it expected", async () => {
  const model = tt.models.resnet18();
  const file = path.join(dir, "part.onnx");
  await expect(tt.onnx.export(model.getSubmodule("layer1"), file)).rejects.toThrow("Expected a whole model (tt.models.NAME()) for model but received a Sequential");
  await expect(tt.onnx.export({} as tt.nn.Module, file)).rejects.toThrow("Expected Module for model but received an object (Object)");
  model.dispose();
  await expect(tt.onnx.export(model, file)).rejects.toThrow("model is a Module that has been disposed");
  expect(fs.existsSync(file)).toBe(false);
});

test("a ViT exports at the size it was built for, and another imageSize is refused by name", async () => {
  const model = tt.models.vit_b_16({ imageSize: 32, numClasses: 2 });
  await expect(tt.onnx.export(model, path.join(dir, "vit.onnx"))).rejects.toThrow(
    "cannot export: this ViT takes 32x32 images (its pos_embedding), not imageSize 224",
  );
  expect(fs.existsSync(path.join(dir, "vit.onnx"))).toBe(false);
  model.dispose();
});
