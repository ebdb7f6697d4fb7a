// ResNet-18 against torchvision itself: structure, names, initialisation, logits.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tt from "../lib";
import { runPython } from "./helpers/python";
import { maxAbsDiff, PY_WRITE_RAW, readRaw } from "./helpers/rawStateDict";

// Logits are sums of ~10^4 float32 products through 18 layers; different but
// equally valid summation orders (our build vs Python's, same libtorch) stay
// within a few 1e-6 relative. 1e-4 absolute is the bar.
const LOGIT_TOLERANCE = 1e-4;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tt-resnet-"));
  runPython(
    PY_WRITE_RAW +
      `
import sys, torch, torchvision
folder = sys.argv[1]
torch.manual_seed(0)
m = torchvision.models.resnet18(num_classes=10)
with torch.no_grad():
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.2, 0.2); mod.running_var.uniform_(0.5, 1.5)
            mod.weight.uniform_(0.5, 1.5); mod.bias.uniform_(-0.2, 0.2)
write_raw(folder, "weights", m.state_dict())
torch.save(m.state_dict(), folder + "/zip.pth")
torch.save(m.state_dict(), folder + "/legacy.pth", _use_new_zipfile_serialization=False)
x = torch.randn(2, 3, 112, 112)
m.eval()
with torch.no_grad():
    e = m(x)
m.train()
t = m(x)
write_raw(folder, "io", {"input": x, "eval": e, "train": t.detach(), "bn1_mean_after": m.bn1.running_mean, "nbt": m.bn1.num_batches_tracked})
print(len(m.state_dict()))
`,
    [dir],
  );
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test("has torchvision's 62 parameters, 122 state-dict entries and 11,689,512 numbers in torchvision's order", () => {
  const model = tt.models.resnet18();
  const params = model.namedParameters();
  expect(params).toHaveLength(62);
  const sd = model.stateDict();
  expect(sd.size).toBe(122);
  const numbers = params.reduce((n, [, p]) => n + p.shape.reduce((a, b) => a * b, 1), 0);
  expect(numbers).toBe(11_689_512);
  const reference = readRaw(dir, "weights");
  expect([...sd.keys()]).toEqual([...reference.keys()]);
  expect(sd.get("layer2.0.downsample.1.num_batches_tracked")!.dtype).toBe("int64");
  expect(sd.has("layer1.0.downsample.0.weight")).toBe(false);
});

test("initialises like torchvision: BatchNorm at 1 and 0, convolutions Kaiming-normal (fan out)", async () => {
  tt.manualSeed(1);
  const sd = tt.models.resnet18().stateDict();
  const w = (await sd.get("bn1.weight")!.data()) as Float32Array;
  const b = (await sd.get("bn1.bias")!.data()) as Float32Array;
  expect(w.every((v) => v === 1)).toBe(true);
  expect(b.every((v) => v === 0)).toBe(true);
  const conv = (await sd.get("layer3.0.conv1.weight")!.data()) as Float32Array; // [256, 128, 3, 3]
  const variance = conv.reduce((s, v) => s + v * v, 0) / conv.length;
  const expected = 2 / (256 * 9); // kaiming normal, fan_out = out_channels * k * k
  expect(Math.abs(variance - expected) / expected).toBeLessThan(0.02); // 294,912 draws: the sample variance is within 1% at 4 sigma
});

test("gives torchvision's logits in eval and train mode from torchvision's weights", async () => {
  const model = tt.models.resnet18({ numClasses: 10 });
  model.loadStateDict(readRaw(dir, "weights"));
  const io = readRaw(dir, "io");
  model.eval();
  const evalOut = await tt.noGrad(() => model.forward(io.get("input")!));
  expect(evalOut.shape).toEqual([2, 10]);
  expect(maxAbsDiff((await evalOut.data()) as Float32Array, (await io.get("eval")!.data()) as Float32Array)).toBeLessThan(LOGIT_TOLERANCE);
  model.train();
  const trainOut = await model.forward(io.get("input")!);
  expect(maxAbsDiff((await trainOut.data()) as Float32Array, (await io.get("train")!.data()) as Float32Array)).toBeLessThan(LOGIT_TOLERANCE);
  const mean = (await model.stateDict().get("bn1.running_mean")!.data()) as Float32Array;
  expect(maxAbsDiff(mean, (await io.get("bn1_mean_after")!.data()) as Float32Array)).toBeLessThan(1e-6);
  expect(await model.stateDict().get("bn1.num_batches_tracked")!.item()).toBe(1);
});

