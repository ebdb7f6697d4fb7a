// One rank of the data-parallel step bench (started by ddp.js): the same 4
// hymenoptera training images every step, so only the step itself is timed
// (forward, backward with the gradient all-reduce, SGD), not decoding. With
// worldSize 1 it times the plain single-process step instead: the difference
// is what the all-reduce costs beyond what it overlaps.
"use strict";
const { dist, now, runPart } = require("./common");

const tt = dist();
const { tutorialData, tutorialModel, tutorialOptimizer } = dist("train/tutorial");

runPart(async ({ data, rank, worldSize, port, steps, mode, bucketCapMb }) => {
  tt.setNumThreads(1);
  const pg = worldSize > 1 ? await tt.distributed.initProcessGroup({ rank, worldSize, masterAddr: "127.0.0.1", masterPort: port, timeoutMs: 120_000 }) : null;
  const { dataloaders, classNames } = tutorialData(data, { batchSize: 4, numWorkers: 1, seed: rank });
  const [inputs, labels] = await dataloaders.train[Symbol.asyncIterator]().next().then((r) => r.value);
  const { model, trainable } = await tutorialModel(mode, classNames.length, null);
  const optimizer = tutorialOptimizer(trainable, 0.001, 0.9);
  const trained = pg ? new tt.distributed.DistributedDataParallel(model, pg, { bucketCapMb }) : model;
  model.train();
  const step = () => trained.runBatch(optimizer.native, inputs, labels, true);
  for (let i = 0; i < 3; i++) await step(); // the first steps rebuild buckets and warm the allocator
  if (pg) await pg.barrier();
  const bytesBefore = pg ? pg.bytesAllReduced : 0;
  const times = [];
  for (let i = 0; i < steps; i++) {
    const started = now();
    await step();
    times.push(now() - started);
  }
  const bytesPerStep = pg ? (pg.bytesAllReduced - bytesBefore) / steps : 0;
  if (pg) {
    await pg.barrier();
    pg.dispose();
  }
  times.sort((a, b) => a - b);
  return { rank, min: times[0], median: times[Math.floor(times.length / 2)], steps, bytesPerStep };
});
