// Learning-rate schedulers against torch.optim.lr_scheduler: whole schedules,
// two parameter groups, momentum (SGD) and beta1 (Adam) where OneCycleLR cycles
// them, and resuming from a state dict.
import * as tt from "../lib";
import { runPython } from "./helpers/python";

const S = tt.optim.lrScheduler;

// Both sides compute in float64 with the same formulas in the same order; the
// only difference can be the last bit of cos() (V8's fdlibm against glibc's
// libm, each within an ulp), carried from step to step by the recursive forms
// and magnified where 1 + cos(x) cancels near the end of a cosine cycle.
// Measured on these schedules: at most 5.2e-16 relative (cosine, oneCycle),
// the rest bit for bit. 1e-12 leaves three orders of magnitude for longer
// schedules while any wrong formula or off-by-one step differs from the first
// digits.
const REL = 1e-12;

type Record_ = { lrs: number[][]; last: number[][]; momenta: number[][] };
let expected: Record<string, Record_>;

beforeAll(() => {
  const out = runPython(`
import json, warnings, torch
from torch.optim import SGD, Adam
from torch.optim.lr_scheduler import CosineAnnealingLR, LinearLR, SequentialLR, OneCycleLR, StepLR, ReduceLROnPlateau
warnings.simplefilter("ignore")
def make(kind):
    groups = [{"params": [torch.zeros(2, requires_grad=True)]}, {"params": [torch.zeros(3, requires_grad=True)], "lr": 0.01}]
    return SGD(groups, lr=0.1, momentum=0.9) if kind == "sgd" else Adam(groups, lr=0.1)
def momenta(opt):
    return [g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups]
def run(opt, sched, n, metrics=None):
    rec = {"lrs": [[g["lr"] for g in opt.param_groups]], "last": [], "momenta": [momenta(opt)]}
    for i in range(n):
        opt.step()
        if metrics is None:
            sched.step()
            rec["last"].append(sched.get_last_lr())
        else:
            sched.step(metrics[i])
        rec["lrs"].append([g["lr"] for g in opt.param_groups])
        rec["momenta"].append(momenta(opt))
    return rec
out = {}
o = make("sgd"); out["cosine"] = run(o, CosineAnnealingLR(o, T_max=10, eta_min=0.001), 30)
o = make("sgd"); out["cosineZero"] = run(o, CosineAnnealingLR(o, T_max=7), 20)
o = make("sgd"); out["linear"] = run(o, LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=4), 8)
o = make("sgd"); out["linearDown"] = run(o, LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=5), 8)
o = make("sgd"); out["warmupCosine"] = run(o, SequentialLR(o, schedulers=[LinearLR(o, start_factor=0.1, total_iters=3), CosineAnnealingLR(o, T_max=12, eta_min=1e-4)], milestones=[3]), 15)
o = make("sgd"); out["threeStages"] = run(o, SequentialLR(o, schedulers=[LinearLR(o, start_factor=0.5, total_iters=2), StepLR(o, step_size=2, gamma=0.5), CosineAnnealingLR(o, T_max=5)], milestones=[2, 6]), 14)
o = make("sgd"); out["oneCycle"] = run(o, OneCycleLR(o, max_lr=[0.1, 0.05], total_steps=20), 19)
o = make("adam"); out["oneCycleAdam"] = run(o, OneCycleLR(o, max_lr=0.02, epochs=4, steps_per_epoch=5, pct_start=0.25, anneal_strategy="linear", div_factor=10.0, final_div_factor=100.0, three_phase=True, base_momentum=0.8, max_momentum=0.9), 20)
o = make("sgd"); out["oneCycleFlat"] = run(o, OneCycleLR(o, max_lr=0.3, total_steps=9, cycle_momentum=False), 9)
metrics = [1.0, 0.9, 0.95, 0.9, 0.899, 0.91, 0.92, 0.93, 0.8, 0.85, 0.86, 0.87, 0.88, 0.89, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5]
o = make("sgd"); out["plateau"] = run(o, ReduceLROnPlateau(o, mode="min", factor=0.5, patience=2, threshold=0.01, cooldown=1, min_lr=[0.01, 0.004]), len(metrics), metrics)
accs = [0.5, 0.6, 0.6, 0.61, 0.6, 0.7, 0.7, 0.7, 0.7, 0.71, 0.72, 0.72, 0.72, 0.72, 0.72, 0.72]
o = make("sgd"); out["plateauMax"] = run(o, ReduceLROnPlateau(o, mode="max", factor=0.1, patience=1, threshold=0.005, threshold_mode="abs"), len(accs), accs)
out["metrics"] = {"lrs": [metrics], "last": [accs], "momenta": []}
print(json.dumps(out))
`);
  expected = JSON.parse(out.trim().split("\n").pop()!);
});

