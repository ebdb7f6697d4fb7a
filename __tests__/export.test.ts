// npm run export --format pth: Python's torch.load(f, weights_only=True) reads the file, every tensor
// byte for byte what the run saved, torchvision's resnet18 takes it strictly; the sidecar JSON carries the
// class names and the preprocessing. --format onnx writes a file ONNX's checker accepts, that onnxruntime-node
// runs to our logits, with the class names, arch and preprocessing in its metadata_props.
import { createHash } from "crypto";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as tt from "../lib";
import { main } from "../lib/cli/export";
import { UsageError } from "../lib/cli/usage";
import { readOnnxMetadata } from "../lib/onnx/metadata";
import { checkOnnx, compare, ortRun, testInput } from "./helpers/onnx";
import { runPython } from "./helpers/python";
import { saveServeModel } from "./helpers/serveModel";

let dir: string;
let checkpoint: string;

beforeAll(async () => ({ dir, checkpoint } = await saveServeModel("tt-export-")));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const READ_PTH = `
import hashlib, json, sys, torch, torchvision
sd = torch.load(sys.argv[1], weights_only=True)
model = torchvision.models.resnet18(num_classes=int(sys.argv[2]))
model.load_state_dict(sd, strict=True)
print(json.dumps({k: [list(v.shape), str(v.dtype), hashlib.sha256(v.contiguous().numpy().tobytes()).hexdigest()] for k, v in sd.items()}))
`;

test("--format pth: torch.load(weights_only=True) reads every tensor as saved, and a sidecar names classes and preprocessing", async () => {
  const out = path.join(dir, "exported", "ants-bees.pth");
  fs.mkdirSync(path.dirname(out));
  expect(await main(["--model", checkpoint, "--format", "pth", "--out", out])).toBe(0);

  const python = JSON.parse(runPython(READ_PTH, [out, "2"])) as Record<string, [number[], string, string]>;
  const ours = await tt.load(checkpoint);
  const expected: Record<string, [number[], string, string]> = {};
  for (const [key, t] of ours) {
    const values = await t.data();
    const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
    expected[key] = [t.shape, `torch.${t.dtype}`, createHash("sha256").update(bytes).digest("hex")];
    t.dispose();
  }
  expect(Object.keys(python)).toEqual(Object.keys(expected)); // torchvision's order, all 122 entries
  expect(Object.keys(python)).toHaveLength(122);
  expect(python).toEqual(expected);

  const sidecar = JSON.parse(fs.readFileSync(path.join(dir, "exported", "ants-bees.json"), "utf8"));
  expect(sidecar).toEqual({
    format: "torch-transfer/pth-sidecar-v1",
    weights: "ants-bees.pth",
    arch: "resnet18",
    classes: ["ants", "bees"],
    preprocessing: { resize: 256, crop: 224, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], interpolation: "bilinear" },
  });
});

test("without --out, model.pth and model.json go beside the model", async () => {
  expect(await main(["--model", dir, "--format", "pth"])).toBe(0);
  expect(fs.existsSync(path.join(dir, "model.pth"))).toBe(true);
  expect(JSON.parse(fs.readFileSync(path.join(dir, "model.json"), "utf8")).weights).toBe("model.pth");
});

test.each([
  [["--format", "pth"], "--model is required (a run folder or its model.safetensors; see --help)"],
  [["--model", "m"], "--format expects pth or onnx, got nothing"],
  [["--model", "m", "--format", "tflite"], '--format expects pth or onnx, got "tflite"'],
])("%j is a usage error: %s", async (argv, message) => {
  const err = await main(argv as string[]).catch((e: Error) => e);
  expect(err).toBeInstanceOf(UsageError);
  expect((err as Error).message).toBe(message);
});

// The same tolerance as onnxExport.test.ts, for the same reason: float32 kernels summing in different
// orders differ by about 1e-6 of the largest |logit|; 1e-4 of it is a 100x margin.
const RELATIVE_TOLERANCE = 1e-4;

