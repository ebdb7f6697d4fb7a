// Ours: the tutorial through the library (trainModel with the tutorial's data
// loaders), one epoch of each mode; --cache-features; a bare train step.
// Threads come from TORCH_TRANSFER_NUM_THREADS, set by scripts/bench.js.
"use strict";
const path = require("path");
const { dist, subset, now, runPart } = require("./common");

const tt = dist();
const { tutorialData, tutorialModel, tutorialOptimizer, datasetWithValTransform } = dist("train/tutorial");
const { extractFeatures, trainLinearProbe } = dist("train/linearProbe");
const { DataLoader } = dist("data/dataLoader");

function loaders(args) {
  const made = tutorialData(args.data, { batchSize: 4, numWorkers: args.workers, seed: args.seed });
  const limit = args.limit || {};
  if (!limit.train && !limit.val) return made;
  const sets = { train: subset(made.datasets.train, limit.train), val: subset(made.datasets.val, limit.val) };
  return {
    datasets: made.datasets,
    classNames: made.classNames,
    dataloaders: {
      train: new DataLoader(sets.train, { batchSize: 4, shuffle: true, numWorkers: args.workers, seed: args.seed }),
      val: new DataLoader(sets.val, { batchSize: 4, shuffle: true, numWorkers: args.workers, seed: args.seed + 1 }),
    },
    sets,
  };
}

async function tutorial(args, mode) {
  tt.manualSeed(args.seed);
  const { dataloaders, classNames } = loaders(args);
  const { model, trainable } = await tutorialModel(mode, classNames.length, null);
  if (args.channelsLast) model.to({ memoryFormat: "channels_last" });
  const optimizer = tutorialOptimizer(trainable, 0.001, 0.9);
  const scheduler = new tt.optim.lrScheduler.StepLR(optimizer, { stepSize: 7, gamma: 0.1 });
  const started = now();
  const result = await tt.trainModel(model, new tt.nn.CrossEntropyLoss(), optimizer, scheduler, { dataloaders, numEpochs: args.epochs, amp: !!args.amp });
  return { records: result.history, bestAcc: result.bestAcc, wall: now() - started };
}

async function cacheFeatures(args) {
  tt.manualSeed(args.seed);
  const made = loaders(args);
  const limit = args.limit || {};
  const { model, trainable } = await tutorialModel("feature-extract", made.classNames.length, null);
  const optimizer = tutorialOptimizer(trainable, 0.001, 0.9);
  const scheduler = new tt.optim.lrScheduler.StepLR(optimizer, { stepSize: 7, gamma: 0.1 });
  const started = now();
  const sets = {
    train: subset(datasetWithValTransform(made.datasets.train.root), limit.train),
    val: subset(made.datasets.val, limit.val),
  };
  const cached = {
    train: await extractFeatures(model, sets.train, { numWorkers: args.workers }),
    val: await extractFeatures(model, sets.val, { numWorkers: args.workers }),
  };
  const extractSeconds = now() - started;
  const { bestAcc, history } = await trainLinearProbe(model.fc, optimizer, scheduler, cached, { numEpochs: args.cacheEpochs, batchSize: 4, seed: args.seed });
  return { wall: now() - started, extractSeconds, epochs: args.cacheEpochs, bestAcc, lastValAcc: history[history.length - 1].acc };
}

async function bareStep(args) {
  const model = tt.models.resnet18();
  model.fc = new tt.nn.Linear(512, 2);
  const optimizer = new tt.optim.SGD(model.parameters(), { lr: 0.001, momentum: 0.9 });
  const x = tt.tensor(Float32Array.from({ length: 4 * 3 * 224 * 224 }, () => Math.random() * 2 - 1), [4, 3, 224, 224]);
  const y = tt.tensor(BigInt64Array.from([0n, 1n, 0n, 1n]), [4]);
  const steps = args.steps;
  model.train();
  const step = (train) => tt.withGradEnabled(train, () => model.runBatch(train ? optimizer.native : null, x, y, train));
  await step(true);
  let started = now();
  for (let i = 0; i < steps; i++) await step(true);
  const trainImagesPerSecond = (4 * steps) / (now() - started);
  model.eval();
  await step(false);
  started = now();
  for (let i = 0; i < steps; i++) await step(false);
  const evalImagesPerSecond = (4 * steps) / (now() - started);
  return { trainImagesPerSecond, evalImagesPerSecond, batch: 4, steps };
}

runPart(async (args) => {
  const out = { threads: tt.getNumThreads(), workers: args.workers, modes: {} };
  for (const mode of args.modes || []) out.modes[mode] = await tutorial(args, mode);
  if (args.cacheEpochs) out.cacheFeatures = await cacheFeatures(args);
  if (args.steps) out.step = await bareStep(args);
  return out;
});
