// SGD (two parameter groups), Adam and AdamW against torch.optim: three steps
// of a Linear layer on a fixed batch, weights and optimizer state; state dicts
// that resume exactly; the one-crossing training step with Adam.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tt from "../lib";
import { runPython } from "./helpers/python";
import { PY_WRITE_RAW, readRaw } from "./helpers/rawStateDict";

// On torch 1.13 our update is the same libtorch ops in the same order as
// torch.optim's single-tensor path, so the results are the same bits. Torch 2's
// default foreach path (lerp for expAvg, fused kernels, its own gradient
// kernels) rounds differently: a few float32 ulps (6e-8 each) per operation
// over three steps: torch 2.6's results here differ from 1.13's by at most
// 4.5e-8 of each tensor's largest magnitude (measured on these cases). 1e-6 of
// that scale leaves a factor of 20, while any wrong formula (bias correction,
// decoupled decay, a missed step) is off by 1e-3 or more.
const REL = 1e-6;

const CASES = ["sgd2", "adam", "adamw", "adamwGroupsAmsgrad"] as const;
type Case = (typeof CASES)[number];

let dir: string;
let steps: Record<Case, Record<string, number>>;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tt-optim-"));
  const out = runPython(
    PY_WRITE_RAW +
      `
import copy, json, sys, torch
import torch.nn.functional as F
folder = sys.argv[1]
torch.manual_seed(0)
base = torch.nn.Linear(6, 3)
x = torch.randn(8, 6)
y = torch.tensor([0, 1, 2, 1, 0, 2, 2, 1])
write_raw(folder, "initial", base.state_dict())
write_raw(folder, "batch", {"x": x, "y": y})
def make(case, m):
    if case == "sgd2":
        return torch.optim.SGD([{"params": [m.weight]}, {"params": [m.bias], "lr": 0.05, "momentum": 0.8, "dampening": 0.1, "weight_decay": 0.0}],
                               lr=0.1, momentum=0.9, weight_decay=1e-3)
    if case == "adam":
        return torch.optim.Adam(m.parameters(), lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=1e-2)
    if case == "adamw":
        return torch.optim.AdamW(m.parameters(), lr=0.01, weight_decay=0.1)
    return torch.optim.AdamW([{"params": [m.weight]}, {"params": [m.bias], "lr": 0.001, "betas": (0.5, 0.9)}], lr=0.02, amsgrad=True)
steps = {}
for case in ${JSON.stringify(CASES)}:
    m = copy.deepcopy(base)
    opt = make(case, m)
    for _ in range(3):
        opt.zero_grad()
        F.cross_entropy(m(x), y).backward()
        opt.step()
    write_raw(folder, case, m.state_dict())
    sd = opt.state_dict()
    state, steps[case] = {}, {}
    for i, s in sd["state"].items():
        for k, v in s.items():
            if k == "step":
                steps[case][str(i)] = float(v)
            else:
                state[str(i) + "." + k] = v
    write_raw(folder, case + "_state", state)
print(json.dumps(steps))
`,
    [dir],
  );
  steps = JSON.parse(out.trim().split("\n").pop()!);
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const PY_NAMES: Record<string, string> = { momentumBuffer: "momentum_buffer", expAvg: "exp_avg", expAvgSq: "exp_avg_sq", maxExpAvgSq: "max_exp_avg_sq" };

function setUp(kase: Case) {
  const model = new tt.nn.Linear(6, 3);
  model.loadStateDict(readRaw(dir, "initial"));
  const [weight, bias] = model.parameters();
  let optimizer: tt.optim.Optimizer;
  if (kase === "sgd2") {
    optimizer = new tt.optim.SGD([{ params: [weight] }, { params: [bias], lr: 0.05, momentum: 0.8, dampening: 0.1, weightDecay: 0 }], { lr: 0.1, momentum: 0.9, weightDecay: 1e-3 });
  } else if (kase === "adam") {
    optimizer = new tt.optim.Adam(model.parameters(), { lr: 0.01, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 1e-2 });
  } else if (kase === "adamw") {
    optimizer = new tt.optim.AdamW(model.parameters(), { lr: 0.01, weightDecay: 0.1 });
  } else {
    optimizer = new tt.optim.AdamW([{ params: [weight] }, { params: [bias], lr: 0.001, betas: [0.5, 0.9] }], { lr: 0.02, amsgrad: true });
  }
  const batch = readRaw(dir, "batch");
  return { model, optimizer, x: batch.get("x")!, y: batch.get("y")! };
}