test("--format onnx --dynamic-batch: the checker accepts it, metadata_props carry classes, arch and preprocessing, onnxruntime-node gives our logits", async () => {
  const out = path.join(dir, "exported", "ants-bees.onnx");
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const r = spawnSync(process.execPath, [path.resolve(__dirname, "../dist/cli/export.js"), "--model", checkpoint, "--format", "onnx", "--dynamic-batch", "--out", out], { encoding: "utf8" });
  expect(r.stderr).toBe("");
  expect(r.status === 0 ? 0 : `exit status ${r.status}, stderr: ${r.stderr}`).toBe(0);  // a failure shows its stderr
  expect(r.stdout).toBe(`Wrote ${out} (opset 17, input "input" [batch, 3, 224, 224], output "logits")\n`);

  const checked = checkOnnx(out);
  expect(checked.opset).toEqual([17]);
  expect(checked.metadata).toEqual({
    format: "torch-transfer/onnx-v1",
    arch: "resnet18",
    classes: '["ants","bees"]',
    preprocessing: '{"resize":256,"crop":224,"mean":[0.485,0.456,0.406],"std":[0.229,0.224,0.225],"interpolation":"bilinear"}',
  });
  // Our own reader of metadata_props (what the onnxruntime engine uses) sees the same.
  expect(readOnnxMetadata(fs.readFileSync(out))).toEqual(checked.metadata);

  const shape = [3, 3, 224, 224];
  const data = testInput(shape);
  const ran = ortRun(out, [{ data, shape }]);
  expect(ran.inputs.map((i) => [i.name, i.shape])).toEqual([["input", ["batch", 3, 224, 224]]]);
  const model = tt.models.resnet18({ numClasses: 2 });
  const sd = await tt.load(checkpoint);
  model.loadStateDict(sd);
  for (const t of sd.values()) t.dispose();
  model.eval();
  const x = tt.tensor(data, shape);
  const y = await tt.noGrad(() => model.forward(x));
  const { diff, scale } = compare((await y.data()) as Float32Array, ran.results[0].data);
  expect(ran.results[0].dims).toEqual([3, 2]);
  expect(diff).toBeLessThanOrEqual(RELATIVE_TOLERANCE * scale);
  x.dispose();
  y.dispose();
  model.dispose();
});

test("--format onnx without --out writes model.onnx beside the model, batch 1 and opset as asked", async () => {
  expect(await main(["--model", dir, "--format", "onnx", "--opset", "13"])).toBe(0);
  const checked = checkOnnx(path.join(dir, "model.onnx"));
  expect(checked.opset).toEqual([13]);
  expect(checked.inputs).toEqual({ input: [1, 3, 224, 224] });
  expect(checked.outputs).toEqual({ logits: [1, 2] });
});

test.each([
  [["--opset", "12"], '--opset expects an integer from 13 to 17, got "12"'],
  [["--opset", "18"], '--opset expects an integer from 13 to 17, got "18"'],
  [["--opset", "x"], '--opset expects an integer from 13 to 17, got "x"'],
  [["--opset", "17.5"], '--opset expects an integer from 13 to 17, got "17.5"'],
])("--format onnx %j is a usage error naming the flag: %s", async (argv, message) => {
  const err = await main(["--model", checkpoint, "--format", "onnx", ...argv]).catch((e: Error) => e);
  expect(err).toBeInstanceOf(UsageError);
  expect((err as Error).message).toBe(message);
});

test.each([
  [["--opset", "13"], "--opset applies to --format onnx only"],
  [["--dynamic-batch"], "--dynamic-batch applies to --format onnx only"],
])("--format pth with %j is a usage error: %s", async (argv, message) => {
  const err = await main(["--model", checkpoint, "--format", "pth", ...argv]).catch((e: Error) => e);
  expect(err).toBeInstanceOf(UsageError);
  expect((err as Error).message).toBe(message);
});

test("a bad --opset exits with status 2 and one line naming the flag, writing nothing", () => {
  const out = path.join(dir, "bad.onnx");
  const r = spawnSync(process.execPath, [path.resolve(__dirname, "../dist/cli/export.js"), "--model", checkpoint, "--format", "onnx", "--opset", "9", "--out", out], { encoding: "utf8" });
  expect(r.status).toBe(2);
  expect(r.stderr).toBe('export: --opset expects an integer from 13 to 17, got "9"\n');
  expect(fs.existsSync(out)).toBe(false);
});

test("--help names both formats and the ONNX flags", async () => {
  const r = spawnSync(process.execPath, [path.resolve(__dirname, "../dist/cli/export.js"), "--help"], { encoding: "utf8" });
  expect(r.status === 0 ? 0 : `exit status ${r.status}, stderr: ${r.stderr}`).toBe(0);  // a failure shows its stderr
  expect(r.stdout).toContain("--format pth|onnx");
  expect(r.stdout).toMatch(/--opset N +onnx only: the ONNX opset, 13 to 17 \(default: 17\)/);
  expect(r.stdout).toMatch(/--dynamic-batch +onnx only: a symbolic batch dimension/);
});
