// Each run's preprocessing is its weights' own preset (torchvision's weights.transforms()), or the tutorial's
// for random weights or a file: decided by the training command, written into the model file, and read back by
// loadClassifier and export; model files from before the field load with the tutorial's.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tt from "../lib";
import { Classifier } from "../lib/classifier";
import { main as exportMain } from "../lib/cli/export";
import { decodeImage } from "../lib/data/decode";
import { readOnnxMetadata } from "../lib/onnx/metadata";
import { modelMetadata, RunSettings } from "../lib/train/checkpoint";
import { Preprocessing, preprocessingFor, TUTORIAL_PREPROCESSING } from "../lib/train/preprocessing";
import { dataTransforms } from "../lib/train/tutorial";
import { RandomResizedCrop } from "../lib/transforms/randomResizedCrop";
import { runCli, subset, DATA } from "./helpers/cli";
import { runPython } from "./helpers/python";

let tmp: string;
beforeAll(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tt-preset-"))));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const IMAGE = path.join(DATA, "val", "bees", fs.readdirSync(path.join(DATA, "val", "bees")).filter((f) => f.endsWith(".jpg")).sort()[0]);

// torchvision 0.14's eval preset of each weight: ImageClassification's resize_size, crop_size, interpolation, mean, std.
const PRESETS = `
import json, sys
from torchvision.models import get_model_weights
out = []
for arch, name in json.loads(sys.argv[1]):
    w = get_model_weights(arch)[name] if name != "DEFAULT" else get_model_weights(arch).DEFAULT
    t = w.transforms()
    out.append({"resize": t.resize_size[0], "crop": t.crop_size[0], "mean": list(t.mean), "std": list(t.std), "interpolation": t.interpolation.value})
print(json.dumps(out))
`;

test("preprocessingFor gives each named weight torchvision 0.14's preset, and the tutorial's for none or a file", () => {
  const cases: [string, string][] = [
    ["resnet18", "IMAGENET1K_V1"], ["resnet50", "IMAGENET1K_V2"], ["efficientnet_b1", "IMAGENET1K_V1"],
    ["efficientnet_b1", "IMAGENET1K_V2"], ["efficientnet_b3", "DEFAULT"], ["vit_b_16", "IMAGENET1K_SWAG_E2E_V1"], ["mobilenet_v3_large", "IMAGENET1K_V2"],
  ];
  const expected = JSON.parse(runPython(PRESETS, [JSON.stringify(cases)])) as Preprocessing[];
  expect(cases.map(([arch, name]) => preprocessingFor(arch, name))).toEqual(expected);
  // "imagenet" is what the commands default to: the architecture's DEFAULT.
  expect(preprocessingFor("efficientnet_b3", "imagenet")).toEqual(expected[4]);
  expect(preprocessingFor("efficientnet_b1", "EfficientNet_B1_Weights.IMAGENET1K_V2")).toEqual(expected[3]);
  // The tutorial's is resnet18's IMAGENET1K_V1 preset, and what train.py uses without weights.
  expect(TUTORIAL_PREPROCESSING).toEqual(expected[0]);
  expect(preprocessingFor("efficientnet_b3", "none")).toEqual(expected[0]);
  expect(preprocessingFor("vit_b_16", null)).toEqual(expected[0]);
  expect(preprocessingFor("efficientnet_b1", path.join(tmp, "my-weights.pth"))).toEqual(expected[0]);
});

test("dataTransforms take a preset: Resize and CenterCrop with its filter, RandomResizedCrop to its crop", async () => {
  const preset = preprocessingFor("efficientnet_b1", "IMAGENET1K_V1"); // bicubic 256/240
  const crop = dataTransforms.train({}, preset).transforms[0] as RandomResizedCrop;
  expect(crop).toBeInstanceOf(RandomResizedCrop);
  expect([crop.size, crop.interpolation]).toEqual([[240, 240], "bicubic"]);
  const tutorialCrop = dataTransforms.train().transforms[0] as RandomResizedCrop;
  expect([tutorialCrop.size, tutorialCrop.interpolation]).toEqual([[224, 224], "bilinear"]);
  const x = await dataTransforms.val(preset).forward(await decodeImage(IMAGE));
  // Same ops as the weights enum's own transforms().
  const y = await tt.models.EfficientNet_B1_Weights.IMAGENET1K_V1.transforms().forward(await decodeImage(IMAGE));
  expect(x.shape).toEqual([3, 240, 240]);
  expect(sameBytes((await x.data()) as Float32Array, (await y.data()) as Float32Array)).toBe(true);
});

/** Bit-for-bit equality, without jest's diff of two 170,000-number arrays. */
function sameBytes(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

async function saveModel(name: string, preprocessing?: Preprocessing): Promise<string> {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir);
  const settings: RunSettings = {
    mode: "finetune", arch: "resnet18", data: DATA, epochs: 1, batchSize: 4, lr: 0.001, momentum: 0.9,
    stepSize: 7, gamma: 0.1, weights: "none", seed: 0, device: "cpu", ...(preprocessing ? { preprocessing } : {}),
  };
  tt.manualSeed(3);
  const model = tt.models.resnet18();
  model.fc = new tt.nn.Linear(model.fc.inFeatures, 2);
  await tt.save(model.stateDict(), path.join(dir, "model.safetensors"), modelMetadata({ classes: ["ants", "bees"], settings }));
  model.dispose();
  return dir;
}

/** The tensors loadClassifier's Classifier hands its model for `image`. */
async function classifierInput(run: string): Promise<{ preprocessing: Preprocessing; input: Float32Array; shape: number[] }> {
  // Read inside the call: the Classifier disposes its inputs once the model has run.
  const seen: { input: Float32Array; shape: number[] }[] = [];
  const spy = jest.spyOn(Classifier.prototype as unknown as { runModule: (x: tt.Tensor[]) => Promise<Float32Array[]> }, "runModule");
  spy.mockImplementation(async function (this: unknown, inputs: tt.Tensor[]) {
    seen.push({ input: Float32Array.from((await inputs[0].data()) as Float32Array), shape: inputs[0].shape });
    return inputs.map(() => new Float32Array([0.5, 0.5]));
  });
  const classifier = await tt.loadClassifier(run, { maxBatch: 1 });
  try {
    await classifier.classify(IMAGE);
    expect(seen).toHaveLength(1);
    return { preprocessing: classifier.preprocessing, ...seen[0] };
  } finally {
    spy.mockRestore();
    classifier.dispose();
  }
}

const BICUBIC: Preprocessing = { resize: 255, crop: 240, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], interpolation: "bicubic" };

