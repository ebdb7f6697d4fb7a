// Training on CUDA: the fused step against Python's CUDA torch on the same
// weights (float32, and torch.cuda.amp's autocast with its GradScaler: the
// real thing, whose kernels run on CUDA), and the commands end to end on a GPU:
// finetune (with --amp too), predict and loadClassifier, and the checkpoint
// loaded onto the GPU and onto the CPU.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tt from "../../lib";
import { DATA, runCli, subset } from "../helpers/cli";
import { requireTorchPython } from "../helpers/python";
import { PY_WRITE_RAW, readRaw } from "../helpers/rawStateDict";
import { DEVICE, maxAbs, maxDiff, requireCuda, values } from "./gpu";

let dir: string;
beforeAll(() => {
  requireCuda();
  if (!fs.existsSync(DATA)) throw new Error(`the tutorial's data is missing at ${DATA} (scripts/gpu-check.sh links it there)`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tt-gpu-train-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const PY_STEPS = PY_WRITE_RAW + `
import sys, torch
import torch.nn.functional as F
folder = sys.argv[1]
assert torch.cuda.is_available(), "Python's torch here has no CUDA device"
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
torch.manual_seed(8)
start = torch.nn.Linear(3072, 10)
write_raw(folder, "start", start.state_dict())
xs = [torch.randn(8, 3072) for _ in range(5)]
ys = [torch.randint(0, 10, (8,)) for _ in range(5)]
inf_xs = [x.clone() for x in xs]
inf_xs[2][0, 0] = float("inf")
batches = {}
for i in range(5):
    batches["x%d" % i] = xs[i]; batches["inf_x%d" % i] = inf_xs[i]; batches["y%d" % i] = ys[i]
write_raw(folder, "batches", batches)
for name, amp, inputs in (("fp32", False, xs), ("amp", True, inf_xs)):
    m = torch.nn.Linear(3072, 10).cuda()
    m.load_state_dict(start.state_dict())
    opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
    scaler = torch.cuda.amp.GradScaler(init_scale=1024.0, growth_interval=2, enabled=amp)
    losses, scales = [], []
    for x, y in zip(inputs, ys):
        opt.zero_grad()
        with torch.autocast("cuda", dtype=torch.float16, enabled=amp):
            loss = F.cross_entropy(m(x.cuda()), y.cuda())
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        losses.append(loss.item()); scales.append(scaler.get_scale() if amp else 1.0)
    out = dict(m.state_dict())
    out["losses"] = torch.tensor(losses, dtype=torch.float64)
    out["scales"] = torch.tensor(scales, dtype=torch.float64)
    write_raw(folder, name, out)
`;

test("the fused step on CUDA equals Python's CUDA torch: float32, and autocast with torch.cuda.amp.GradScaler (an inf batch skipped)", async () => {
  execFileSync(requireTorchPython(), ["-c", PY_STEPS, dir], { encoding: "utf8", timeout: 300_000 });
  const b = readRaw(dir, "batches");
  for (const name of ["fp32", "amp"] as const) {
    const model = new tt.nn.Linear(3072, 10);
    model.loadStateDict(readRaw(dir, "start"));
    model.to(DEVICE).train();
    const optimizer = new tt.optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
    const criterion = new tt.nn.CrossEntropyLoss();
    const scaler = new tt.amp.GradScaler({ initScale: 1024, growthInterval: 2 });
    const losses: number[] = [], scales: number[] = [];
    for (let i = 0; i < 5; i++) {
      const x = b.get(`${name === "amp" ? "inf_" : ""}x${i}`)!.to(DEVICE);
      const y = b.get(`y${i}`)!.to(DEVICE);
      const amp = name === "amp" ? { device: "cuda" as const, dtype: "float16" as const, scaler: scaler.native } : null;
      const r = await model.runBatch(optimizer.native, x, y, true, criterion.nativeOptions, amp);
      losses.push(r.loss);
      scales.push(name === "amp" ? scaler.getScale() : 1);
    }
    const theirs = readRaw(dir, name);
    const theirLosses = await values(theirs.get("losses")!);
    // The same cuBLAS kernels on both sides (this build links Python's own
    // libtorch); float32: 1e-5 relative; float16 autocast: 1e-3 (two float16 roundings).
    const tol = name === "fp32" ? 1e-5 : 1e-3;
    losses.forEach((l, i) => {
      if (Number.isFinite(theirLosses[i])) expect(Math.abs(l - theirLosses[i]) / Math.abs(theirLosses[i])).toBeLessThan(tol);
      else expect(Number.isFinite(l)).toBe(false); // the inf batch
    });
    expect(scales).toEqual(await values(theirs.get("scales")!));
    if (name === "amp") expect(scales).toEqual([1024, 2048, 1024, 1024, 2048]);
    for (const key of ["weight", "bias"]) {
      const ours = await values(model.stateDict().get(key)!);
      const ref = await values(theirs.get(key)!);
      expect(maxDiff(ours, ref)).toBeLessThan(tol * Math.max(1e-2, maxAbs(ref)));
    }
    model.dispose();
  }
});

test("finetune on cuda:0 (and with --amp), predict and loadClassifier on CUDA as on CPU, the checkpoint onto either device", async () => {
  const data = subset(path.join(dir, "data"), 4, ["ants", "bees"]);
  const out = path.join(dir, "run");
  const r = runCli("finetune", ["--data", data, "--device", DEVICE, "--epochs", "2", "--batch-size", "4", "--weights", "none", "--out", out, "--json", "--no-report"]);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  const ampOut = path.join(dir, "run-amp");
  const a = runCli("finetune", ["--data", data, "--device", DEVICE, "--amp", "--epochs", "2", "--batch-size", "4", "--weights", "none", "--out", ampOut, "--no-report"]);
  expect(a.status).toBe(0);
  expect(a.stdout).toMatch(/^amp\s+float16 autocast with a GradScaler$/m);
  const ckpt = await tt.loadSafetensorsMetadata(path.join(ampOut, "checkpoint.safetensors"));
  expect(JSON.parse(ckpt!.state ?? "{}").gradScaler?.scale).toBeGreaterThan(0);

  const image = path.join(data, "val", "ants", fs.readdirSync(path.join(data, "val", "ants"))[0]);
  const onCpu = await tt.loadClassifier(out, { device: "cpu" });
  const onGpu = await tt.loadClassifier(out, { device: DEVICE });
  const [[p], [q]] = [await onCpu.classify(image), await onGpu.classify(image)];
  expect(q.label).toBe(p.label);
  // Probabilities from float32 logits, TF32 off in this process: 1e-4.
  expect(Math.abs(q.probability - p.probability)).toBeLessThan(1e-4);
  onCpu.dispose();
  onGpu.dispose();

  const cpuLine = runCli("predict", ["--model", out, "--device", "cpu", image]);
  const gpuLine = runCli("predict", ["--model", out, "--device", DEVICE, image]);
  expect(gpuLine.status).toBe(0);
  expect(gpuLine.stdout.split(/\s+/)[1]).toBe(cpuLine.stdout.split(/\s+/)[1]);

  // Saved from CUDA, loaded anywhere: the file holds no device.
  const there = await tt.load(path.join(out, "model.safetensors"), { mapLocation: DEVICE });
  const here = await tt.load(path.join(out, "model.safetensors"));
  for (const [name, t] of there) {
    expect(t.device).toBe(DEVICE);
    expect(await values(t.to("cpu"))).toEqual(await values(here.get(name)!));
  }
}, 600_000);