async function steps3(model: tt.nn.Linear, optimizer: tt.optim.Optimizer, x: tt.Tensor, y: tt.Tensor, n = 3) {
  const criterion = new tt.nn.CrossEntropyLoss();
  for (let i = 0; i < n; i++) {
    optimizer.zeroGrad();
    const loss = await criterion.forward(await model.forward(x), y);
    await loss.backward();
    await optimizer.step();
  }
}

async function expectNear(ours: tt.Tensor, theirs: tt.Tensor, what: string) {
  expect(ours.shape).toEqual(theirs.shape);
  const a = (await ours.data()) as Float32Array;
  const b = (await theirs.data()) as Float32Array;
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]));
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
  }
  if (!(worst <= REL * scale)) throw new Error(`${what} differs from PyTorch by ${worst} (scale ${scale})`);
}

async function expectPyTorchState(kase: Case, model: tt.nn.Linear, optimizer: tt.optim.Optimizer) {
  const weights = readRaw(dir, kase);
  const ours = model.stateDict();
  for (const [name, t] of weights) await expectNear(ours.get(name)!, t, `${kase}: ${name}`);
  const reference = readRaw(dir, `${kase}_state`);
  const { state } = optimizer.stateDict();
  expect(Object.keys(state).sort()).toEqual(Object.keys(steps[kase]).length ? Object.keys(steps[kase]).sort() : ["0", "1"]);
  let compared = 0;
  for (const [i, entry] of Object.entries(state)) {
    for (const [key, value] of Object.entries(entry)) {
      if (key === "step") {
        expect(value).toBe(steps[kase][i]);
      } else {
        const theirs = reference.get(`${i}.${PY_NAMES[key]}`);
        if (!theirs) throw new Error(`${kase}: PyTorch has no ${PY_NAMES[key]} for parameter ${i}`);
        await expectNear(value as tt.Tensor, theirs, `${kase}: state ${i}.${key}`);
        compared++;
      }
    }
  }
  // Every tensor PyTorch keeps, we keep.
  expect(compared).toBe(reference.size);
}

describe.each(CASES)("%s", (kase) => {
  test("three steps give PyTorch's weights and optimizer state", async () => {
    const { model, optimizer, x, y } = setUp(kase);
    await steps3(model, optimizer, x, y);
    await expectPyTorchState(kase, model, optimizer);
  });

  test("a state dict saved after one step and loaded into a fresh optimizer resumes to the same bits", async () => {
    const straight = setUp(kase);
    await steps3(straight.model, straight.optimizer, straight.x, straight.y);

    const first = setUp(kase);
    await steps3(first.model, first.optimizer, first.x, first.y, 1);
    // Through a safetensors file and JSON, as a checkpoint carries them.
    const saved = first.optimizer.stateDict();
    const tensors = new Map<string, tt.Tensor>();
    const numbers: Record<string, Record<string, number>> = {};
    for (const [i, entry] of Object.entries(saved.state)) {
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v === "number") (numbers[i] ??= {})[k] = v;
        else tensors.set(`${i}.${k}`, v);
      }
    }
    const file = path.join(dir, `${kase}-resume.safetensors`);
    await tt.save(tensors, file);
    const loaded = await tt.load(file);
    const state: tt.optim.OptimizerStateDict["state"] = JSON.parse(JSON.stringify(numbers));
    for (const [key, t] of loaded) {
      const [i, k] = key.split(".");
      (state[Number(i)] ??= {})[k] = t;
    }

    const second = setUp(kase);
    second.model.loadStateDict(first.model.stateDict());
    second.optimizer.loadStateDict({ state, paramGroups: JSON.parse(JSON.stringify(saved.paramGroups)) });
    await steps3(second.model, second.optimizer, second.x, second.y, 2);
    const a = straight.model.stateDict();
    for (const [name, t] of second.model.stateDict()) expect(await t.data()).toEqual(await a.get(name)!.data());
    const sa = straight.optimizer.stateDict().state;
    for (const [i, entry] of Object.entries(second.optimizer.stateDict().state)) {
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v === "number") expect(v).toBe(sa[Number(i)][k]);
        else expect(await v.data()).toEqual(await (sa[Number(i)][k] as tt.Tensor).data());
      }
    }
  });
});

