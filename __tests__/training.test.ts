// SGD, StepLR and the training step against PyTorch itself.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tt from "../lib";
import { runPython } from "./helpers/python";
import { maxAbsDiff, PY_WRITE_RAW, readRaw } from "./helpers/rawStateDict";

// Three steps at lr 0.01 move weights by ~1e-2; float32 sums in another order
// differ by ~1e-6 relative per step. 1e-4 is the bar.
const TOLERANCE = 1e-4;
const MODES = ["finetune", "feature"] as const;

let dir: string;
/** What PyTorch gives for each mode: the three training losses, and the figures trainModel's epoch should report. */
interface Expected {
  losses: Record<string, number[]>;
  // Per mode: correct predictions of each training step (made before that step's update),
  // then the eval-mode loss and correct count on the batch after the three steps, and the
  // smallest gap between the two logits of any prediction counted (argmax is exact beyond it).
  epoch: Record<string, { trainCorrect: number[]; valLoss: number; valCorrect: number; minGap: number }>;
  lrs: number[];
}
let expected: Expected;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tt-train-"));
  const out = runPython(
    PY_WRITE_RAW +
      `
import copy, json, sys, torch, torchvision
import torch.nn.functional as F
folder = sys.argv[1]
torch.manual_seed(0)
base = torchvision.models.resnet18(num_classes=2)
write_raw(folder, "initial", base.state_dict())
x = torch.randn(4, 3, 96, 96)
y = torch.tensor([0, 1, 1, 0])
write_raw(folder, "batch", {"x": x, "y": y})
losses = {}
epoch = {}
for mode in ["finetune", "feature"]:
    m = copy.deepcopy(base)
    if mode == "feature":
        for p in m.parameters():
            p.requires_grad = False
        m.fc.weight.requires_grad = True
        m.fc.bias.requires_grad = True
    params = m.parameters() if mode == "finetune" else m.fc.parameters()
    opt = torch.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=1e-4)
    m.train()
    losses[mode] = []
    train_correct = []
    gaps = []
    for _ in range(3):
        opt.zero_grad()
        out = m(x)
        loss = F.cross_entropy(out, y)
        loss.backward()
        opt.step()
        losses[mode].append(loss.item())
        train_correct.append(int((out.argmax(1) == y).sum()))
        gaps.append(float((out[:, 0] - out[:, 1]).abs().min()))
    write_raw(folder, mode, m.state_dict())
    m.eval()
    with torch.no_grad():
        out = m(x)
    gaps.append(float((out[:, 0] - out[:, 1]).abs().min()))
    epoch[mode] = {"trainCorrect": train_correct, "valLoss": F.cross_entropy(out, y).item(),
                   "valCorrect": int((out.argmax(1) == y).sum()), "minGap": min(gaps)}
opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.001, momentum=0.9)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.1)
lrs = []
for _ in range(25):
    opt.step()
    sched.step()
    lrs.append(sched.get_last_lr()[0])
print(json.dumps({"losses": losses, "epoch": epoch, "lrs": lrs}))
`,
    [dir],
  );
  expected = JSON.parse(out.trim().split("\n").pop()!);
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function setUp(mode: (typeof MODES)[number]) {
  const model = tt.models.resnet18({ numClasses: 2 });
  model.loadStateDict(readRaw(dir, "initial"));
  let params = model.parameters();
  if (mode === "feature") {
    for (const p of params) p.requiresGrad = false;
    const fc = model.fc;
    for (const p of fc.parameters()) p.requiresGrad = true;
    params = fc.parameters();
  }
  const optimizer = new tt.optim.SGD(params, { lr: 0.01, momentum: 0.9, weightDecay: 1e-4 });
  model.train();
  const batch = readRaw(dir, "batch");
  return { model, optimizer, x: batch.get("x")!, y: batch.get("y")! };
}

async function compareStateDict(model: tt.models.ResNet, mode: string) {
  const reference = readRaw(dir, mode);
  const ours = model.stateDict();
  for (const [name, t] of reference) {
    const a = await ours.get(name)!.data();
    const b = await t.data();
    const asNumbers = (v: tt.TypedArray) => (v instanceof BigInt64Array || v.constructor.name === "BigInt64Array" ? Array.from(v as BigInt64Array, Number) : (v as Float32Array));
    const diff = maxAbsDiff(asNumbers(a), asNumbers(b));
    if (diff >= TOLERANCE) throw new Error(`${mode}: ${name} differs from PyTorch by ${diff}`);
  }
}

