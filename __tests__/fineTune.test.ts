// --freeze-epochs and --backbone-lr-mult (fastai's fine_tune): the phases'
// parameter groups and rates, what stays frozen, and --resume inside the
// frozen phase and at the phase boundary giving the uninterrupted run's weights.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tt from "../lib";
import { fineTunePhase, FineTuneSettings } from "../lib/train/fineTune";
import { jsonLines, runCli, subset } from "./helpers/cli";

let tmp: string;
let data: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tt-finetune-"));
  data = subset(path.join(tmp, "data"), 2);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const settings = (extra: Partial<FineTuneSettings> = {}): FineTuneSettings => ({
  optimizer: "sgd", scheduler: "step", lr: 0.01, momentum: 0.9, weightDecay: 0, stepSize: 7, gamma: 0.1, warmupEpochs: 0, epochs: 5,
  freezeEpochs: 2, backboneLrMult: 0.1, ...extra,
});

test("phase 1 trains the head and BatchNorm's weights at lr; phase 2 everything, the backbone at lr/2 x mult and the head at lr/2", () => {
  const model = tt.models.resnet18({ numClasses: 2 });
  const names = model.namedParameters().map(([n]) => n);
  const isBn = (n: string) => /(^bn1|\.bn\d|downsample\.1)\./.test(n);
  const one = fineTunePhase(settings(), model, 1, 3);
  const trainable = model.namedParameters().filter(([, p]) => p.requiresGrad).map(([n]) => n);
  expect(trainable).toEqual(names.filter((n) => n.startsWith("fc.") || isBn(n)));
  expect(trainable).toHaveLength(2 + 2 * 20); // fc, and ResNet-18's 20 BatchNorm layers
  expect(one.optimizer.paramGroups).toHaveLength(1);
  expect(one.optimizer.paramGroups[0].params).toHaveLength(trainable.length);
  expect(one.optimizer.paramGroups[0].lr).toBe(0.01);

  const two = fineTunePhase(settings(), model, 2, 3);
  expect(model.parameters().every((p) => p.requiresGrad)).toBe(true);
  expect(two.optimizer.paramGroups.map((g) => g.params.length)).toEqual([names.length - 2, 2]);
  expect(two.optimizer.paramGroups.map((g) => g.lr)).toEqual([0.005 * 0.1, 0.005]);
});

test("with onecycle, phase 1 rises over 99% of its steps and phase 2 starts at maxLr / 5, per group (fastai's pct_start and div)", () => {
  const model = tt.models.resnet18({ numClasses: 2 });
  const one = fineTunePhase(settings({ scheduler: "onecycle" }), model, 1, 10);
  expect(one.optimizer.paramGroups[0].lr).toBeCloseTo(0.01 / 25, 15); // OneCycleLR's default div 25
  // 20 steps in all, rising until step 0.99 * 20 - 1 = 18.8: after 18 steps the rate is
  // within 0.5% of its peak (PyTorch's default pctStart 0.3 would have it well down by then).
  for (let i = 0; i < 18; i++) one.scheduler.step();
  expect(one.optimizer.paramGroups[0].lr).toBeGreaterThan(0.0099);
  const two = fineTunePhase(settings({ scheduler: "onecycle" }), model, 2, 10);
  // OneCycleLR computes maxLr / divFactor itself: equal up to the last bit of the division.
  two.optimizer.paramGroups.forEach((g, i) => expect(g.lr).toBeCloseTo([0.005 * 0.1 / 5, 0.005 / 5][i], 15));
});

async function modelWeights(dir: string): Promise<Map<string, Float32Array>> {
  const sd = await tt.load(path.join(dir, "checkpoint.safetensors"));
  const out = new Map<string, Float32Array>();
  for (const [k, t] of sd) if (k.startsWith("model.") && t.dtype === "float32") out.set(k.slice(6), Float32Array.from((await t.data()) as Float32Array));
  return out;
}

test("npm run finetune --freeze-epochs: the backbone stays put while frozen, and --resume mid-phase and at the boundary matches the straight run", async () => {
  const common = ["--data", data, "--weights", "none", "--seed", "3", "--batch-size", "4", "--workers", "2", "--json", "--no-report", "--device", "cpu", "--backbone-lr-mult", "0.1"];
  const straight = path.join(tmp, "straight");
  const a = runCli("finetune", [...common, "--epochs", "3", "--freeze-epochs", "2", "--out", straight]);
  expect(a.stderr).toBe("");
  expect(a.status).toBe(0);
  const run = path.join(tmp, "resumed");
  const snapshots: Map<string, Float32Array>[] = [];
  expect(runCli("finetune", [...common, "--epochs", "1", "--freeze-epochs", "2", "--out", run]).status).toBe(0);
  snapshots.push(await modelWeights(run));
  for (const epochs of ["2", "3"]) {
    const r = runCli("finetune", ["--resume", run, "--epochs", epochs, "--json", "--no-report", "--workers", "2"]);
    expect(r.stderr).toBe("");
    expect(r.status === 0 ? 0 : `exit status ${r.status}, stderr: ${r.stderr}`).toBe(0);  // a failure shows its stderr
    expect(jsonLines(r.stdout).filter((l) => l.phase === "train").map((l) => l.epoch)).toEqual([Number(epochs) - 1]);
    snapshots.push(await modelWeights(run));
  }
  const [after1, after2, after3] = snapshots;
  // Byte comparison: jest's deep equality walks 11 million floats element by element for minutes.
  const same = (a?: Float32Array, b?: Float32Array) => !!a && !!b && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  // Frozen: a convolution's weights do not move in epochs 1-2; BatchNorm's and the head's do. Unfrozen, the convolution moves.
  expect(same(after2.get("layer1.0.conv1.weight"), after1.get("layer1.0.conv1.weight"))).toBe(true);
  expect(same(after2.get("conv1.weight"), after1.get("conv1.weight"))).toBe(true);
  expect(same(after2.get("layer1.0.bn1.weight"), after1.get("layer1.0.bn1.weight"))).toBe(false);
  expect(same(after2.get("fc.weight"), after1.get("fc.weight"))).toBe(false);
  expect(same(after3.get("layer1.0.conv1.weight"), after2.get("layer1.0.conv1.weight"))).toBe(false);
  // Resumed in phase 1 and at the boundary: the straight run's weights, to the bit.
  const want = await modelWeights(straight);
  expect(want.size).toBe(after3.size);
  expect([...want].filter(([k, v]) => !same(v, after3.get(k))).map(([k]) => k)).toEqual([]);
  const { state } = await (await import("../lib/train/checkpoint")).loadCheckpoint(straight);
  expect(state.optimizer!.paramGroups.map((g) => g.lr)).toEqual([0.0005 * 0.1, 0.0005]);
}, 1_800_000); // five training commands, one to three epochs each, on a 2-core machine shared with others

test("--freeze-epochs is refused for feature-extract and with a warm-up as long as the unfrozen phase", () => {
  const fe = runCli("featureExtract", ["--data", data, "--freeze-epochs", "1", "--epochs", "2", "--weights", "none"]);
  expect(fe.status).toBe(2);
  expect(fe.stderr).toContain("--freeze-epochs is for finetune");
  const warm = runCli("finetune", ["--data", data, "--freeze-epochs", "2", "--epochs", "4", "--warmup-epochs", "2", "--weights", "none", "--out", path.join(tmp, "w")]);
  expect(warm.status).toBe(2);
  expect(warm.stderr).toContain("--warmup-epochs must be below the unfrozen epochs (2), got 2");
});
