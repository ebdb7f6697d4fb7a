// Ours: where a fine-tune train step's time goes (waiting for the next batch,
// forward with the loss, backward, the SGD step), over the tutorial's train
// loader, one awaited call per part; breakdown.py does the same in PyTorch.
// Threads come from TORCH_TRANSFER_NUM_THREADS, set by scripts/bench.js.
"use strict";
const { dist, now, runPart } = require("./common");

const tt = dist();
const { tutorialData, tutorialModel, tutorialOptimizer } = dist("train/tutorial");

runPart(async (args) => {
  tt.manualSeed(args.seed);
  const { dataloaders, classNames } = tutorialData(args.data, { batchSize: 4, numWorkers: args.workers, seed: args.seed });
  const { model, trainable } = await tutorialModel(args.mode || "finetune", classNames.length, null);
  if (args.channelsLast) model.to({ memoryFormat: "channels_last" });
  const optimizer = tutorialOptimizer(trainable, 0.001, 0.9);
  const criterion = new tt.nn.CrossEntropyLoss();
  model.train();
  const totals = { data: 0, forward: 0, backward: 0, optimizer: 0 };
  let steps = 0;
  let images = 0;
  const started = now();
  const it = dataloaders.train[Symbol.asyncIterator]();
  for (;;) {
    const t0 = now();
    const next = await it.next();
    if (next.done) break;
    const [inputs, labels] = next.value;
    const t1 = now();
    optimizer.zeroGrad();
    const forwardAndLoss = async () => {
      const out = await model.forward(inputs);
      return [out, await criterion.forward(out, labels)];
    };
    // --amp's CPU form: forward and loss under bfloat16 autocast, backward outside it.
    const [logits, loss] = await (args.amp ? tt.amp.autocast({ deviceType: "cpu", dtype: "bfloat16" }, forwardAndLoss) : forwardAndLoss());
    const t2 = now();
    await loss.backward();
    const t3 = now();
    await optimizer.step();
    const t4 = now();
    // The first step warms the allocator and oneDNN's primitive cache: not counted.
    if (steps > 0) {
      totals.data += t1 - t0;
      totals.forward += t2 - t1;
      totals.backward += t3 - t2;
      totals.optimizer += t4 - t3;
      images += inputs.shape[0];
    }
    steps++;
    for (const t of [inputs, labels, logits, loss]) t.dispose();
    if (args.steps && steps > args.steps) break;
  }
  const counted = steps - 1;
  const perStep = Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, v / counted]));
  return { amp: !!args.amp, channelsLast: !!args.channelsLast, threads: tt.getNumThreads(), workers: args.workers, steps: counted, images, wall: now() - started, perStepSeconds: perStep };
});
