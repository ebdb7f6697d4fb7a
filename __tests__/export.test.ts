// npm run export --format pth: Python's torch.load(f, weights_only=True) reads the file, every tensor
// byte for byte what the run saved, torchvision's resnet18 takes it strictly; the sidecar JSON carries the
// class names and the preprocessing. --format onnx says it is not available yet (exit 2).
import { createHash } from "crypto";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as tt from "../lib";
import { main } from "../lib/cli/export";
import { UsageError } from "../lib/cli/usage";
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

test("--format onnx says ONNX export is not available yet, with exit status 2, writing nothing", () => {
  const out = path.join(dir, "model.onnx");
  const r = spawnSync(process.execPath, [path.resolve(__dirname, "../dist/cli/export.js"), "--model", checkpoint, "--format", "onnx", "--out", out], { encoding: "utf8" });
  expect(r.status).toBe(2);
  expect(r.stderr).toBe("export: --format onnx: ONNX export is not available yet; --format pth is\n");
  expect(fs.existsSync(out)).toBe(false);
});
