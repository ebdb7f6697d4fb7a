// Ours: the fused train step (forward, CrossEntropyLoss, backward, SGD with
// momentum: what trainModel runs per batch) of one registered backbone on a
// synthetic batch; images per second after warm-up. Threads come from
// TORCH_TRANSFER_NUM_THREADS, set by scripts/bench.js.
"use strict";
const { dist, now, runPart } = require("./common");

const tt = dist();

runPart(async ({ arch, batch, steps, warmup }) => {
  const model = tt.models.getModel(arch, { numClasses: 2 });
  const optimizer = new tt.optim.SGD(model.parameters(), { lr: 0.001, momentum: 0.9 });
  const x = tt.tensor(Float32Array.from({ length: batch * 3 * 224 * 224 }, (_, i) => Math.sin(i)), [batch, 3, 224, 224]);
  const y = tt.tensor(BigInt64Array.from({ length: batch }, (_, i) => BigInt(i % 2)), [batch]);
  model.train();
  const step = () => tt.withGradEnabled(true, () => model.runBatch(optimizer.native, x, y, true));
  for (let i = 0; i < warmup; i++) await step();
  const seconds = [];
  for (let i = 0; i < steps; i++) {
    const started = now();
    await step();
    seconds.push(now() - started);
  }
  const total = seconds.reduce((a, b) => a + b, 0);
  return { arch, threads: tt.getNumThreads(), batch, steps, warmup, stepSeconds: seconds, trainImagesPerSecond: (batch * steps) / total };
});
