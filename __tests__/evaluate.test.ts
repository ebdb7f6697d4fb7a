// npm run evaluate and predict --tta, against torchvision's resnet18 on the
// same weights and the same input tensors: the probabilities (plain and the
// mean over the image and its horizontal flip), then the confusion matrix and
// each class's precision, recall and F1 worked out by hand in Python.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tt from "../lib";
import { modelMetadata, RunSettings } from "../lib/train/checkpoint";
import { dataTransforms } from "../lib/train/tutorial";
import { runCli, subset } from "./helpers/cli";
import { runPython } from "./helpers/python";

const PY = String.raw`
import json, sys, torch, torchvision
d = sys.argv[1]
torch.set_num_threads(1)
m = torchvision.models.resnet18(num_classes=2)
m.load_state_dict(torch.load(d + "/weights.pth"))
m.eval()
x = torch.load(d + "/inputs.pth")["x"]
labels = [int(v) for v in json.load(open(d + "/labels.json"))]
with torch.no_grad():
    plain = torch.softmax(m(x), 1)
    tta = (plain + torch.softmax(m(x.flip(-1)), 1)) / 2
out = {}
for name, p in (("plain", plain), ("tta", tta)):
    pred = [int(v) for v in p.argmax(1)]
    counts = [[0, 0], [0, 0]]
    for a, b in zip(labels, pred):
        counts[a][b] += 1
    classes = []
    for c in range(2):
        tp = counts[c][c]
        support = counts[c][0] + counts[c][1]
        predicted = counts[0][c] + counts[1][c]
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        classes.append({"precision": precision, "recall": recall, "f1": f1, "support": support})
    out[name] = {"probabilities": p.tolist(), "predicted": pred, "confusion": counts, "classes": classes,
                 "accuracy": sum(counts[c][c] for c in range(2)) / len(labels),
                 "losses": [-float(torch.log(p[i, labels[i]])) for i in range(len(labels))]}
print(json.dumps(out))
`;

let tmp: string;
let data: string;
let modelFile: string;
let files: string[];
let labels: number[];
let expected: Record<"plain" | "tta", { probabilities: number[][]; predicted: number[]; confusion: number[][]; accuracy: number; losses: number[]; classes: { precision: number; recall: number; f1: number; support: number }[] }>;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tt-evaluate-"));
  data = subset(path.join(tmp, "data"), 6);
  const val = new tt.datasets.ImageFolder(path.join(data, "val"), { transform: dataTransforms.val() });
  files = val.samples.map(([f]) => f);
  labels = val.samples.map(([, l]) => l);
  const inputs: tt.Tensor[] = [];
  for (let i = 0; i < val.length; i++) inputs.push((await val.get(i))[0]);
  const x = tt.stack(inputs);
  tt.manualSeed(11);
  const model = tt.models.resnet18({ numClasses: 2 });
  model.eval();
  // Random weights call nearly every image one class; a bias at the median
  // logit gap splits the predictions, so that both classes' figures mean something.
  const logits = (await (await tt.noGrad(() => model.forward(x))).data()) as Float32Array;
  const gaps = labels.map((_, i) => logits[2 * i + 1] - logits[2 * i]).sort((a, b) => a - b);
  model.stateDict().get("fc.bias")!.copy_(tt.tensor(Float32Array.from([0, -(gaps[5] + gaps[6]) / 2])));
  const settings = { mode: "finetune", arch: "resnet18" } as RunSettings;
  modelFile = path.join(tmp, "model.safetensors");
  await tt.save(model.stateDict(), modelFile, modelMetadata({ classes: ["ants", "bees"], settings }));
  await tt.save(model.stateDict(), path.join(tmp, "weights.pth"));
  await tt.save({ x }, path.join(tmp, "inputs.pth"));
  fs.writeFileSync(path.join(tmp, "labels.json"), JSON.stringify(labels));
  expected = JSON.parse(runPython(PY, [tmp]));
}, 300_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// float32 through ResNet-18 against PyTorch's float32 on another BLAS path:
// the resnet tests hold logits to 1e-4; softmax of logits that close stays within it.
const PROB_TOLERANCE = 1e-4;

