// CrossEntropyLoss's weight, labelSmoothing and reduction against PyTorch,
// and the fused training step using the criterion it is given: 3 SGD steps of
// resnet50 and mobilenet_v3_large with a weighted, label-smoothed loss against torch's.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tt from "../lib";
import { runPython } from "./helpers/python";
import { maxAbsDiff, PY_WRITE_RAW, readRaw } from "./helpers/rawStateDict";

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tt-ce-"));
  runPython(
    PY_WRITE_RAW +
      `
import sys, torch, torchvision
folder = sys.argv[1]
torch.manual_seed(0)
logits = torch.randn(6, 4, dtype=torch.float64)
target = torch.tensor([0, 3, 1, 1, 2, 0])
weight = torch.tensor([0.5, 2.0, 1.0, 3.0], dtype=torch.float64)
out = {"logits": logits, "target": target, "weight": weight}
for name, kw in {"plain": {}, "weighted": {"weight": weight}, "smoothed": {"label_smoothing": 0.2},
                 "both_sum": {"weight": weight, "label_smoothing": 0.1, "reduction": "sum"},
                 "none": {"weight": weight, "label_smoothing": 0.1, "reduction": "none"}}.items():
    out[name] = torch.nn.CrossEntropyLoss(**kw)(logits, target)
write_raw(folder, "loss", out)

for arch in ["resnet50", "mobilenet_v3_large"]:
    torch.manual_seed(1)
    # dropout 0: its random mask cannot match across two generators
    m = torchvision.models.get_model(arch, num_classes=3, **({"dropout": 0.0} if arch.startswith("mobilenet") else {}))
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.2, 0.2); mod.running_var.uniform_(0.5, 1.5)
                mod.weight.uniform_(0.5, 1.5); mod.bias.uniform_(-0.2, 0.2)
            if isinstance(mod, torch.nn.Linear):
                mod.weight.normal_(0, 0.1)
    write_raw(folder, arch + "-start", m.state_dict())
    xs = [torch.randn(2, 3, 64, 64) for _ in range(3)]
    ys = [torch.tensor([0, 2]), torch.tensor([1, 1]), torch.tensor([2, 0])]
    cw = torch.tensor([1.0, 2.0, 0.5])
    criterion = torch.nn.CrossEntropyLoss(weight=cw, label_smoothing=0.1)
    opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
    m.train()
    losses = []
    for x, y in zip(xs, ys):
        opt.zero_grad()
        loss = criterion(m(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    batches = {}
    for i, (x, y) in enumerate(zip(xs, ys)):
        batches[f"x{i}"] = x; batches[f"y{i}"] = y
    batches["classWeight"] = cw
    batches["losses"] = torch.tensor(losses, dtype=torch.float64)
    write_raw(folder, arch + "-batches", batches)
    write_raw(folder, arch + "-end", m.state_dict())
`,
    [dir],
  );
}, 300_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test("weight, labelSmoothing and each reduction give PyTorch's loss", async () => {
  const r = readRaw(dir, "loss");
  const logits = r.get("logits")!;
  const target = r.get("target")!;
  const weight = r.get("weight")!;
  const cases: [string, tt.nn.CrossEntropyLossOptions][] = [
    ["plain", {}],
    ["weighted", { weight }],
    ["smoothed", { labelSmoothing: 0.2 }],
    ["both_sum", { weight, labelSmoothing: 0.1, reduction: "sum" }],
    ["none", { weight, labelSmoothing: 0.1, reduction: "none" }],
  ];
  for (const [name, options] of cases) {
    const loss = await new tt.nn.CrossEntropyLoss(options).forward(logits, target);
    // float64 on both sides through the same libtorch kernels: equal to rounding.
    expect(maxAbsDiff((await loss.data()) as Float64Array, (await r.get(name)!.data()) as Float64Array)).toBeLessThan(1e-12);
  }
});