describe.each(MODES)("%s mode: three SGD steps (lr 0.01, momentum 0.9, weight decay 1e-4)", (mode) => {
  test("the step-by-step API gives PyTorch's losses and state dict", async () => {
    const { model, optimizer, x, y } = setUp(mode);
    const criterion = new tt.nn.CrossEntropyLoss();
    const losses: number[] = [];
    for (let i = 0; i < 3; i++) {
      optimizer.zeroGrad();
      const loss = await criterion.forward(await model.forward(x), y);
      await loss.backward();
      await optimizer.step();
      losses.push(await loss.item());
    }
    expect(maxAbsDiff(losses, expected.losses[mode])).toBeLessThan(TOLERANCE);
    await compareStateDict(model, mode);
  });

  test("trainModel's one-crossing step gives PyTorch's losses and accuracies in its history, and ends on the best weights", async () => {
    const { model, optimizer, x, y } = setUp(mode);
    // One epoch of three identical batches: the epoch's loss is the mean of the
    // three steps' losses, and steps two and three see the first updates.
    const loader = (times: number) => ({
      length: times,
      async *[Symbol.asyncIterator]() {
        for (let i = 0; i < times; i++) yield [x.detach(), y.detach()] as [tt.Tensor, tt.Tensor];
      },
    });
    const records: tt.EpochRecord[] = [];
    const result = await tt.trainModel(model, new tt.nn.CrossEntropyLoss(), optimizer, null, {
      dataloaders: { train: loader(3), val: loader(1) },
      numEpochs: 1,
      device: "cpu",
      onEpoch: (r) => { records.push(r); },
    });
    const py = expected.epoch[mode];
    // The logits are within TOLERANCE of PyTorch's; no two of a prediction are closer than
    // this, so our argmax, and the accuracies, must be PyTorch's exactly.
    expect(py.minGap).toBeGreaterThan(2 * TOLERANCE);
    const want = [
      { epoch: 0, phase: "train", loss: expected.losses[mode].reduce((a, b) => a + b, 0) / 3, acc: py.trainCorrect.reduce((a, b) => a + b, 0) / 12, images: 12 },
      { epoch: 0, phase: "val", loss: py.valLoss, acc: py.valCorrect / 4, images: 4 },
    ];
    for (const history of [records, result.history]) {
      expect(history.map(({ epoch, phase, acc, images }) => ({ epoch, phase, acc, images }))).toEqual(
        want.map(({ epoch, phase, acc, images }) => ({ epoch, phase, acc, images })),
      );
      history.forEach((r, i) => {
        expect(Math.abs(r.loss - want[i].loss)).toBeLessThan(TOLERANCE);
        expect(r.seconds).toBeGreaterThanOrEqual(0);
      });
    }
    // The best val accuracy is the only epoch's (it starts at 0 and rises only on a
    // strictly better one); the model ends with the weights it had then, saved at bestPath.
    expect(result.bestAcc).toBe(py.valCorrect / 4);
    const best = py.valCorrect > 0 ? mode : "initial";
    await compareStateDict(model, best);
    const fcWeight = async (sd: Map<string, tt.Tensor>) => (await sd.get("fc.weight")!.data()) as Float32Array;
    expect(maxAbsDiff(await fcWeight(await tt.load(result.bestPath)), await fcWeight(readRaw(dir, best)))).toBeLessThan(TOLERANCE);
  });

  if (mode === "feature") {
    test("the frozen backbone does not move while its BatchNorm statistics do", async () => {
      const { model, optimizer, x, y } = setUp(mode);
      const before = new Map([...model.stateDict()].map(([n, t]) => [n, t.detach()]));
      const criterion = new tt.nn.CrossEntropyLoss();
      optimizer.zeroGrad();
      const loss = await criterion.forward(await model.forward(x), y);
      await loss.backward();
      await optimizer.step();
      const after = model.stateDict();
      const same = async (n: string) => maxAbsDiff((await before.get(n)!.data()) as Float32Array, (await after.get(n)!.data()) as Float32Array) === 0;
      expect(await same("layer1.0.conv1.weight")).toBe(true);
      expect(await same("bn1.weight")).toBe(true);
      expect(await same("bn1.running_mean")).toBe(false);
      expect(await same("fc.weight")).toBe(false);
    });
  }
});

test("StepLR(7, 0.1) over 25 epochs gives PyTorch's learning rates, to the last bit", () => {
  const p = tt.tensor(new Float32Array(1));
  p.requiresGrad = true;
  const optimizer = new tt.optim.SGD([p], { lr: 0.001, momentum: 0.9 });
  const scheduler = new tt.optim.lrScheduler.StepLR(optimizer, { stepSize: 7, gamma: 0.1 });
  const lrs: number[] = [];
  for (let i = 0; i < 25; i++) {
    scheduler.step();
    lrs.push(scheduler.getLastLr()[0]);
  }
  expect(lrs).toEqual(expected.lrs);
});

test("SGD refuses bad options by name", () => {
  const p = tt.tensor(new Float32Array(1));
  expect(() => new tt.optim.SGD([p], { lr: -1 })).toThrow(/Expected finite number in \[0, Infinity\] for lr but received -1/);
  expect(() => new tt.optim.SGD([], { lr: 0.1 })).toThrow(/empty parameter list/);
  expect(() => new tt.optim.SGD([p], { lr: 0.1, nesterov: true })).toThrow(/Nesterov/);
});
