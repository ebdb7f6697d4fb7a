// Grad-CAM against PyTorch: torchvision's resnet18 with the same weights, a
// forward hook on layer4 keeping its output and that output's gradient of the
// class score, the channel weights their spatial mean, the map the ReLU of the
// weighted sum, and F.interpolate(bilinear, align_corners=False) to the input size.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tt from "../lib";
import { runPython } from "./helpers/python";

const PY = String.raw`
import sys, torch, torchvision
import torch.nn.functional as F
d = sys.argv[1]
torch.set_num_threads(1)
m = torchvision.models.resnet18(num_classes=3)
m.load_state_dict(torch.load(d + "/weights.pth"))
m.eval()
x = torch.load(d + "/input.pth")["input"].double()
m = m.double()
out = {}
for target in (None, 2):
    kept = {}
    def hook(module, inp, output):
        output.retain_grad()
        kept["a"] = output
    h = m.layer4.register_forward_hook(hook)
    logits = m(x)
    h.remove()
    c = int(logits.argmax(1)) if target is None else target
    logits[0, c].backward()
    a = kept["a"]
    w = a.grad.mean(dim=(2, 3))[0]
    cam = F.relu((w[:, None, None] * a[0]).sum(0))
    up = F.interpolate(cam[None, None], size=x.shape[2:], mode="bilinear", align_corners=False)[0, 0]
    name = "pred" if target is None else "t2"
    out[name + "_weights"] = w.float().detach()
    out[name + "_map"] = cam.float().detach()
    out[name + "_up"] = up.float().detach()
    out[name + "_class"] = torch.tensor([c])
    out["logits"] = logits.float().detach()
torch.save(out, d + "/expected.pth")
`;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tt-gradcam-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function values(t: tt.Tensor): Promise<Float32Array> {
  return (await t.data()) as Float32Array;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function maxAbs(a: ArrayLike<number>): number {
  return Math.max(...Array.from(a, Math.abs));
}

test("gives PyTorch's Grad-CAM on resnet18's layer4 (weights, map and upsampled map), for the predicted and a chosen class", async () => {
  tt.manualSeed(7);
  const model = tt.models.resnet18({ numClasses: 3 });
  // One train-mode pass moves the BatchNorm statistics off their initial 0 and 1.
  const warm = tt.tensor(Float32Array.from({ length: 2 * 3 * 64 * 64 }, (_, i) => Math.sin(i * 0.37)), [2, 3, 64, 64]);
  await tt.noGrad(() => model.forward(warm));
  const input = tt.tensor(Float32Array.from({ length: 3 * 96 * 96 }, (_, i) => Math.cos(i * 0.011) + Math.sin(i * 0.7)), [1, 3, 96, 96]);
  await tt.save(model.stateDict(), path.join(dir, "weights.pth"));
  await tt.save({ input }, path.join(dir, "input.pth"));
  runPython(PY, [dir]);
  const expected = await tt.load(path.join(dir, "expected.pth"));
  model.train(); // gradCam runs in eval mode and gives the mode back

  for (const [name, options] of [["pred", {}], ["t2", { targetClass: 2 }]] as const) {
    const cam = await tt.evaluation.gradCam(model, input, options);
    expect(cam.classIndex).toBe(Number((await expected.get(`${name}_class`)!.data())[0]));
    expect([cam.height, cam.width]).toEqual([3, 3]); // 96 / 32
    const weights = await values(expected.get(`${name}_weights`)!);
    const map = await values(expected.get(`${name}_map`)!);
    const up = await values(expected.get(`${name}_up`)!);
    // PyTorch runs in float64 here, we in float32 through 18 layers: relative
    // error of float32 accumulation (~1e-6 per op) over a few hundred terms stays under 1e-4 of the largest value.
    expect(maxAbsDiff(cam.weights, weights)).toBeLessThan(1e-4 * maxAbs(weights));
    expect(maxAbs(map)).toBeGreaterThan(0); // a map that is all zeros would prove nothing
    expect(maxAbsDiff(cam.map, map)).toBeLessThan(1e-4 * maxAbs(map));
    const ours = tt.evaluation.upsampleBilinear(cam.map, cam.height, cam.width, 96, 96);
    expect(maxAbsDiff(ours, up)).toBeLessThan(1e-4 * maxAbs(map));
  }
  expect(maxAbsDiff((await tt.evaluation.gradCam(model, input)).logits, await values(expected.get("logits")!))).toBeLessThan(1e-4);
  expect(model.training).toBe(true);
  // No gradient was left on the model's own weights.
  expect(model.parameters().every((p) => p.grad === null)).toBe(true);
});

test("upsampleBilinear is F.interpolate's bilinear with align_corners=False on a small plane", () => {
  // Worked by hand: 2x2 -> 4x4, source positions -0.25 (clamped to 0), 0.25, 0.75, 1.25 (upper index clamped).
  const up = tt.evaluation.upsampleBilinear(Float32Array.from([0, 4, 8, 12]), 2, 2, 4, 4);
  expect(Array.from(up.slice(0, 4))).toEqual([0, 1, 3, 4]);
  expect(Array.from(up.slice(4, 8))).toEqual([2, 3, 5, 6]);
});

test.each(["mobilenet_v3_small", "convnext_tiny", "efficientnet_b0"])("works on %s's features stage and rejects what is not a registered whole model", async (arch) => {
  tt.manualSeed(1);
  const model = tt.models.getModel(arch, { numClasses: 4 }) as tt.nn.Module;
  const input = tt.tensor(Float32Array.from({ length: 3 * 64 * 64 }, (_, i) => Math.sin(i * 0.05)), [3, 64, 64]);
  const cam = await tt.evaluation.gradCam(model, input, { targetClass: 1 });
  expect(cam.classIndex).toBe(1);
  expect(cam.map.length).toBe(cam.height * cam.width);
  expect(cam.map.every((v) => v >= 0 && Number.isFinite(v))).toBe(true);
  await expect(tt.evaluation.gradCam(new tt.nn.Linear(3, 2), input)).rejects.toThrow(/registered architecture/);
});

test("refuses an architecture without a convolutional stage, naming it", async () => {
  expect(() => tt.models.getFeatureStages("vit_b_16")).toThrow("vit_b_16 has no convolutional stage");
});
