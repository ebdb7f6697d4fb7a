// --class-weights auto's library side: computeClassWeight("balanced") is
// scikit-learn's n_samples / (n_classes * count_c) over the training split, and
// a training step with that weight in CrossEntropyLoss is PyTorch's step with
// the same weighted loss (computed by torch at test time).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tt from "../lib";
import { DATA } from "./helpers/cli";
import { runPython } from "./helpers/python";
import { maxAbsDiff, PY_WRITE_RAW, readRaw } from "./helpers/rawStateDict";

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tt-cw-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test("computeClassWeight gives n_samples / (n_classes * count) per class, and names a class without samples", () => {
  expect(tt.utils.computeClassWeight("balanced", { numClasses: 3, y: [0, 0, 0, 1, 2, 2] })).toEqual([6 / 9, 6 / 3, 6 / 6]);
  expect(() => tt.utils.computeClassWeight("balanced", { numClasses: 3, y: [0, 2], classNames: ["ants", "bees", "wasps"] }))
    .toThrow("class bees has no samples: its balanced weight would be infinite");
  expect(() => tt.utils.computeClassWeight("balanced", { numClasses: 2, y: [0, 2] })).toThrow("y[1] is 2, not a class index below numClasses (2)");
});

test("a training step on an imbalanced split, weighted by computeClassWeight, equals PyTorch's step with the balanced weights", async () => {
  // 9 ants and 3 bees, listed in a CSV; a stratified quarter held out.
  const rows = ["path,label"];
  for (const [cls, n] of [["ants", 9], ["bees", 3]] as const) {
    for (const f of fs.readdirSync(path.join(DATA, "train", cls)).filter((f) => f.endsWith(".jpg")).sort().slice(0, n)) rows.push(`train/${cls}/${f},${cls}`);
  }
  fs.writeFileSync(path.join(dir, "labels.csv"), rows.join("\n") + "\n");
  const ds = new tt.datasets.CsvImageDataset(DATA, path.join(dir, "labels.csv"), { transform: tt.dataTransforms.val() });
  const [train] = tt.utils.data.trainTestSplit(ds, { testSize: 0.25, stratify: ds.targets, generator: new tt.Generator(0) });
  const y = train.indices.map((i) => ds.targets[i]);
  expect([y.filter((c) => c === 0).length, y.filter((c) => c === 1).length]).toEqual([7, 2]);
  const weight = tt.utils.computeClassWeight("balanced", { numClasses: 2, y });

  // The one batch both sides train on: the whole train split, in order.
  const loader = new tt.DataLoader(train, { batchSize: train.length, shuffle: false, numWorkers: 2 });
  const [x, labels] = (await loader[Symbol.asyncIterator]().next()).value as tt.Batch;
  fs.writeFileSync(path.join(dir, "x.f32"), Buffer.from(((await x.data()) as Float32Array).buffer));
  x.dispose();
  labels.dispose();
  runPython(
    PY_WRITE_RAW +
      `
import json, sys, numpy, torch, torchvision
folder, y = sys.argv[1], torch.tensor(json.loads(sys.argv[2]))
x = torch.from_numpy(numpy.fromfile(folder + "/x.f32", dtype=numpy.float32)).reshape(len(y), 3, 224, 224)
weight = (len(y) / (2 * torch.bincount(y, minlength=2).double()))  # scikit-learn's "balanced"
torch.manual_seed(0)
m = torchvision.models.resnet18(num_classes=2)
with torch.no_grad():
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.weight.uniform_(0.5, 1.5); mod.bias.uniform_(-0.2, 0.2)
write_raw(folder, "start", m.state_dict())
opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
m.train()
opt.zero_grad()
logits = m(x)
loss = torch.nn.CrossEntropyLoss(weight=weight.float())(logits, y)
plain = torch.nn.CrossEntropyLoss()(logits, y)
loss.backward()
opt.step()
write_raw(folder, "end", m.state_dict())
write_raw(folder, "out", {"weight": weight, "loss": torch.tensor([loss.item(), plain.item()], dtype=torch.float64)})
`,
    [dir, JSON.stringify(y)],
  );
  const out = readRaw(dir, "out");
  // The same formula in float64 on both sides: equal to the last bit or two.
  expect(maxAbsDiff(weight, (await out.get("weight")!.data()) as Float64Array)).toBeLessThan(1e-12);

  const model = tt.models.resnet18({ numClasses: 2 });
  model.loadStateDict(readRaw(dir, "start"));
  const criterion = new tt.nn.CrossEntropyLoss({ weight: tt.tensor(Float32Array.from(weight), [2]) });
  const optimizer = new tt.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  let afterStep: tt.nn.StateDict | null = null;
  // trainModel, as the commands run it: its train phase is the one step; the weights are read before it restores the best.
  const { history } = await tt.trainModel(model, criterion, optimizer, null, {
    dataloaders: { train: loader, val: loader },
    numEpochs: 1,
    onEpochEnd: () => {
      afterStep = tt.cloneStateDict(model.stateDict());
    },
  });
  const [expectedLoss, plainLoss] = (await out.get("loss")!.data()) as Float64Array;
  // A float32 forward of 9 images summed in another order: 1e-4 relative, the bar for logits, applied to the loss.
  expect(Math.abs(history[0].loss - expectedLoss) / expectedLoss).toBeLessThan(1e-4);
  const end = readRaw(dir, "end");
  for (const key of ["fc.weight", "fc.bias", "conv1.weight", "layer4.1.conv2.weight", "layer1.0.bn1.running_mean"]) {
    // One step of lr 0.01 times a gradient that agrees to float32 summation order (~1e-6 relative): 1e-5 absolute.
    expect(maxAbsDiff((await afterStep!.get(key)!.data()) as Float32Array, (await end.get(key)!.data()) as Float32Array)).toBeLessThan(1e-5);
  }
  // Unweighted, the same batch has another loss: the weight was used.
  expect(Math.abs(history[0].loss - plainLoss)).toBeGreaterThan(1e-3);
}, 300_000);
