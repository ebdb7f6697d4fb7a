// model.to({ memoryFormat: "channels_last" }), as torch's
// model.to(memory_format=torch.channels_last): every 4-D parameter and buffer
// rewritten in place in NHWC order, the values untouched, training and the
// fused eval form running channels-last and agreeing with the NCHW model,
// and what is saved from it reading back the same in either layout.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tt from "../lib";
import { freePort, jsonLines, runCli, subset } from "./helpers/cli";
import { compare } from "./helpers/onnx";

// The two layouts differ only in the order oneDNN sums each convolution (NHWC
// kernels against NCHW ones): float32 rounding through ResNet-18's 20
// convolutions, forward and back. Measured here, relative to each tensor's
// largest value: losses 2e-6 apart, gradients 6e-6, weights after an SGD step
// 3e-6, fused eval logits 2e-6. 1e-4 leaves a margin of 18 or more, while a
// lost update, or NHWC data read as NCHW, is off by the whole update or value.
const RELATIVE_TOLERANCE = 1e-4;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tt-channels-last-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function resnet(seed: number): tt.nn.Module {
  tt.manualSeed(seed);
  const model = tt.models.resnet18();
  model.fc = new tt.nn.Linear(512, 2);
  return model;
}

function input(seed: number, n = 4, size = 96): tt.Tensor {
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  return tt.tensor(Float32Array.from({ length: n * 3 * size * size }, next), [n, 3, size, size]);
}

async function values(model: tt.nn.Module): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name, t] of model.stateDict()) if (t.dtype === "float32") out.set(name, (await t.data()) as Float32Array);
  return out;
}

/** The names whose bytes differ (jest's deep equality walks 11 M floats one by one: minutes). */
function differing(a: Map<string, Float32Array>, b: Map<string, Float32Array>): string[] {
  const names = [...new Set([...a.keys(), ...b.keys()])];
  return names.filter((n) => !a.has(n) || !b.has(n) || !Buffer.from(a.get(n)!.buffer, a.get(n)!.byteOffset, a.get(n)!.byteLength).equals(Buffer.from(b.get(n)!.buffer, b.get(n)!.byteOffset, b.get(n)!.byteLength)));
}

/** Largest |a - b| relative to the largest |a| (helpers/onnx.ts's compare). */
function maxRelativeDifference(a: Float32Array, b: Float32Array): number {
  const { diff, scale } = compare(a, b);
  return scale === 0 ? diff : diff / scale;
}

test("to({ memoryFormat }) lays out every 4-D parameter and buffer channels-last, in place, values untouched", async () => {
  const model = resnet(1);
  const before = await values(model);
  const conv = model.stateDict().get("layer1.0.conv1.weight")!;
  const fc = model.stateDict().get("fc.weight")!;
  expect([conv.isContiguous(), conv.isContiguous("channels_last")]).toEqual([true, false]);

  expect(model.to({ memoryFormat: "channels_last" })).toBe(model);
  // The handle taken before still names the parameter: it was rewritten in place, as set_data does.
  expect([conv.isContiguous(), conv.isContiguous("channels_last")]).toEqual([false, true]);
  const fourD = [...model.stateDict()].filter(([, t]) => t.shape.length === 4);
  expect(fourD.length).toBe(20);  // ResNet-18's convolutions: the stem, 16 in the blocks, 3 downsamples
  for (const [name, t] of fourD) expect([name, t.isContiguous("channels_last")]).toEqual([name, true]);
  expect(fc.isContiguous()).toBe(true);  // 2-D: left as it is, as in PyTorch
  expect(differing(await values(model), before)).toEqual([]);

  model.to("cpu", { memoryFormat: "contiguous" });
  expect([conv.isContiguous(), conv.isContiguous("channels_last")]).toEqual([true, false]);
  expect(differing(await values(model), before)).toEqual([]);
  model.dispose();
});

