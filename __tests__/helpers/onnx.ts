// ONNX test helpers: ONNX's own checker (Debian's python3-onnx, beside torch in
// /usr/bin/python3) and onnxruntime-node, to judge the files tt.onnx writes.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as tt from "../../lib";
import { runPython } from "./python";

const CHECK = `
import json, sys
import onnx
# The file's bytes, not its path: onnx 1.12's check_model(path, full_check=True)
# writes its shape inference's result back over the file, which onnxruntime
# would then read instead of ours. Bytes, not a loaded model: a ModelProto is
# serialized again for each check (2 s for a ViT-B/16).
data = open(sys.argv[1], "rb").read()
onnx.checker.check_model(data, full_check=True)
m = onnx.load_from_string(data)
dims = lambda v: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
print(json.dumps({
  "opset": [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")],
  "inputs": {v.name: dims(v) for v in m.graph.input},
  "outputs": {v.name: dims(v) for v in m.graph.output},
  "ops": sorted(set(n.op_type for n in m.graph.node)),
  "initializers": len(m.graph.initializer),
  "metadata": {p.key: p.value for p in m.metadata_props},
}))
`;

export interface Checked {
  opset: number[];
  inputs: Record<string, (number | string)[]>;
  outputs: Record<string, (number | string)[]>;
  ops: string[];
  initializers: number;
  metadata: Record<string, string>;
}

/** onnx.checker.check_model(file, full_check=True), which throws on any fault; then what onnx reads in the file. */
export function checkOnnx(file: string): Checked {
  return JSON.parse(runPython(CHECK, [file])) as Checked;
}

export interface OrtRun {
  /** The session's inputMetadata: name, isTensor, type, shape (a symbolic dimension as its name). */
  inputs: { name: string; type: string; shape: (number | string)[] }[];
  results: { data: number[]; dims: number[] }[];
}

/** onnxruntime-node's logits for each NCHW input, one thread so that runs do not fight over the two cores. */
export function ortRun(file: string, inputs: { data: Float32Array; shape: number[] }[]): OrtRun {
  const inputsFile = `${file}.inputs.json`;
  fs.writeFileSync(inputsFile, JSON.stringify(inputs.map(({ data, shape }) => ({ shape, data: Array.from(data) }))));
  try {
    const out = execFileSync(process.execPath, [path.join(__dirname, "ortRun.js"), file, inputsFile], {
      encoding: "utf8", maxBuffer: 64 * 1024 * 1024, cwd: path.resolve(__dirname, "../.."),
    });
    return JSON.parse(out);
  } finally {
    fs.rmSync(inputsFile, { force: true });
  }
}

/** A deterministic input in [-2, 2] with structure (not constant), the same on every run. */
export function testInput(shape: number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, (_, i) => 2 * Math.sin(i * 0.37 + Math.cos(i * 0.011)));
}

/**
 * Gives every BatchNorm non-trivial running statistics and affine parameters:
 * freshly initialised ones (mean 0, var 1, weight 1, bias 0) make eval-mode
 * BatchNorm nearly the identity, which would hide a wrong epsilon or a
 * statistics mix-up in the graph.
 */
export async function perturbBatchNorms(model: tt.nn.Module): Promise<void> {
  let state = 12345;
  const next = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
  const stateDict = model.stateDict();
  for (const [name, t] of stateDict) {
    const leaf = name.split(".").pop()!;
    const owner = name.slice(0, name.length - leaf.length);
    const isBn = ["running_var", "running_mean", "weight", "bias"].includes(leaf) && stateDict.has(`${owner}running_var`);
    if (!isBn) {
      t.dispose();
      continue;
    }
    const count = t.shape.reduce((a, b) => a * b, 1);
    const values = Float32Array.from({ length: count }, () =>
      leaf === "running_var" ? 0.5 + next() : leaf === "weight" ? 0.5 + next() : 0.2 * (next() - 0.5));
    const source = tt.tensor(values, t.shape);
    t.copy_(source);
    source.dispose();
    t.dispose();
  }
}

/** Largest |a - b| and largest |a|. */
export function compare(ours: ArrayLike<number>, theirs: ArrayLike<number>): { diff: number; scale: number } {
  expect(theirs.length).toBe(ours.length);
  // Math.abs bound once: jest runs tests in a VM context, where each global
  // lookup in a loop goes through the context's interceptor (about 100 times
  // slower: 5 s against 50 ms over ResNet-18's 11 M weights).
  const abs = Math.abs;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < ours.length; i++) {
    const d = abs(ours[i] - theirs[i]);
    if (d > diff) diff = d;
    const s = abs(ours[i]);
    if (s > scale) scale = s;
  }
  return { diff, scale };
}
