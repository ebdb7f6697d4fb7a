// lrFind against fastai's algorithm written out in Python with torch (fastai
// itself is not installed): the same exponential schedule, SGD steps on the
// same batches from the same weights, AvgSmoothLoss(0.98), the stop at 4x the
// best smoothed loss, and the valley and steep suggestions over lrs[10:-5];
// then the weights and the optimizer state are as they were before.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tt from "../lib";
import { steep, valley } from "../lib/train/lrFind";
import { runCli, subset } from "./helpers/cli";
import { runPython } from "./helpers/python";

const PY = String.raw`
import json, sys, torch
d = sys.argv[1]
torch.set_num_threads(1)
sd = torch.load(d + "/weights.pth")
data = torch.load(d + "/batches.pth")
m = torch.nn.Linear(6, 3)
m.load_state_dict(sd)
opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
num_it, start, end, beta = 100, 1e-7, 10.0, 0.98
lrs, losses = [], []
val, best, it = torch.tensor(0.), float("inf"), 0
done = False
while not done:
    for b in range(4):
        x, y = data["x%d" % b], data["y%d" % b]
        lr = start * (end / start) ** (it / num_it)
        for g in opt.param_groups: g["lr"] = lr
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(m(x), y)
        loss.backward()
        opt.step()
        it += 1
        val = torch.lerp(loss.detach().double(), val.double(), beta)
        smooth = float(val / (1 - beta ** it))
        lrs.append(lr); losses.append(smooth)
        best = min(best, smooth)
        if smooth > 4 * best or it >= num_it:
            done = True
            break

def valley(losses):
    n = len(losses); max_start, max_end = 0, 0; lds = [1] * n
    for i in range(1, n):
        for j in range(0, i):
            if losses[i] < losses[j] and lds[i] < lds[j] + 1: lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i; max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    return max_start + int(sections) + int(sections / 2)

x, y = torch.tensor(lrs[num_it // 10:-5], dtype=torch.float64), torch.tensor(losses[num_it // 10:-5], dtype=torch.float64)
grads = (y[1:] - y[:-1]) / (x[1:].log() - x[:-1].log())
print(json.dumps({"lrs": lrs, "losses": losses, "valley": float(x[valley(y.tolist())]), "steep": float(x[int(grads.argmin())])}))
`;

let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "tt-lrfind-"))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function batches() {
  const out: [Float32Array, BigInt64Array][] = [];
  for (let b = 0; b < 4; b++) {
    out.push([Float32Array.from({ length: 8 * 6 }, (_, i) => Math.sin(b * 17 + i * 0.9) * 20), BigInt64Array.from({ length: 8 }, (_, i) => BigInt((i * 7 + b) % 3))]);
  }
  return out;
}

test("follows fastai's lr_find: schedule, smoothed losses, the stop at 4x the minimum, valley and steep; then restores weights and optimizer", async () => {
  tt.manualSeed(5);
  const model = new tt.nn.Linear(6, 3);
  const optimizer = new tt.optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  await tt.save(model.stateDict(), path.join(dir, "weights.pth"));
  const data = batches();
  await tt.save(Object.fromEntries(data.flatMap(([x, y], b) => [[`x${b}`, tt.tensor(x, [8, 6])], [`y${b}`, tt.tensor(y)]])), path.join(dir, "batches.pth"));
  const expected = JSON.parse(runPython(PY, [dir]));
  const before = await Promise.all(model.parameters().map(async (p) => Array.from((await p.data()) as Float32Array)));

  const loader = { length: 4, async *[Symbol.asyncIterator]() { for (const [x, y] of data) yield [tt.tensor(x, [8, 6]), tt.tensor(y)] as [tt.Tensor, tt.Tensor]; } };
  const result = await tt.lrFind(model, new tt.nn.CrossEntropyLoss(), optimizer, loader, { device: "cpu" });

  // The range reached divergence before 100 batches, so the stop rule was exercised.
  expect(expected.lrs.length).toBeLessThan(100);
  expect(result.lrs.length).toBe(expected.lrs.length);
  result.lrs.forEach((lr, i) => expect(lr).toBeCloseTo(expected.lrs[i], 15));
  // float32 training against float32 PyTorch: the smoothed losses agree to float32's
  // precision (1e-5 relative) until divergence amplifies rounding; the last 5 are not compared (fastai drops them too).
  result.losses.slice(0, -5).forEach((l, i) => expect(Math.abs(l - expected.losses[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(expected.losses[i]))));
  expect(result.suggestion).toEqual({ valley: expected.valley, steep: expected.steep });

  const after = await Promise.all(model.parameters().map(async (p) => Array.from((await p.data()) as Float32Array)));
  expect(after).toEqual(before);
  expect(optimizer.paramGroups[0].lr).toBe(0.1);
  expect(optimizer.stateDict().state).toEqual({}); // no momentum left behind, as fastai's test asks
});

test("valley and steep on a worked example", () => {
  // The longest decreasing sequence ends at index 8 with length 9; fastai takes
  // maxStart = 8 - 9 = -1, sections = 9 / 3 = 3, and -1 + int(3) + int(1.5) = 3.
  const losses = [3, 2.9, 2.6, 2.4, 2, 1.2, 1.1, 1.05, 1.0, 3];
  expect(valley(losses)).toBe(3);
  const lrs = losses.map((_, i) => 10 ** (i - 5));
  expect(steep(lrs, losses)).toBe(4); // 2 -> 1.2 is the steepest fall per decade
});

test("npm run lr-find writes the plot and the record, prints the valley suggestion, and leaves no model behind", () => {
  const data = subset(path.join(dir, "data"), 2);
  const out = path.join(dir, "out");
  const r = runCli("lrFind", ["--data", data, "--weights", "none", "--batch-size", "2", "--num-it", "12", "--out", out, "--workers", "2", "--device", "cpu", "--json"]);
  expect(r.stderr).toBe("");
  expect(r.status === 0 ? 0 : `exit status ${r.status}, stderr: ${r.stderr}`).toBe(0);  // a failure shows its stderr
  const line = JSON.parse(r.stdout.trim());
  const saved = JSON.parse(fs.readFileSync(path.join(out, "lr_find.json"), "utf8"));
  expect(line.suggestion).toEqual(saved.suggestion);
  expect(saved.lrs.length).toBe(line.steps);
  saved.lrs.forEach((lr: number, i: number) => expect(lr).toBeCloseTo(1e-7 * (10 / 1e-7) ** (i / 12), 15));
  expect(saved.lrs.length === 12 || saved.losses[saved.losses.length - 1] > 4 * Math.min(...saved.losses)).toBe(true);
  for (const f of ["lr_find.svg", "lr_find.png"]) expect(fs.statSync(path.join(out, f)).size).toBeGreaterThan(0);
  expect(fs.readdirSync(out).sort()).toEqual(["lr_find.json", "lr_find.png", "lr_find.svg"]);
});
