// CrossEntropyLoss with class-probability targets (what MixUp and CutMix
// give), with weight and labelSmoothing, against PyTorch; and the fused
// training step taking them: 3 SGD steps equal torch's.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tt from "../lib";
import { runPython } from "./helpers/python";
import { maxAbsDiff, PY_WRITE_RAW, readRaw } from "./helpers/rawStateDict";

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tt-soft-"));
  runPython(
    PY_WRITE_RAW +
      `
import sys, torch
folder = sys.argv[1]
torch.manual_seed(3)
logits = torch.randn(5, 4, dtype=torch.float64)
probs = torch.softmax(torch.randn(5, 4, dtype=torch.float64), 1)
weight = torch.tensor([0.5, 2.0, 1.0, 3.0], dtype=torch.float64)
out = {"logits": logits, "probs": probs, "weight": weight}
for name, kw in {"plain": {}, "weighted": {"weight": weight}, "smoothed": {"label_smoothing": 0.2},
                 "both": {"weight": weight, "label_smoothing": 0.1},
                 "both_sum": {"weight": weight, "label_smoothing": 0.1, "reduction": "sum"},
                 "none": {"weight": weight, "label_smoothing": 0.3, "reduction": "none"}}.items():
    out[name] = torch.nn.CrossEntropyLoss(**kw)(logits, probs)
write_raw(folder, "loss", out)

torch.manual_seed(4)
m = torch.nn.Linear(6, 3)
write_raw(folder, "start", m.state_dict())
xs = [torch.randn(4, 6) for _ in range(3)]
ys = [torch.softmax(torch.randn(4, 3), 1) for _ in range(3)]
cw = torch.tensor([1.0, 2.0, 0.5])
criterion = torch.nn.CrossEntropyLoss(weight=cw, label_smoothing=0.1)
opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
losses, correct = [], []
for x, y in zip(xs, ys):
    opt.zero_grad()
    o = m(x)
    loss = criterion(o, y)
    loss.backward()
    opt.step()
    losses.append(loss.item())
    correct.append(float((o.argmax(1) == y.argmax(1)).sum()))
batches = {"classWeight": cw, "losses": torch.tensor(losses, dtype=torch.float64), "correct": torch.tensor(correct, dtype=torch.float64)}
for i, (x, y) in enumerate(zip(xs, ys)):
    batches["x%d" % i] = x; batches["y%d" % i] = y
write_raw(folder, "batches", batches)
write_raw(folder, "end", m.state_dict())
`,
    [dir],
  );
}, 300_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test("probability targets with weight, labelSmoothing and each reduction give PyTorch's loss", async () => {
  const r = readRaw(dir, "loss");
  const [logits, probs, weight] = [r.get("logits")!, r.get("probs")!, r.get("weight")!];
  const cases: [string, tt.nn.CrossEntropyLossOptions][] = [
    ["plain", {}],
    ["weighted", { weight }],
    ["smoothed", { labelSmoothing: 0.2 }],
    ["both", { weight, labelSmoothing: 0.1 }],
    ["both_sum", { weight, labelSmoothing: 0.1, reduction: "sum" }],
    ["none", { weight, labelSmoothing: 0.3, reduction: "none" }],
  ];
  for (const [name, options] of cases) {
    const loss = await new tt.nn.CrossEntropyLoss(options).forward(logits, probs);
    // float64 on both sides through the same libtorch kernels: equal to rounding.
    expect(maxAbsDiff((await loss.data()) as Float64Array, (await r.get(name)!.data()) as Float64Array)).toBeLessThan(1e-12);
  }
});

test("rejects a probability target of the wrong shape or dtype, naming what it expected", () => {
  const criterion = new tt.nn.CrossEntropyLoss();
  const input = tt.tensor(new Float32Array(6), [2, 3]);
  expect(() => criterion.forward(input, tt.tensor(new Float32Array(4), [2, 2]))).toThrow(/Expected class-probability target of shape \[2, 3\] but received \[2, 2\]/);
  expect(() => criterion.forward(input, tt.tensor(new Int32Array(2), [2]))).toThrow(/Expected target of dtype int64 \(class indices\) or float32 \(class probabilities\) but received int32/);
});

test("the fused training step takes probability targets: 3 SGD steps with a weighted, smoothed loss match torch's", async () => {
  const model = new tt.nn.Linear(6, 3);
  model.loadStateDict(readRaw(dir, "start"));
  const b = readRaw(dir, "batches");
  const criterion = new tt.nn.CrossEntropyLoss({ weight: b.get("classWeight")!, labelSmoothing: 0.1 });
  const optimizer = new tt.optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  model.train();
  const losses: number[] = [], correct: number[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await model.runBatch(optimizer.native, b.get(`x${i}`)!, b.get(`y${i}`)!, true, criterion.nativeOptions);
    losses.push(r.loss);
    correct.push(r.correct);
  }
  const expected = Array.from((await b.get("losses")!.data()) as Float64Array);
  // float32 sums over 4 rows and 6 inputs, in libtorch's kernels on both sides: 1e-6 relative.
  losses.forEach((l, i) => expect(Math.abs(l - expected[i]) / Math.abs(expected[i])).toBeLessThan(1e-6));
  // Correct: the prediction equals the target's largest entry, as the references count it.
  expect(correct).toEqual(Array.from((await b.get("correct")!.data()) as Float64Array));
  const end = readRaw(dir, "end");
  const ours = model.stateDict();
  for (const key of ["weight", "bias"]) {
    // Three steps of lr 0.1 on gradients equal to float32 rounding: 1e-6 absolute.
    expect(maxAbsDiff((await ours.get(key)!.data()) as Float32Array, (await end.get(key)!.data()) as Float32Array)).toBeLessThan(1e-6);
  }
});