test("a training step and the fused eval form agree with the NCHW model's", async () => {
  const nchw = resnet(2);
  const nhwc = resnet(2);
  nhwc.to({ memoryFormat: "channels_last" });
  const x = input(7);
  const y = tt.tensor(BigInt64Array.from([0n, 1n, 1n, 0n]), [4]);
  const criterion = new tt.nn.CrossEntropyLoss();
  const losses: number[] = [];
  // Eval mode, so that BatchNorm uses its running statistics: in train mode a
  // batch of 4 normalises by statistics of a few values per channel in the
  // last blocks, where the subtraction of the mean turns float rounding into
  // gradient differences of several percent (PyTorch's own NCHW and
  // channels-last steps differ that much, 16 % of a layer4 gradient's
  // largest value at 128x128). The train-mode step is checked by its loss.
  for (const model of [nchw, nhwc]) {
    const optimizer = new tt.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
    for (const mode of ["train", "eval"]) {
      model.train(mode === "train");
      optimizer.zeroGrad();
      const out = await model.forward(x);
      const loss = await criterion.forward(out, y);
      await loss.backward();
      if (mode === "eval") await optimizer.step();
      losses.push(await loss.item());
      out.dispose();
      loss.dispose();
    }
  }
  // Training kept the layout: the gradients and the update came back channels-last.
  expect(nhwc.stateDict().get("conv1.weight")!.isContiguous("channels_last")).toBe(true);
  expect(nhwc.parameters()[0].grad!.isContiguous("channels_last")).toBe(true);
  expect(Math.abs(losses[2] - losses[0])).toBeLessThan(RELATIVE_TOLERANCE * losses[0]);
  expect(Math.abs(losses[3] - losses[1])).toBeLessThan(RELATIVE_TOLERANCE * losses[1]);
  const grads = async (m: tt.nn.Module) => new Map(await Promise.all(m.namedParameters().map(async ([n, p]) => [n, (await p.grad!.data()) as Float32Array] as const)));
  const [ga, gb] = [await grads(nchw), await grads(nhwc)];
  const worst = (a: Map<string, Float32Array>, b: Map<string, Float32Array>) => Math.max(...[...a].map(([n, v]) => maxRelativeDifference(v, b.get(n)!)));
  expect(worst(ga, gb)).toBeLessThan(RELATIVE_TOLERANCE);
  // The step changed the weights: the comparison below is not of untouched copies.
  const start = await values(resnet(2));
  const [a, b] = [await values(nchw), await values(nhwc)];
  expect(maxRelativeDifference(start.get("conv1.weight")!, a.get("conv1.weight")!)).toBeGreaterThan(1e-4);
  expect(worst(a, b)).toBeLessThan(RELATIVE_TOLERANCE);

  nchw.eval();
  nhwc.eval();
  const [plain, fast] = [await tt.noGrad(() => nchw.forward(x)), await nhwc.inferenceForward(x)];
  const [pa, fa] = [(await plain.data()) as Float32Array, (await fast.data()) as Float32Array];
  expect(maxRelativeDifference(pa, fa)).toBeLessThan(RELATIVE_TOLERANCE);
  for (const t of [plain, fast, x, y]) t.dispose();
  nchw.dispose();
  nhwc.dispose();
}, 120_000);

test.each(["model.safetensors", "model.pth"])("a channels-last model saves %s that loads into an NCHW one unchanged", async (file) => {
  const model = resnet(3).to({ memoryFormat: "channels_last" });
  const expected = await values(model);
  await tt.save(model.stateDict(), path.join(dir, file));
  const loaded = await tt.load(path.join(dir, file));
  const fresh = resnet(4);
  fresh.loadStateDict(loaded);
  expect(differing(await values(fresh), expected)).toEqual([]);
  for (const t of loaded.values()) t.dispose();
  model.dispose();
  fresh.dispose();
});

// DDP's reducer lays its buckets out by the parameters' strides and warns
// (then copies) when a gradient's differ. A 1x1 convolution's weight is
// contiguous in both formats, so it must be restrided too: left NCHW, every
// rank printed "Grad strides do not match bucket view strides".
test("data-parallel training of a channels-last model: both ranks' gradients fit DDP's buckets, nothing on stderr", async () => {
  const data = subset(path.join(dir, "data"), 2);
  // A free port: the other CI leg may be rendezvousing on this machine at the same time.
  const r = runCli("finetune", ["--data", data, "--out", path.join(dir, "ddp"), "--epochs", "1", "--weights", "none", "--batch-size", "2",
    "--nproc-per-node", "2", "--master-port", String(await freePort()), "--channels-last", "--json", "--no-report", "--workers", "2"]);
  expect(r.status === 0 ? 0 : `exit status ${r.status}, stderr: ${r.stderr}`).toBe(0);  // a failure shows its stderr
  expect(r.stderr).toBe("");
  expect(jsonLines(r.stdout).map((l) => l.phase).slice(0, 2)).toEqual(["train", "val"]);
}, 300_000);

test("bad memory formats are refused by name", () => {
  const model = resnet(5);
  expect(() => model.to({ memoryFormat: "nhwc" as never })).toThrow(/Expected "contiguous" or "channels_last" for memoryFormat but received "nhwc"/);
  expect(() => model.to({ memory_format: "channels_last" } as never)).toThrow(/Unknown option "memory_format" for Module.to; did you mean "memoryFormat"\?/);
  expect(() => model.to(5 as never)).toThrow(/Expected a device string or \{ device, memoryFormat \} for device but received 5/);
  const t = input(1, 1, 4);
  expect(() => t.isContiguous("nchw" as never)).toThrow(/Expected "contiguous" or "channels_last" for memoryFormat but received "nchw"/);
  t.dispose();
  model.dispose();
});