function makeOptimizer(kind: "sgd" | "adam") {
  const a = tt.tensor(new Float32Array(2));
  const b = tt.tensor(new Float32Array(3));
  a.requiresGrad = true;
  b.requiresGrad = true;
  const groups = [{ params: [a] }, { params: [b], lr: 0.01 }];
  return kind === "sgd" ? new tt.optim.SGD(groups, { lr: 0.1, momentum: 0.9 }) : new tt.optim.Adam(groups, { lr: 0.1 });
}

function momenta(opt: tt.optim.Optimizer): number[] {
  return opt.paramGroups.map((g) => ((g as { betas?: number[] }).betas?.[0] ?? (g as { momentum?: number }).momentum) as number);
}

function run(opt: tt.optim.Optimizer, sched: { step(metric?: number): void; getLastLr(): number[] }, n: number, metrics?: number[], from?: Record_): Record_ {
  const rec: Record_ = from ?? { lrs: [opt.paramGroups.map((g) => g.lr)], last: [], momenta: [momenta(opt)] };
  for (let i = 0; i < n; i++) {
    if (metrics) sched.step(metrics[i]);
    else {
      sched.step();
      rec.last.push(sched.getLastLr());
    }
    rec.lrs.push(opt.paramGroups.map((g) => g.lr));
    rec.momenta.push(momenta(opt));
  }
  return rec;
}

function expectClose(ours: number[][], theirs: number[][], what: string) {
  expect(ours.length).toBe(theirs.length);
  ours.forEach((row, i) =>
    row.forEach((x, j) => {
      const y = theirs[i][j];
      if (!(Math.abs(x - y) <= REL * Math.abs(y))) throw new Error(`${what}: step ${i}, group ${j}: ours ${x}, PyTorch ${y}`);
    }),
  );
}

function expectSchedule(name: string, ours: Record_) {
  const theirs = expected[name];
  expectClose(ours.lrs, theirs.lrs, `${name} lr`);
  expectClose(ours.last, theirs.last, `${name} getLastLr`);
  expectClose(ours.momenta, theirs.momenta, `${name} momentum`);
}