test("rejects bad options by name, snake_case with the camelCase hint", () => {
  expect(() => new tt.nn.CrossEntropyLoss({ label_smoothing: 0.1 } as never)).toThrow(/^Unknown option "label_smoothing" for CrossEntropyLoss; did you mean "labelSmoothing"\?/);
  expect(() => new tt.nn.CrossEntropyLoss({ labelSmoothing: 1.5 })).toThrow(/Expected finite number in \[0, 1\] for labelSmoothing but received 1.5/);
  expect(() => new tt.nn.CrossEntropyLoss({ reduction: "avg" as never })).toThrow(/for reduction but received "avg"/);
  const criterion = new tt.nn.CrossEntropyLoss({ weight: tt.tensor(new Float32Array([1, 2])) });
  expect(() => criterion.forward(tt.tensor(new Float32Array(6), [2, 3]), tt.tensor(new BigInt64Array(2)))).toThrow(/Expected weight of shape \[3\]/);
});

const SGD_CASES: [string, string[]][] = [
  ["resnet50", ["fc.weight", "fc.bias", "conv1.weight", "layer4.2.conv3.weight", "layer1.0.bn1.running_mean"]],
  ["mobilenet_v3_large", ["classifier.3.weight", "classifier.0.bias", "features.0.0.weight", "features.4.block.2.fc1.weight", "features.16.1.running_var"]],
];

test.each(SGD_CASES)("the fused training step uses its criterion: 3 SGD steps of %s with a weighted, label-smoothed loss match torch's", async (arch, keys) => {
  const model = tt.models.getModel(arch, { numClasses: 3, ...(arch.startsWith("mobilenet") ? { dropout: 0 } : {}) } as tt.models.ModelOptions) as tt.nn.Module;
  model.loadStateDict(readRaw(dir, `${arch}-start`));
  const b = readRaw(dir, `${arch}-batches`);
  const criterion = new tt.nn.CrossEntropyLoss({ weight: b.get("classWeight")!, labelSmoothing: 0.1 });
  const optimizer = new tt.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  model.train();
  const losses: number[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await model.runBatch(optimizer.native, b.get(`x${i}`)!, b.get(`y${i}`)!, true, criterion.nativeOptions);
    losses.push(r.loss);
  }
  const expected = Array.from((await b.get("losses")!.data()) as Float64Array);
  // Losses are float32 sums; the later steps carry the earlier updates' rounding.
  // 1e-4 relative is the bar for logits, applied to the loss.
  losses.forEach((l, i) => expect(Math.abs(l - expected[i]) / Math.abs(expected[i])).toBeLessThan(1e-4));
  const end = readRaw(dir, `${arch}-end`);
  const ours = model.stateDict();
  for (const key of keys) {
    const a = (await ours.get(key)!.data()) as Float32Array;
    const e = (await end.get(key)!.data()) as Float32Array;
    // Each weight moved by lr * (gradient + momentum) over 3 steps; the
    // gradients agree to float32 summation order (~1e-6 relative), so the weights to 1e-5 absolute.
    expect(maxAbsDiff(a, e)).toBeLessThan(1e-5);
  }
});

test("trainModel hands its criterion to every batch: the loss it reports is the criterion's", async () => {
  tt.manualSeed(0);
  const model = new tt.nn.Linear(4, 3);
  const x = tt.tensor(Float32Array.from({ length: 8 }, (_, i) => Math.sin(i)), [2, 4]);
  const y = tt.tensor(new BigInt64Array([0n, 2n]));
  const criterion = new tt.nn.CrossEntropyLoss({ labelSmoothing: 0.3, weight: tt.tensor(new Float32Array([1, 1, 4])) });
  model.eval();
  const plain = await (await tt.noGrad(async () => new tt.nn.CrossEntropyLoss().forward(await model.forward(x), y))).item();
  const source = () => ({
    length: 1,
    async *[Symbol.asyncIterator]() {
      yield [x.detach(), y.detach()] as [tt.Tensor, tt.Tensor];
    },
  });
  const optimizer = new tt.optim.SGD(model.parameters(), { lr: 0 });
  const { history } = await tt.trainModel(model, criterion, optimizer, null, { dataloaders: { train: source(), val: source() }, numEpochs: 1 });
  const logits = await tt.noGrad(() => model.forward(x));
  const direct = await (await criterion.forward(logits, y)).item();
  expect(history[1].loss).toBeCloseTo(direct, 6);
  expect(Math.abs(history[1].loss - plain)).toBeGreaterThan(1e-3);
  await expect(tt.trainModel(model, new tt.nn.CrossEntropyLoss({ reduction: "none" }), optimizer, null, { dataloaders: { train: source(), val: source() } }))
    .rejects.toThrow(/reduction "mean" or "sum"/);
});