test("a model file whose settings say bicubic 255/240 is served through dataTransforms.val(that preset)", async () => {
  const run = await saveModel("bicubic", BICUBIC);
  const seen = await classifierInput(run);
  expect(seen.preprocessing).toEqual(BICUBIC);
  const expected = await dataTransforms.val(BICUBIC).forward(await decodeImage(IMAGE));
  expect(seen.shape).toEqual([3, 240, 240]);
  expect(sameBytes(seen.input, (await expected.data()) as Float32Array)).toBe(true);
});

test("a model file from before the field (no preprocessing in its settings) is served with the tutorial's", async () => {
  const run = await saveModel("old");
  expect(JSON.parse((await tt.loadSafetensorsMetadata(path.join(run, "model.safetensors")))!.settings).preprocessing).toBeUndefined();
  const seen = await classifierInput(run);
  expect(seen.preprocessing).toEqual(TUTORIAL_PREPROCESSING);
  const expected = await dataTransforms.val().forward(await decodeImage(IMAGE));
  expect(seen.shape).toEqual([3, 224, 224]);
  expect(sameBytes(seen.input, (await expected.data()) as Float32Array)).toBe(true);
});

test("export carries the model's own preprocessing: the .pth sidecar, the ONNX metadata_props and its input size", async () => {
  const run = path.join(tmp, "bicubic");
  expect(fs.existsSync(run)).toBe(true); // written by the test above
  const write = jest.spyOn(process.stdout, "write").mockImplementation(() => true);
  try {
    expect(await exportMain(["--model", run, "--format", "pth"])).toBe(0);
    expect(await exportMain(["--model", run, "--format", "onnx"])).toBe(0);
    expect(write.mock.calls.map((c) => String(c[0])).join("")).toContain(`input "input" [1, 3, 240, 240]`);
  } finally {
    write.mockRestore();
  }
  expect(JSON.parse(fs.readFileSync(path.join(run, "model.json"), "utf8")).preprocessing).toEqual(BICUBIC);
  const meta = readOnnxMetadata(fs.readFileSync(path.join(run, "model.onnx")));
  expect(JSON.parse(meta.preprocessing)).toEqual(BICUBIC);
}, 600_000); // an ONNX export of ResNet-18 and an onnxruntime session