const CASES: [string, () => { opt: tt.optim.Optimizer; sched: tt.optim.LRScheduler; n: number }][] = [
  ["cosine", () => { const opt = makeOptimizer("sgd"); return { opt, sched: new S.CosineAnnealingLR(opt, { tMax: 10, etaMin: 0.001 }), n: 30 }; }],
  ["cosineZero", () => { const opt = makeOptimizer("sgd"); return { opt, sched: new S.CosineAnnealingLR(opt, { tMax: 7 }), n: 20 }; }],
  ["linear", () => { const opt = makeOptimizer("sgd"); return { opt, sched: new S.LinearLR(opt, { startFactor: 0.25, endFactor: 1, totalIters: 4 }), n: 8 }; }],
  ["linearDown", () => { const opt = makeOptimizer("sgd"); return { opt, sched: new S.LinearLR(opt, { startFactor: 1, endFactor: 0.1, totalIters: 5 }), n: 8 }; }],
  ["warmupCosine", () => {
    const opt = makeOptimizer("sgd");
    const schedulers = [new S.LinearLR(opt, { startFactor: 0.1, totalIters: 3 }), new S.CosineAnnealingLR(opt, { tMax: 12, etaMin: 1e-4 })];
    return { opt, sched: new S.SequentialLR(opt, { schedulers, milestones: [3] }), n: 15 };
  }],
  ["threeStages", () => {
    const opt = makeOptimizer("sgd");
    const schedulers = [new S.LinearLR(opt, { startFactor: 0.5, totalIters: 2 }), new S.StepLR(opt, { stepSize: 2, gamma: 0.5 }), new S.CosineAnnealingLR(opt, { tMax: 5 })];
    return { opt, sched: new S.SequentialLR(opt, { schedulers, milestones: [2, 6] }), n: 14 };
  }],
  ["oneCycle", () => { const opt = makeOptimizer("sgd"); return { opt, sched: new S.OneCycleLR(opt, { maxLr: [0.1, 0.05], totalSteps: 20 }), n: 19 }; }],
  ["oneCycleAdam", () => {
    const opt = makeOptimizer("adam");
    const sched = new S.OneCycleLR(opt, {
      maxLr: 0.02, epochs: 4, stepsPerEpoch: 5, pctStart: 0.25, annealStrategy: "linear", divFactor: 10, finalDivFactor: 100, threePhase: true, baseMomentum: 0.8, maxMomentum: 0.9,
    });
    return { opt, sched, n: 20 };
  }],
  ["oneCycleFlat", () => { const opt = makeOptimizer("sgd"); return { opt, sched: new S.OneCycleLR(opt, { maxLr: 0.3, totalSteps: 9, cycleMomentum: false }), n: 9 }; }],
];

describe.each(CASES)("%s", (name, make) => {
  test("gives PyTorch's learning rates (and momenta) at every step, for both parameter groups", () => {
    const { opt, sched, n } = make();
    expectSchedule(name, run(opt, sched, n));
  });

  test("resumes from its state dict and the optimizer's, as if never stopped", () => {
    const first = make();
    const half = Math.floor(first.n / 2);
    const rec = run(first.opt, first.sched, half);
    // Through JSON, as a checkpoint carries them.
    const schedState = JSON.parse(JSON.stringify(first.sched.stateDict()));
    const optState = JSON.parse(JSON.stringify(first.opt.stateDict()));
    const second = make();
    second.opt.loadStateDict(optState);
    second.sched.loadStateDict(schedState);
    expectSchedule(name, run(second.opt, second.sched, first.n - half, undefined, rec));
  });
});

describe("ReduceLROnPlateau", () => {
  const metrics = () => expected.metrics;
  test("min mode, relative threshold, cooldown and per-group minLr: PyTorch's learning rates at every epoch", () => {
    const opt = makeOptimizer("sgd");
    const sched = new S.ReduceLROnPlateau(opt, { mode: "min", factor: 0.5, patience: 2, threshold: 0.01, cooldown: 1, minLr: [0.01, 0.004] });
    const values = metrics().lrs[0];
    const ours = run(opt, sched, values.length, values);
    expectClose(ours.lrs, expected.plateau.lrs, "plateau lr");
    expect(sched.getLastLr()).toEqual(ours.lrs[ours.lrs.length - 1]);
  });

  test("max mode with an absolute threshold: PyTorch's learning rates at every epoch", () => {
    const opt = makeOptimizer("sgd");
    const sched = new S.ReduceLROnPlateau(opt, { mode: "max", factor: 0.1, patience: 1, threshold: 0.005, thresholdMode: "abs" });
    const values = metrics().last[0];
    expectClose(run(opt, sched, values.length, values).lrs, expected.plateauMax.lrs, "plateauMax lr");
  });

  test("resumes from its state dict and the optimizer's", () => {
    const values = metrics().lrs[0];
    const options = { mode: "min" as const, factor: 0.5, patience: 2, threshold: 0.01, cooldown: 1, minLr: [0.01, 0.004] };
    const opt = makeOptimizer("sgd");
    const sched = new S.ReduceLROnPlateau(opt, options);
    const rec = run(opt, sched, 9, values.slice(0, 9));
    const opt2 = makeOptimizer("sgd");
    const sched2 = new S.ReduceLROnPlateau(opt2, options);
    opt2.loadStateDict(JSON.parse(JSON.stringify(opt.stateDict())));
    sched2.loadStateDict(JSON.parse(JSON.stringify(sched.stateDict())));
    expectClose(run(opt2, sched2, values.length - 9, values.slice(9), rec).lrs, expected.plateau.lrs, "resumed plateau lr");
  });
});

