// trainModel steps a per-batch scheduler (OneCycleLR) inside the batch loop,
// an epoch scheduler after each training phase, and ReduceLROnPlateau after
// each val phase with the val loss: checked against the same loop written out
// with the step-by-step API, to the bit.
import * as tt from "../lib";

const S = tt.optim.lrScheduler;

function fixedBatches() {
  // A deterministic little problem: 4 batches of 5 points in 3 classes.
  const batches: [Float32Array, BigInt64Array][] = [];
  for (let b = 0; b < 4; b++) {
    const x = new Float32Array(5 * 4).map((_, i) => Math.sin(b * 31 + i * 7.3));
    const y = BigInt64Array.from({ length: 5 }, (_, i) => BigInt((b + i) % 3));
    batches.push([x, y]);
  }
  return batches;
}

function loader(batches: [Float32Array, BigInt64Array][]) {
  return {
    length: batches.length,
    async *[Symbol.asyncIterator]() {
      for (const [x, y] of batches) yield [tt.tensor(x, [5, 4]), tt.tensor(y)] as [tt.Tensor, tt.Tensor];
    },
  };
}

function setUp(makeScheduler: (opt: tt.optim.SGD) => tt.optim.LRScheduler | tt.optim.ReduceLROnPlateau) {
  const model = new tt.nn.Linear(4, 3);
  return { model, ...withOptimizer(model, makeScheduler) };
}

function withOptimizer(model: tt.nn.Linear, makeScheduler: (opt: tt.optim.SGD) => tt.optim.LRScheduler | tt.optim.ReduceLROnPlateau) {
  const optimizer = new tt.optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  return { optimizer, scheduler: makeScheduler(optimizer) };
}

async function weights(model: tt.nn.Module): Promise<number[][]> {
  return Promise.all([...model.stateDict().values()].map(async (t) => Array.from((await t.data()) as Float32Array)));
}

/** The loop a PyTorch user writes, with scheduler.step() where `per` says. */
async function byHand(model: tt.nn.Linear, optimizer: tt.optim.SGD, scheduler: tt.optim.LRScheduler, per: "batch" | "epoch", epochs: number) {
  const criterion = new tt.nn.CrossEntropyLoss();
  const snapshots: number[][][] = [];
  for (let e = 0; e < epochs; e++) {
    for await (const [x, y] of loader(fixedBatches())) {
      optimizer.zeroGrad();
      const loss = await criterion.forward(await model.forward(x), y);
      await loss.backward();
      await optimizer.step();
      if (per === "batch") scheduler.step();
    }
    if (per === "epoch") scheduler.step();
    snapshots.push(await weights(model));
  }
  return snapshots;
}

async function byTrainModel(model: tt.nn.Linear, optimizer: tt.optim.SGD, scheduler: tt.optim.LRScheduler | tt.optim.ReduceLROnPlateau, epochs: number, extra: Partial<tt.TrainOptions> = {}) {
  const snapshots: number[][][] = [];
  const lrsAfterBatches: number[] = [];
  const result = await tt.trainModel(model, new tt.nn.CrossEntropyLoss(), optimizer, scheduler, {
    dataloaders: { train: loader(fixedBatches()), val: loader(fixedBatches().slice(0, 2)) },
    numEpochs: epochs,
    device: "cpu",
    onBatch: ({ phase }) => { if (phase === "train") lrsAfterBatches.push(optimizer.paramGroups[0].lr); },
    onEpoch: async (r) => { if (r.phase === "train") snapshots.push(await weights(model)); },
    ...extra,
  });
  return { snapshots, lrsAfterBatches, result };
}

test("OneCycleLR steps after every training batch by default, as the hand-written loop does", async () => {
  const a = setUp((opt) => new S.OneCycleLR(opt, { maxLr: 0.5, epochs: 2, stepsPerEpoch: 4 }));
  const b = { model: new tt.nn.Linear(4, 3) };
  b.model.loadStateDict(a.model.stateDict());
  const bOpt = withOptimizer(b.model, (opt) => new S.OneCycleLR(opt, { maxLr: 0.5, epochs: 2, stepsPerEpoch: 4 }));
  const ours = await byTrainModel(a.model, a.optimizer, a.scheduler, 2);
  const reference = await byHand(b.model, bOpt.optimizer, bOpt.scheduler as tt.optim.LRScheduler, "batch", 2);
  expect(ours.snapshots).toEqual(reference);
  expect((a.scheduler as tt.optim.LRScheduler).lastEpoch).toBe(8);
  // Eight different rates, one after each batch, ending where the hand-written loop's ends.
  expect(new Set(ours.lrsAfterBatches).size).toBe(8);
  expect(ours.lrsAfterBatches[7]).toBe(bOpt.optimizer.paramGroups[0].lr);
  expect(a.optimizer.paramGroups[0].momentum).toBe(bOpt.optimizer.paramGroups[0].momentum);
});