test("feature-extract with named weights trains, records and resumes with their preset; --weights none keeps the tutorial's", async () => {
  const data = subset(path.join(tmp, "data"), 2);
  // torch.hub's cache with a stand-in for EfficientNet-B0's IMAGENET1K_V1 file (bicubic 256/224); the reader
  // tells formats apart by their first bytes, so a safetensors file stands in for the .pth.
  const home = path.join(tmp, "torch-home");
  const cache = path.join(home, "hub", "checkpoints");
  fs.mkdirSync(cache, { recursive: true });
  tt.manualSeed(5);
  const source = tt.models.efficientnet_b0();
  await tt.save(source.stateDict(), path.join(cache, tt.models.EfficientNet_B0_Weights.IMAGENET1K_V1.fileName));
  source.dispose();
  const preset = preprocessingFor("efficientnet_b0", "IMAGENET1K_V1");
  expect(preset.interpolation).toBe("bicubic");

  const out = path.join(tmp, "named-run");
  // DEFAULT, which the header resolves to the member it is for this architecture.
  const args = ["--arch", "efficientnet_b0", "--weights", "DEFAULT", "--data", data, "--batch-size", "2", "--no-report", "--out", out];
  const r = runCli("featureExtract", [...args, "--epochs", "1"], { TORCH_HOME: home });
  expect(r.stderr).toBe("");
  expect(r.status === 0 ? 0 : `exit status ${r.status}, stderr: ${r.stderr}`).toBe(0);  // a failure shows its stderr
  expect(r.stdout.split("\n")).toContain("inputs   Resize(256, bicubic), CenterCrop(224); training crops 224");
  expect(r.stdout.split("\n")).toContain("weights  torchvision's ImageNet (IMAGENET1K_V1)");
  const settingsOf = async (dir: string) => JSON.parse((await tt.loadSafetensorsMetadata(path.join(dir, "model.safetensors")))!.settings);
  expect((await settingsOf(out)).preprocessing).toEqual(preset);

  const resumed = runCli("featureExtract", ["--resume", out, "--epochs", "2", "--no-report"], { TORCH_HOME: home });
  expect(resumed.stderr).toBe("");
  expect(resumed.status).toBe(0);
  expect((await settingsOf(out)).preprocessing).toEqual(preset);

  const plain = path.join(tmp, "plain-run");
  const p = runCli("featureExtract", ["--weights", "none", "--data", data, "--batch-size", "2", "--no-report", "--out", plain, "--epochs", "1"]);
  expect(p.status).toBe(0);
  expect(p.stdout).not.toContain("inputs ");
  expect((await settingsOf(plain)).preprocessing).toEqual(TUTORIAL_PREPROCESSING);
}, 900_000); // three small training runs as child processes