describe.each(["zip.pth", "legacy.pth"])("torchvision's %s", (file) => {
  test("loads through weights: and gives torchvision's logits in eval and train mode; a safetensors round trip keeps them", async () => {
    const io = readRaw(dir, "io");
    const expectedEval = (await io.get("eval")!.data()) as Float32Array;
    const expectedTrain = (await io.get("train")!.data()) as Float32Array;
    const check = async (model: tt.models.ResNet) => {
      model.eval();
      const e = await tt.noGrad(() => model.forward(io.get("input")!));
      expect(maxAbsDiff((await e.data()) as Float32Array, expectedEval)).toBeLessThan(LOGIT_TOLERANCE);
      model.train();
      const t = await model.forward(io.get("input")!);
      expect(maxAbsDiff((await t.data()) as Float32Array, expectedTrain)).toBeLessThan(LOGIT_TOLERANCE);
    };
    const model = await tt.models.resnet18({ numClasses: 10, weights: path.join(dir, file) });
    const fresh = await tt.load(path.join(dir, file)); // before train mode moves the BatchNorm statistics
    await check(model);
    const copy = path.join(dir, `${file}.safetensors`);
    await tt.save(fresh, copy);
    await check(await tt.models.resnet18({ numClasses: 10, weights: copy }));
  });
});

test("replaces fc with a new Linear that the model then uses", async () => {
  const model = tt.models.resnet18();
  expect(model.fc.inFeatures).toBe(512);
  expect(model.fc.outFeatures).toBe(1000);
  model.fc = new tt.nn.Linear(model.fc.inFeatures, 2);
  expect(model.fc.outFeatures).toBe(2);
  expect(model.stateDict().get("fc.weight")!.shape).toEqual([2, 512]);
  model.eval();
  const out = await tt.noGrad(() => model.forward(tt.tensor(new Float32Array(3 * 64 * 64), [1, 3, 64, 64])));
  expect(out.shape).toEqual([1, 2]);
});

test("requiresGrad can be switched off per parameter", () => {
  const model = tt.models.resnet18();
  for (const p of model.parameters()) p.requiresGrad = false;
  model.fc = new tt.nn.Linear(512, 2);
  const trainable = model.namedParameters().filter(([, p]) => p.requiresGrad).map(([n]) => n);
  expect(trainable).toEqual(["fc.weight", "fc.bias"]);
});

test("rejects 1000-class weights in a 10-class model, naming fc.weight and both shapes", () => {
  const big = tt.models.resnet18();
  const small = tt.models.resnet18({ numClasses: 10 });
  expect(() => small.loadStateDict(big.stateDict())).toThrow(
    /size mismatch for fc\.weight: copying a param with shape \[1000, 512\] from checkpoint, the shape in current model is \[10, 512\]/,
  );
});

test("lists missing and unexpected keys together, and strict: false accepts them", () => {
  const model = tt.models.resnet18();
  const sd = new Map(model.stateDict());
  const extra = sd.get("fc.bias")!;
  sd.delete("fc.bias");
  sd.delete("conv1.weight");
  sd.set("head.bias", extra);
  let message = "";
  try {
    model.loadStateDict(sd);
  } catch (err) {
    message = (err as Error).message;
  }
  expect(message).toMatch(/Unexpected key\(s\) in state_dict: "head.bias"/);
  expect(message).toMatch(/Missing key\(s\) in state_dict: "conv1.weight", "fc.bias"/);
  expect(model.loadStateDict(sd, { strict: false })).toEqual({ missingKeys: ["conv1.weight", "fc.bias"], unexpectedKeys: ["head.bias"] });
});

test("a forward pass with the wrong input shape rejects with libtorch's message, and the process lives on", async () => {
  const model = tt.models.resnet18({ numClasses: 3 });
  const err = await model.forward(tt.tensor(new Float32Array(10), [10])).then(() => null, (e: Error) => e);
  expect(err).toBeInstanceOf(Error);
  // libtorch's own words, whole: no C++ backtrace ("Exception raised from ...") after them.
  expect(err!.message).toBe("Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: [10]");
  // The process, and this model, go on: a well-shaped forward still works.
  const out = await model.forward(tt.tensor(new Float32Array(2 * 3 * 32 * 32), [2, 3, 32, 32]));
  expect(out.shape).toEqual([2, 3]);
});
