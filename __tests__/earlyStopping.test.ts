// earlyStopping: trainModel stops once the val accuracy has not beaten its
// best for `patience` epochs, keeps the best weights, says where it stopped,
// and a resumed run continues the count from the history it is given.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tt from "../lib";
import { epochsWithoutImprovement } from "../lib/train/trainModel";
import { jsonLines, runCli, subset } from "./helpers/cli";

function loader(n: number) {
  return {
    length: 1,
    async *[Symbol.asyncIterator]() {
      const x = new Float32Array(n * 4).map((_, i) => Math.sin(i * 1.7));
      const y = BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 2));
      yield [tt.tensor(x, [n, 4]), tt.tensor(y)] as [tt.Tensor, tt.Tensor];
    },
  };
}

function record(epoch: number, acc: number): tt.EpochRecord[] {
  return [
    { epoch, phase: "train", loss: 1, acc: 0.5, seconds: 0, images: 1 },
    { epoch, phase: "val", loss: 1, acc, seconds: 0, images: 1 },
  ];
}

test("epochsWithoutImprovement counts val epochs since the accuracy last rose strictly above its best", () => {
  const history = [0.5, 0.7, 0.7, 0.6, 0.8, 0.8, 0.75].flatMap((acc, e) => record(e, acc));
  expect(epochsWithoutImprovement(history)).toBe(2);
  expect(epochsWithoutImprovement(history.slice(0, 10))).toBe(0); // epoch 4 reached 0.8
  expect(epochsWithoutImprovement(history.slice(0, 8))).toBe(2); // 0.7 again and 0.6
  expect(epochsWithoutImprovement(record(0, 0))).toBe(1); // the best starts at 0: an accuracy of 0 is no improvement
});

// A learning rate so small that the weights, and so the val accuracy, do not
// change after the first epoch: epoch 0 sets the best, every later one is stale.
async function run(numEpochs: number, patience: number, model: tt.nn.Linear, resume?: tt.TrainOptions["resume"], onEpochEnd?: tt.TrainOptions["onEpochEnd"]) {
  const optimizer = new tt.optim.SGD(model.parameters(), { lr: 1e-30 });
  return tt.trainModel(model, new tt.nn.CrossEntropyLoss(), optimizer, null, {
    dataloaders: { train: loader(8), val: loader(8) }, numEpochs, device: "cpu", earlyStopping: { patience }, resume, onEpochEnd,
  });
}

test("stops after `patience` epochs without a better val accuracy and says where", async () => {
  tt.manualSeed(3);
  const model = new tt.nn.Linear(4, 2);
  const result = await run(10, 2, model);
  expect(result.history.filter((r) => r.phase === "val").map((r) => r.epoch)).toEqual([0, 1, 2]);
  expect(result.stoppedEarly).toEqual({ epoch: 2, epochsWithoutImprovement: 2 });
  expect(result.bestAcc).toBe(result.history[1].acc);
});

test("a run that uses all its epochs reports no early stop", async () => {
  tt.manualSeed(3);
  const result = await run(3, 5, new tt.nn.Linear(4, 2));
  expect(result.history).toHaveLength(6);
  expect(result.stoppedEarly).toBeUndefined();
});

test("a resumed run keeps the count: it stops where the uninterrupted run stopped", async () => {
  tt.manualSeed(3);
  const model = new tt.nn.Linear(4, 2);
  let saved: tt.TrainState | undefined;
  let best: Map<string, tt.Tensor> | undefined;
  // "Interrupted" after epoch 1, one stale epoch already counted.
  await run(2, 3, model, undefined, (s) => {
    saved = s;
    best?.forEach((t) => t.dispose());
    best = new Map([...s.bestWeights].map(([k, t]) => [k, t.detach()]));
  });
  expect(saved?.epoch).toBe(1);
  const resumed = await run(10, 3, model, { startEpoch: 2, bestAcc: saved!.bestAcc, bestWeights: best!, history: saved!.history });
  expect(resumed.history.filter((r) => r.phase === "val").map((r) => r.epoch)).toEqual([0, 1, 2, 3]);
  expect(resumed.stoppedEarly).toEqual({ epoch: 3, epochsWithoutImprovement: 3 });
});

test("rejects a patience that is not a positive integer, naming the option", async () => {
  const model = new tt.nn.Linear(4, 2);
  const optimizer = new tt.optim.SGD(model.parameters(), { lr: 0.1 });
  await expect(
    tt.trainModel(model, new tt.nn.CrossEntropyLoss(), optimizer, null, { dataloaders: { train: loader(2), val: loader(2) }, earlyStopping: { patience: 0 } }),
  ).rejects.toThrow(/earlyStopping\.patience/);
});

describe("npm run finetune --early-stop", () => {
  let tmp: string;
  beforeAll(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tt-earlystop-"))));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test("stops, says after which epoch, keeps the history to there, and a resume keeps the count", () => {
    const data = subset(path.join(tmp, "data"), 2);
    const out = path.join(tmp, "run");
    // A learning rate too small to move the weights; BatchNorm's statistics still move, so the stop is read off the history.
    const args = ["--data", data, "--weights", "none", "--lr", "1e-30", "--epochs", "5", "--early-stop", "1", "--batch-size", "4", "--workers", "2", "--json", "--no-report", "--device", "cpu", "--out", out];
    const r = runCli("finetune", args);
    expect(r.stderr).toBe("");
    expect(r.status === 0 ? 0 : `exit status ${r.status}, stderr: ${r.stderr}`).toBe(0);  // a failure shows its stderr
    const lines = jsonLines(r.stdout);
    const history: tt.EpochRecord[] = JSON.parse(fs.readFileSync(path.join(out, "history.json"), "utf8"));
    const last = history[history.length - 1].epoch;
    expect(last).toBeLessThan(4); // it stopped before --epochs ran out
    // Every earlier epoch raised the best; the last did not: patience 1 reached there and not before.
    for (let e = 0; e < last; e++) expect(epochsWithoutImprovement(history.slice(0, 2 * (e + 1)))).toBe(0);
    expect(epochsWithoutImprovement(history)).toBe(1);
    expect(lines.filter((l) => l.phase === "val").map((l) => l.epoch)).toEqual(Array.from({ length: last + 1 }, (_, i) => i));
    expect(lines.find((l) => l.stoppedEarly)).toEqual({ stoppedEarly: { epoch: last, epochsWithoutImprovement: 1 } });
    const again = runCli("finetune", ["--resume", out, "--epochs", "5", "--json", "--no-report", "--workers", "2"]);
    expect(again.status).toBe(0);
    const resumed = jsonLines(again.stdout);
    expect(resumed.filter((l) => l.phase)).toEqual([]);
    expect(resumed.find((l) => l.stoppedEarly)).toEqual({ stoppedEarly: { epoch: last, epochsWithoutImprovement: 1 } });
  }, 600_000);
});