describe.each(["plain", "tta"] as const)("evaluate (%s)", (kind) => {
  test("gives torchvision's accuracy, confusion matrix and per-class precision, recall and F1, and writes the report", () => {
    const out = path.join(tmp, `report-${kind}`);
    const r = runCli("evaluate", ["--model", modelFile, "--data", data, "--out", out, "--json", "--workers", "2", "--grad-cam", "2", ...(kind === "tta" ? ["--tta"] : [])]);
    expect(r.stderr).toBe("");
    expect(r.status === 0 ? 0 : `exit status ${r.status}, stderr: ${r.stderr}`).toBe(0);  // a failure shows its stderr
    const got = JSON.parse(r.stdout.trim());
    const want = expected[kind];
    expect(new Set(want.predicted).size).toBe(2); // both classes predicted: no figure is a 0/0
    expect(got.confusion).toEqual(want.confusion);
    expect(got.accuracy).toBeCloseTo(want.accuracy, 12);
    got.classes.forEach((c: { name: string; precision: number; recall: number; f1: number; support: number }, i: number) => {
      expect(c.name).toBe(["ants", "bees"][i]);
      expect(c.support).toBe(want.classes[i].support);
      for (const key of ["precision", "recall", "f1"] as const) expect(c[key]).toBeCloseTo(want.classes[i][key], 12);
    });
    const metrics = JSON.parse(fs.readFileSync(path.join(out, "metrics.json"), "utf8"));
    expect(metrics.tta).toBe(kind === "tta");
    // The top losses: the highest -log p(true class), highest first, with PyTorch's probabilities.
    const order = want.losses.map((l, i) => [l, i] as const).sort((a, b) => b[0] - a[0]).slice(0, 9);
    expect(metrics.topLosses.map((t: { file: string }) => t.file)).toEqual(order.map(([, i]) => files[i]));
    metrics.topLosses.forEach((t: { loss: number; probabilities: number[] }, j: number) => {
      const i = order[j][1];
      t.probabilities.forEach((p, c) => expect(Math.abs(p - want.probabilities[i][c])).toBeLessThan(PROB_TOLERANCE));
    });
    for (const f of ["report.html", "confusion.svg", "confusion.png", "top_losses.png", "grad_cam.png"]) expect(fs.statSync(path.join(out, f)).size).toBeGreaterThan(0);
    const html = fs.readFileSync(path.join(out, "report.html"), "utf8");
    for (const id of ["per-class", "confusion", "top-losses", "grad-cam"]) expect(html).toContain(`id="${id}"`);
    expect(html).toContain(`accuracy ${want.accuracy.toFixed(4)}`);
  });
});

test("predict --tta gives the mean of torchvision's softmax over each image and its horizontal flip", () => {
  for (const kind of ["plain", "tta"] as const) {
    const r = runCli("predict", ["--model", modelFile, "--json", "--topk", "2", ...(kind === "tta" ? ["--tta"] : []), ...files]);
    expect(r.status === 0 ? 0 : `exit status ${r.status}, stderr: ${r.stderr}`).toBe(0);  // a failure shows its stderr
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    lines.forEach((line, i) => {
      expect(line.image).toBe(files[i]);
      for (const { label, probability } of line.topk) {
        expect(Math.abs(probability - expected[kind].probabilities[i][label === "ants" ? 0 : 1])).toBeLessThan(PROB_TOLERANCE);
      }
    });
  }
  // TTA changes something, or the test above could not tell the two apart.
  expect(expected.tta.probabilities.some((p, i) => Math.abs(p[0] - expected.plain.probabilities[i][0]) > 1e-3)).toBe(true);
});

test("evaluate refuses a folder whose classes differ from the model's, and a missing --model, as usage errors", () => {
  const other = subset(path.join(tmp, "other"), 1, ["ants"]);
  const r = runCli("evaluate", ["--model", modelFile, "--data", other, "--out", path.join(tmp, "x")]);
  expect(r.status).toBe(2);
  expect(r.stderr).toContain(`has classes [ants] but ${modelFile} was trained on [ants, bees]`);
  const none = runCli("evaluate", ["--data", data]);
  expect(none.status).toBe(2);
  expect(none.stderr).toContain("--model is required");
});