test("trainModel's one-crossing step runs AdamW as the step-by-step API does", async () => {
  const { model, optimizer, x, y } = setUp("adamw");
  const loader = (times: number) => ({
    length: times,
    async *[Symbol.asyncIterator]() {
      for (let i = 0; i < times; i++) yield [x.detach(), y.detach()] as [tt.Tensor, tt.Tensor];
    },
  });
  let checked = 0;
  await tt.trainModel(model, new tt.nn.CrossEntropyLoss(), optimizer, null, {
    dataloaders: { train: loader(3), val: loader(1) },
    numEpochs: 1,
    device: "cpu",
    // After the training phase's three steps (trainModel later restores the best val weights).
    onEpoch: async (r) => {
      if (r.phase !== "train") return;
      await expectPyTorchState("adamw", model, optimizer);
      checked++;
    },
  });
  expect(checked).toBe(1);
});

test("param groups: options fall back on the constructor's, and a group's lr set later applies to it alone", async () => {
  const model = new tt.nn.Linear(2, 1);
  const [weight, bias] = model.parameters();
  const opt = new tt.optim.AdamW([{ params: [weight] }, { params: [bias], weightDecay: 0 }], { lr: 0.5, betas: [0.8, 0.9] });
  expect(opt.paramGroups.map((g) => [g.lr, g.betas, g.eps, g.weightDecay, g.amsgrad])).toEqual([
    [0.5, [0.8, 0.9], 1e-8, 1e-2, false],
    [0.5, [0.8, 0.9], 1e-8, 0, false],
  ]);
  opt.paramGroups[1].lr = 0;
  const before = await bias.detach().data();
  const x = tt.tensor(new Float32Array([1, 2]), [1, 2]);
  const loss = await new tt.nn.CrossEntropyLoss().forward(await model.forward(x), tt.tensor(BigInt64Array.from([0n])));
  await loss.backward();
  await opt.step();
  expect(await bias.detach().data()).toEqual(before);
  const sd = opt.stateDict();
  expect(sd.paramGroups.map((g) => [g.params, g.lr])).toEqual([[[0], 0.5], [[1], 0]]);
  expect(Object.keys(sd.state)).toEqual(["0", "1"]);
  expect(() => { opt.paramGroups[0].betas[0] = 0.5; }).toThrow(TypeError);
});

test("optimizers name their bad arguments", () => {
  const p = tt.tensor(new Float32Array(2));
  expect(() => new tt.optim.Adam([p], { betas: [0.9, 1] })).toThrow(/Expected two numbers in \[0, 1\) for betas but received an array of length 2/);
  expect(() => new tt.optim.AdamW([p], { lr: -1 })).toThrow(/Expected finite number in \[0, Infinity\] for lr but received -1/);
  expect(() => new tt.optim.Adam([{ params: [p], eps: -1 }])).toThrow(/for params\[0\]\.eps but received -1/);
  expect(() => new tt.optim.Adam([{ params: [p], momentum: 0.9 } as never])).toThrow(/^Unknown option "momentum" for Adam's params\[0\]/);
  expect(() => new tt.optim.SGD([{ params: [p] }], { lr: undefined as unknown as number })).toThrow(/Expected finite number for lr but received undefined/);
  expect(() => new tt.optim.SGD([{ params: [] }], { lr: 0.1 })).toThrow(/empty parameter list in params\[0\]/);
  expect(() => new tt.optim.SGD([{ notParams: [p] } as never], { lr: 0.1 })).toThrow(/Expected \{ params: Tensor\[\], \.\.\. \} parameter group for params\[0\]/);
  const opt = new tt.optim.Adam([p]);
  expect(() => opt.loadStateDict({ state: {}, paramGroups: [] })).toThrow(/has 0 parameter group\(s\), but the optimizer has 1/);
  expect(() => opt.loadStateDict({ state: { 0: { expAvg: tt.tensor(new Float32Array(3)) } }, paramGroups: [{ params: [0] }] })).toThrow(/state\[0\]\.expAvg has shape \[3\] but its parameter has \[2\]/);
  expect(() => opt.loadStateDict({ state: { 0: { momentumBuffer: p } }, paramGroups: [{ params: [0] }] })).toThrow(/Expected one of step, expAvg, expAvgSq, maxExpAvgSq for a state name of parameter 0 but received "momentumBuffer"/);
});
