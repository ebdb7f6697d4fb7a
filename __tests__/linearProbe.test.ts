// --cache-features' linear probe trains its head with the criterion it is
// given (weight, labelSmoothing, reduction), as the fused step does; checked
// against torch's cross_entropy and SGD on the same cached features.
import * as tt from "../lib";
import { FeatureSet, trainLinearProbe } from "../lib/train/linearProbe";
import { runPython } from "./helpers/python";

// Each train epoch is one batch holding every sample (in a shuffled order, which
// only changes the order of a float32 sum of six terms): a few ulps of values
// near 1, so 1e-5 absolute leaves a wide margin and still catches an unweighted
// or unsmoothed loss, which differs by more than 1e-2 here (asserted below).
const TOLERANCE = 1e-5;
const EPOCHS = 2;

const set = (n: number, dim: number, offset: number, labels: number[]): FeatureSet => ({
  features: new Float32Array(n * dim).map((_, i) => Math.sin(1.7 * (i + offset))),
  labels,
  dim,
});
const TRAIN = set(6, 4, 0, [0, 1, 2, 2, 1, 0]);
const VAL = set(4, 4, 100, [2, 0, 1, 1]);
const CLASS_WEIGHT = [1, 2, 3];
const SMOOTHING = 0.1;

const PYTHON = `
import json, sys, torch
import torch.nn.functional as F
a = json.loads(sys.argv[1])
out = {}
for reduction in ("mean", "sum"):
    fc = torch.nn.Linear(4, 3)
    with torch.no_grad():
        fc.weight.copy_(torch.tensor(a["weight"]).reshape(3, 4)); fc.bias.copy_(torch.tensor(a["bias"]))
    opt = torch.optim.SGD(fc.parameters(), lr=0.1, momentum=0.9)
    xt, yt = torch.tensor(a["train"]).reshape(-1, 4), torch.tensor(a["trainLabels"])
    xv, yv = torch.tensor(a["val"]).reshape(-1, 4), torch.tensor(a["valLabels"])
    cw = torch.tensor(a["classWeight"], dtype=torch.float32)
    ce = lambda x, y: F.cross_entropy(fc(x), y, weight=cw, label_smoothing=a["smoothing"], reduction=reduction)
    losses, plain = [], []
    for epoch in range(a["epochs"]):
        opt.zero_grad()
        loss = ce(xt, yt)
        plain.append(F.cross_entropy(fc(xt), yt, reduction=reduction).item())
        loss.backward(); opt.step()
        losses.append(loss.item())
        with torch.no_grad():
            losses.append(ce(xv, yv).item())
    out[reduction] = {"losses": losses, "plain": plain, "weight": fc.weight.flatten().tolist(), "bias": fc.bias.tolist()}
print(json.dumps(out))
`;

test.each(["mean", "sum"] as const)("with reduction %s, the probe's train and val losses over two epochs are torch's for a weighted, label-smoothed loss", async (reduction) => {
  tt.manualSeed(11);
  const fc = new tt.nn.Linear(4, 3);
  const sd = fc.stateDict();
  const weight = Array.from((await sd.get("weight")!.data()) as Float32Array);
  const bias = Array.from((await sd.get("bias")!.data()) as Float32Array);
  const expected = JSON.parse(runPython(PYTHON, [JSON.stringify({
    weight, bias, train: Array.from(TRAIN.features), trainLabels: TRAIN.labels, val: Array.from(VAL.features), valLabels: VAL.labels,
    classWeight: CLASS_WEIGHT, smoothing: SMOOTHING, epochs: EPOCHS,
  })]))[reduction];

  const criterion = new tt.nn.CrossEntropyLoss({ weight: tt.tensor(new Float32Array(CLASS_WEIGHT)), labelSmoothing: SMOOTHING, reduction });
  const optimizer = new tt.optim.SGD(fc.parameters(), { lr: 0.1, momentum: 0.9 });
  const { history } = await trainLinearProbe(fc, criterion, optimizer, null, { train: TRAIN, val: VAL }, {
    numEpochs: EPOCHS, batchSize: TRAIN.labels.length, seed: 3,
  });
  // Each val loss is computed with the head the train step before it left, so the losses follow the head's path.
  expect(history.map((r) => r.phase)).toEqual(["train", "val", "train", "val"]);
  history.forEach((r, i) => expect(Math.abs(r.loss - expected.losses[i])).toBeLessThan(TOLERANCE * Math.max(1, Math.abs(expected.losses[i]))));
  expect(Math.abs(history[0].loss - expected.plain[0])).toBeGreaterThan(1e-2);
});

test("the probe rejects a criterion that is not a CrossEntropyLoss, or has reduction none", async () => {
  const fc = new tt.nn.Linear(4, 3);
  const optimizer = new tt.optim.SGD(fc.parameters(), { lr: 0.1 });
  const data = { train: TRAIN, val: VAL };
  await expect(trainLinearProbe(fc, {} as never, optimizer, null, data, { numEpochs: 1, batchSize: 2 })).rejects.toThrow(/Expected CrossEntropyLoss for criterion/);
  await expect(trainLinearProbe(fc, new tt.nn.CrossEntropyLoss({ reduction: "none" }), optimizer, null, data, { numEpochs: 1, batchSize: 2 }))
    .rejects.toThrow(/Expected a criterion with reduction "mean" or "sum" for criterion/);
});