test("OneCycleLR refuses to step past totalSteps", () => {
  const opt = makeOptimizer("sgd");
  const sched = new S.OneCycleLR(opt, { maxLr: 0.1, totalSteps: 3 });
  for (let i = 0; i < 3; i++) sched.step();
  expect(() => sched.step()).toThrow(/stepped 5 times, but totalSteps is 3/);
});

test("schedulers name their bad options", () => {
  const opt = makeOptimizer("sgd");
  expect(() => new S.CosineAnnealingLR(opt, { tMax: 0 })).toThrow(/Expected positive integer for tMax but received 0/);
  expect(() => new S.LinearLR(opt, { startFactor: 0 })).toThrow(/for startFactor but received 0/);
  expect(() => new S.OneCycleLR(opt, { maxLr: 0.1 })).toThrow(/Expected totalSteps, or epochs and stepsPerEpoch for options/);
  expect(() => new S.OneCycleLR(opt, { maxLr: [0.1], totalSteps: 5 })).toThrow(/Expected a number or 2 numbers for maxLr/);
  expect(() => new S.OneCycleLR(opt, { maxLr: 0.1, totalSteps: 5, annealStrategy: "exp" as "cos" })).toThrow(/"cos" or "linear" for annealStrategy/);
  expect(() => new S.SequentialLR(opt, { schedulers: [new S.LinearLR(opt)], milestones: [3] })).toThrow(/array of 0 milestone\(s\)/);
  expect(() => new S.SequentialLR(opt, { schedulers: [new S.ReduceLROnPlateau(opt) as unknown as tt.optim.LRScheduler], milestones: [] })).toThrow(/ReduceLROnPlateau cannot be sequenced/);
  const other = makeOptimizer("sgd");
  expect(() => new S.SequentialLR(opt, { schedulers: [new S.LinearLR(other)], milestones: [] })).toThrow(/same optimizer/);
  expect(() => new S.ReduceLROnPlateau(opt, { factor: 1 })).toThrow(/for factor but received 1/);
  expect(() => new S.ReduceLROnPlateau(opt, { mode: "up" as "min" })).toThrow(/"min" or "max" for mode/);
  const loose = (o: object) => o as never;
  expect(() => new S.CosineAnnealingLR(opt, loose({ T_max: 5 }))).toThrow(/^Unknown option "T_max" for CosineAnnealingLR; did you mean "tMax"\?/);
  expect(() => new S.OneCycleLR(opt, loose({ max_lr: 0.1, totalSteps: 5 }))).toThrow(/^Unknown option "max_lr" for OneCycleLR; did you mean "maxLr"\?/);
  expect(() => new S.LinearLR(opt, loose({ start_factor: 0.1 }))).toThrow(/^Unknown option "start_factor" for LinearLR; did you mean "startFactor"\?/);
  expect(() => new S.ReduceLROnPlateau(opt, loose({ min_lr: 0.1 }))).toThrow(/^Unknown option "min_lr" for ReduceLROnPlateau; did you mean "minLr"\?/);
});
