// One rank of the NCCL DDP test, on cuda:RANK, over the compiled package
// (dist/). Argument: { rank, worldSize, port }. Every rank starts from the same
// Linear (seeded), takes its shard of one batch of 8 x worldSize, steps once
// data-parallel, and prints its weights as one JSON line.
"use strict";
const path = require("path");
const tt = require(path.resolve(__dirname, "../../dist"));

function batch(worldSize) {
  const n = 8 * worldSize;
  const x = Float32Array.from({ length: n * 64 }, (_, i) => Math.sin(i * 0.37));
  const y = BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 4));
  return { n, x, y };
}

async function main() {
  const job = JSON.parse(process.argv[2]);
  const device = `cuda:${job.rank}`;
  tt.backends.cuda.matmul.allowTf32 = false;
  const pg = await tt.distributed.initProcessGroup({ device, rank: job.rank, worldSize: job.worldSize, masterAddr: "127.0.0.1", masterPort: job.port, timeoutMs: 120000 });
  tt.manualSeed(3);
  const model = new tt.nn.Linear(64, 4);
  model.to(device);
  const ddp = new tt.distributed.DistributedDataParallel(model, pg);
  const optimizer = new tt.optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const { x, y } = batch(job.worldSize);
  const rows = 8;
  const inputs = tt.tensor(x.slice(job.rank * rows * 64, (job.rank + 1) * rows * 64), [rows, 64]).to(device);
  const labels = tt.tensor(y.slice(job.rank * rows, (job.rank + 1) * rows), [rows]).to(device);
  ddp.train();
  const r = await ddp.runBatch(optimizer.native, inputs, labels, true, new tt.nn.CrossEntropyLoss().nativeOptions);
  const [loss, correct, images] = await ddp.reduceTotals([r.loss * rows, r.correct, rows]);
  const weights = {};
  for (const [name, t] of model.stateDict()) weights[name] = Array.from(await t.data());
  pg.dispose();
  return { ok: true, backend: pg.backend, device: model.parameters()[0].device, loss: loss / images, correct, images, weights };
}

main().then(
  (r) => console.log(JSON.stringify(r)),
  (err) => {
    console.log(JSON.stringify({ ok: false, message: err.message }));
    process.exitCode = 1;
  },
);
