// One rank of a distributed test, run as its own process over the compiled
// package (dist/; `npm run build:ts` first). Argument: a JSON job.
//   parity:    three DDP steps of ResNet-18 from PyTorch's files, fine-tuning and
//              feature-extracting (only fc trainable), like ddp_parity.py
//   die:       rank 1 exits after joining; rank 0 then all-reduces and reports the error
//   dieTraining: every rank trains data-parallel; rank `dies` exits, is killed or stalls (`how`)
//              mid-training; the others report their error
//   allreduce: sums [rank + 1] over the group
// Prints one JSON line on stdout: { ok, ... } or { ok: false, stage, message }.
"use strict";
const path = require("path");
const tt = require(path.resolve(__dirname, "../../dist"));

async function main() {
  const job = JSON.parse(process.argv[2]);
  tt.setNumThreads(1);
  let pg;
  try {
    pg = await tt.distributed.initProcessGroup({
      rank: job.rank, worldSize: job.worldSize, masterAddr: "127.0.0.1", masterPort: job.port, timeoutMs: job.timeoutMs ?? 60000,
    });
  } catch (err) {
    return { ok: false, stage: "init", message: err.message };
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
    // Whether rank 1 has gone yet or goes while this waits, the connection closes: no sleep needed.
    try {
      for (let i = 0; i < 5; i++) await pg.allReduce([tt.tensor(Float32Array.of(1), [1])]);
      return { ok: true };
    } catch (err) {
      return { ok: false, stage: "allReduce", message: err.message };
    }
  }
  if (job.mode === "dieTraining") {
    // Every rank trains a small model data-parallel; rank job.dies exits
    // after a few steps, the others go on until their step fails.
    const model = new tt.nn.Linear(64, 4);
    const ddp = new tt.distributed.DistributedDataParallel(model, pg);
    const optimizer = new tt.optim.SGD(model.parameters(), { lr: 0.01 });
    const inputs = tt.tensor(Float32Array.from({ length: 8 * 64 }, (_, i) => Math.sin(i)), [8, 64]);
    const labels = tt.tensor(BigInt64Array.from({ length: 8 }, (_, i) => BigInt(i % 4)), [8]);
    try {
      for (let step = 0; step < 100_000; step++) {
        if (pg.rank === job.dies && step === 20) {
          if (job.how === "SIGKILL") process.kill(process.pid, "SIGKILL");
          if (job.how === "stall") {
            // alive (its heartbeat goes on) but no longer taking part, until the test kills it
            // once the others have reported: no sleep that a slow machine could outlast
            await new Promise(() => setInterval(() => undefined, 60_000));
          }
          process.exit(3);
        }
        await ddp.runBatch(optimizer.native, inputs, labels, true);
      }
      return { ok: true };
    } catch (err) {
      return { ok: false, stage: "train", message: err.message };
    }
  }
  if (job.mode === "parity") {
    const data = await tt.load(path.join(job.dir, "data.pth"));
    const x = data.get("x"), y = data.get("y");
    const xs = await x.data(), ys = await y.data();
    const [, steps, batch, c, h, w] = x.shape;
    const result = { ok: true, rank: pg.rank };
    for (const mode of ["finetune", "fe"]) {
      const model = tt.models.resnet18({ numClasses: 2 });
      if (pg.rank === 0) model.loadStateDict(await tt.load(path.join(job.dir, "weights.pth")));
      if (mode === "fe") for (const [name, p] of model.namedParameters()) p.requiresGrad = name.startsWith("fc.");
      model.train();
      const ddp = new tt.distributed.DistributedDataParallel(model, pg);
      const optimizer = new tt.optim.SGD(model.parameters().filter((p) => p.requiresGrad), { lr: 0.01, momentum: 0.9 });
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
      result[mode] = { losses, bytesPerStep: (pg.bytesAllReduced - before) / steps };
      if (mode === "finetune") result.totals = await ddp.reduceTotals([pg.rank + 1, 10]);
      await tt.save(model.stateDict(), path.join(job.dir, `ours_${mode}_rank${pg.rank}.safetensors`));
    }
    await pg.barrier();
    return result;
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
