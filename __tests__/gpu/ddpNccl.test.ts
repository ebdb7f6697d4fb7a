// DistributedDataParallel over NCCL, one rank per GPU: every rank ends with
// the same weights, and they are one step of the whole batch on one process
// (the mean loss over equal shards averages to the whole batch's gradient).
import { spawn } from "child_process";
import * as path from "path";
import * as tt from "../../lib";
import { freePort } from "../helpers/cli";
import { requireCuda } from "./gpu";

beforeAll(requireCuda);

function runRank(job: object): Promise<Record<string, any>> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(__dirname, "ncclWorker.js"), JSON.stringify(job)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("close", () => resolve(JSON.parse(out.trim().split("\n").pop() || '{"ok":false,"message":"no output"}')));
  });
}

test("a DDP step over NCCL with one rank per GPU equals one step of the whole batch", async () => {
  expect(tt.distributed.isNcclAvailable()).toBe(true);
  const worldSize = tt.cuda.deviceCount();
  const port = await freePort();
  const ranks = await Promise.all(Array.from({ length: worldSize }, (_, rank) => runRank({ rank, worldSize, port })));
  for (const [rank, r] of ranks.entries()) {
    expect(r).toMatchObject({ ok: true, backend: "nccl", device: `cuda:${rank}`, images: 8 * worldSize });
  }

  // The same step in one process, on the CPU, over the whole batch.
  tt.manualSeed(3);
  const model = new tt.nn.Linear(64, 4);
  const optimizer = new tt.optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const n = 8 * worldSize;
  const x = tt.tensor(Float32Array.from({ length: n * 64 }, (_, i) => Math.sin(i * 0.37)), [n, 64]);
  const y = tt.tensor(BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 4)), [n]);
  model.train();
  const whole = await model.runBatch(optimizer.native, x, y, true, new tt.nn.CrossEntropyLoss().nativeOptions);
  // float32 sums of 8 x worldSize rows in another order (NCCL's, cuBLAS's): 1e-5.
  expect(Math.abs(ranks[0].loss - whole.loss)).toBeLessThan(1e-5);
  for (const [name, t] of model.stateDict()) {
    const expected = Array.from((await t.data()) as Float32Array);
    for (const r of ranks) {
      const got = r.weights[name] as number[];
      expect(got.length).toBe(expected.length);
      expect(Math.max(...got.map((v, i) => Math.abs(v - expected[i])))).toBeLessThan(1e-5);
    }
  }
});