test("an epoch scheduler (CosineAnnealingLR) steps once per epoch, after the training phase", async () => {
  const a = setUp((opt) => new S.CosineAnnealingLR(opt, { tMax: 3 }));
  const b = { model: new tt.nn.Linear(4, 3) };
  b.model.loadStateDict(a.model.stateDict());
  const bOpt = withOptimizer(b.model, (opt) => new S.CosineAnnealingLR(opt, { tMax: 3 }));
  const ours = await byTrainModel(a.model, a.optimizer, a.scheduler, 3);
  expect(ours.snapshots).toEqual(await byHand(b.model, bOpt.optimizer, bOpt.scheduler as tt.optim.LRScheduler, "epoch", 3));
  expect((a.scheduler as tt.optim.LRScheduler).lastEpoch).toBe(3);
  // Within an epoch the rate does not move.
  expect(new Set(ours.lrsAfterBatches.slice(0, 4)).size).toBe(1);
});

test('schedulerStepsPer: "batch" makes a LinearLR warm-up count batches', async () => {
  const a = setUp((opt) => new S.LinearLR(opt, { startFactor: 0.1, totalIters: 6 }));
  const b = { model: new tt.nn.Linear(4, 3) };
  b.model.loadStateDict(a.model.stateDict());
  const bOpt = withOptimizer(b.model, (opt) => new S.LinearLR(opt, { startFactor: 0.1, totalIters: 6 }));
  const ours = await byTrainModel(a.model, a.optimizer, a.scheduler, 2, { schedulerStepsPer: "batch" });
  expect(ours.snapshots).toEqual(await byHand(b.model, bOpt.optimizer, bOpt.scheduler as tt.optim.LRScheduler, "batch", 2));
  expect((a.scheduler as tt.optim.LRScheduler).lastEpoch).toBe(8);
});

test("ReduceLROnPlateau steps once per epoch, after val, with the val loss (or the val accuracy when asked)", async () => {
  // threshold 0: any improvement counts, so the best seen is the extreme of the val figures.
  for (const plateauMetric of ["valLoss", "valAcc"] as const) {
    const a = setUp((opt) => new S.ReduceLROnPlateau(opt, { mode: plateauMetric === "valLoss" ? "min" : "max", patience: 0, threshold: 0 }));
    const plateau = a.scheduler as tt.optim.ReduceLROnPlateau;
    const { result } = await byTrainModel(a.model, a.optimizer, plateau, 3, { plateauMetric });
    const val = result.history.filter((r) => r.phase === "val").map((r) => (plateauMetric === "valLoss" ? r.loss : r.acc));
    expect(plateau.lastEpoch).toBe(3);
    expect(plateau.best).toBe(plateauMetric === "valLoss" ? Math.min(...val) : Math.max(...val));
  }
});

test("trainModel refuses a per-batch ReduceLROnPlateau and a scheduler of another optimizer", async () => {
  const a = setUp((opt) => new S.ReduceLROnPlateau(opt));
  const run = (scheduler: tt.optim.LRScheduler | tt.optim.ReduceLROnPlateau, extra: Partial<tt.TrainOptions> = {}) =>
    tt.trainModel(a.model, new tt.nn.CrossEntropyLoss(), a.optimizer, scheduler, { dataloaders: { train: loader([]), val: loader([]) }, ...extra });
  await expect(run(a.scheduler, { schedulerStepsPer: "batch" })).rejects.toThrow(/Expected "epoch" for ReduceLROnPlateau for schedulerStepsPer/);
  const other = withOptimizer(new tt.nn.Linear(4, 3), (opt) => new S.StepLR(opt, { stepSize: 1 }));
  await expect(run(other.scheduler)).rejects.toThrow(/another optimizer/);
});
