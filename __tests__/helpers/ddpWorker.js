// One rank of a distributed test, run as its own process over the compiled
// package (dist/; `npm run build:ts` first). Argument: a JSON job.
//   parity:    three DDP steps of ResNet-18 from PyTorch's files, like ddp_parity.py
//   die:       rank 1 exits after joining; rank 0 then all-reduces and reports the error
//   allreduce: sums [rank + 1] over the group
// Prints one JSON line on stdout: { ok, ... } or { ok: false, message, seconds }.
"use strict";
const path = require("path");
const tt = require(path.resolve(__dirname, "../../dist"));

async function main() {
  const job = JSON.parse(process.argv[2]);
  tt.setNumThreads(1);
  const started = Date.now();
  let pg;
  try {
    pg = await tt.distributed.initProcessGroup({
      rank: job.rank, worldSize: job.worldSize, masterAddr: "127.0.0.1", masterPort: job.port, timeoutMs: job.timeoutMs ?? 60000,
    });
  } catch (err) {
    return { ok: false, stage: "init", message: err.message, seconds: (Date.now() - started) / 1000 };
  }
  if (job.mode === "allreduce") {
    const t = tt.tensor(Float32Array.of(pg.rank + 1), [1]);
    await pg.allReduce([t]);
    const [sum] = await t.data();
    await pg.barrier();
    return { ok: true, sum, rank: pg.rank, size: pg.size };
  }
  if (job.mode === "die") {
    await pg.barrier();
    if (pg.rank === 1) process.exit(0);
    await new Promise((r) => setTimeout(r, 500));
    const t0 = Date.now();
    try {
      for (let i = 0; i < 5; i++) await pg.allReduce([tt.tensor(Float32Array.of(1), [1])]);
      return { ok: true };
    } catch (err) {
      return { ok: false, stage: "allReduce", message: err.message, seconds: (Date.now() - t0) / 1000 };
    }
  }
  if (job.mode === "parity") {
    const model = tt.models.resnet18({ numClasses: 2 });
    if (pg.rank === 0) model.loadStateDict(await tt.load(path.join(job.dir, "weights.pth")));
    model.train();
    const data = await tt.load(path.join(job.dir, "data.pth"));
    const ddp = new tt.distributed.DistributedDataParallel(model, pg);
    const optimizer = new tt.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
    const x = data.get("x"), y = data.get("y");
    const xs = await x.data(), ys = await y.data();
    const [, steps, batch, c, h, w] = x.shape;
    const losses = [];
    const before = pg.bytesAllReduced;
    for (let step = 0; step < steps; step++) {
      const n = batch * c * h * w;
      const offset = (pg.rank * steps + step) * n;
      const inputs = tt.tensor(xs.slice(offset, offset + n), [batch, c, h, w]);
      const labels = tt.tensor(ys.slice((pg.rank * steps + step) * batch, (pg.rank * steps + step + 1) * batch), [batch]);
      const { loss } = await ddp.runBatch(optimizer.native, inputs, labels, true);
      losses.push(loss);
      inputs.dispose();
      labels.dispose();
    }
    const bytesPerStep = (pg.bytesAllReduced - before) / steps;
    const totals = await ddp.reduceTotals([pg.rank + 1, 10]);
    await tt.save(model.stateDict(), path.join(job.dir, `ours_rank${pg.rank}.safetensors`));
    await pg.barrier();
    return { ok: true, losses, totals, bytesPerStep, rank: pg.rank };
  }
  throw new Error(`unknown mode ${job.mode}`);
}

main().then(
  (result) => {
    process.stdout.write(JSON.stringify(result) + "\n");
    process.exit(0);
  },
  (err) => {
    process.stdout.write(JSON.stringify({ ok: false, stage: "crash", message: String(err && err.stack) }) + "\n");
    process.exit(1);
  },
);
