// The random augmentations: their draws come from the project's seeded
// generator (same seed, same images; another seed, other images), their
// parameters stay in the ranges torchvision draws from, and MixUp and CutMix
// follow torchvision's references' arithmetic (computed by torch at test time).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tt from "../lib";
import { RgbImage } from "../lib/data/image";
import { Generator } from "../lib/random";
import { runPython } from "./helpers/python";
import { MixedBatches } from "../lib/transforms/augment/mixedBatches";
import { symmetricBeta } from "../lib/transforms/augment/sampling";
import { trainTransform } from "../lib/transforms/augment/presets";

const T = tt.transforms;

function image(height: number, width: number): RgbImage {
  const data = new Uint8Array(height * width * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + (i % 7) * 11 + Math.floor(i / 97)) % 256;
  return { data, width, height, channels: 3 };
}

const SEEDED: [string, () => tt.transforms.Transform<RgbImage, RgbImage>][] = [
  ["ColorJitter", () => new T.ColorJitter({ brightness: 0.4, contrast: 0.4, saturation: 0.4, hue: 0.1 })],
  ["RandomRotation", () => new T.RandomRotation(30, { interpolation: "bilinear" })],
  ["RandomAffine", () => new T.RandomAffine(20, { translate: [0.1, 0.2], scale: [0.8, 1.2], shear: [-10, 10, -5, 5] })],
  ["TrivialAugmentWide", () => new T.TrivialAugmentWide({ interpolation: "bilinear" })],
  ["RandAugment", () => new T.RandAugment({ interpolation: "bilinear" })],
];

describe.each(SEEDED)("%s", (_, make) => {
  it("gives the same images for the same seed and other images for another", async () => {
    const img = image(48, 64);
    const run = async (seed: number) => {
      const g = new Generator(seed), t = make();
      const outs: Uint8Array[] = [];
      for (let i = 0; i < 12; i++) outs.push((await t.forward(img, g)).data);
      return outs;
    };
    const a = await run(7), b = await run(7), c = await run(8);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    // Something happened to at least one image.
    expect(a.some((d) => !Buffer.from(d).equals(Buffer.from(img.data)))).toBe(true);
  });
});

test("a training pipeline with TrivialAugmentWide and RandomErasing repeats for a seed", async () => {
  const img = image(80, 100);
  const run = async (seed: number) => {
    const tf = trainTransform({ augment: "trivialaugment", randomErase: 1 }, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225], 32);
    const g = new Generator(seed);
    const outs: Float32Array[] = [];
    for (let i = 0; i < 6; i++) {
      const t = await tf.forward(img, g);
      outs.push(Float32Array.from((await t.data()) as Float32Array));
      t.dispose();
    }
    return outs;
  };
  const a = await run(3);
  expect(a).toEqual(await run(3));
  expect(a).not.toEqual(await run(4));
  expect(a[0].length).toBe(3 * 32 * 32);
});

test("ColorJitter draws each factor in its range and applies all four in a permutation", () => {
  const g = new Generator(5);
  const seen = new Set<string>();
  for (let i = 0; i < 500; i++) {
    const { order, factors } = T.ColorJitter.getParams([0.6, 1.4], [0.5, 1.5], null, [-0.2, 0.2], g);
    expect([...order].sort()).toEqual([0, 1, 2, 3]);
    seen.add(order.join(""));
    expect(factors[0]!).toBeGreaterThanOrEqual(0.6);
    expect(factors[0]!).toBeLessThan(1.4);
    expect(factors[2]).toBeNull();
    expect(Math.abs(factors[3]!)).toBeLessThanOrEqual(0.2);
  }
  expect(seen.size).toBe(24);
});

test("RandomAffine.getParams draws in torchvision's ranges, translations rounded to integers", () => {
  const g = new Generator(9);
  for (let i = 0; i < 500; i++) {
    const p = T.RandomAffine.getParams([-20, 20], [0.1, 0.2], [0.8, 1.2], [-10, 10, -5, 5], 500, 375, g);
    expect(Math.abs(p.angle)).toBeLessThanOrEqual(20);
    expect(Number.isInteger(p.translate[0]) && Math.abs(p.translate[0]) <= 50).toBe(true);
    expect(Number.isInteger(p.translate[1]) && Math.abs(p.translate[1]) <= 75).toBe(true);
    expect(p.scale).toBeGreaterThanOrEqual(0.8);
    expect(Math.abs(p.shear[1])).toBeLessThanOrEqual(5);
  }
});

test("RandomErasing erases a box of at most a third of the image with p=1 and nothing with p=0", async () => {
  const x = tt.tensor(Float32Array.from({ length: 3 * 40 * 50 }, (_, i) => 1 + (i % 13)), [3, 40, 50]);
  const g = new Generator(11);
  for (let i = 0; i < 20; i++) {
    const out = await new T.RandomErasing({ p: 1 }).forward(x, g);
    const v = (await out.data()) as Float32Array;
    const zeros = v.filter((e) => e === 0).length / 3;
    expect(zeros).toBeGreaterThan(0);
    expect(zeros).toBeLessThanOrEqual(Math.ceil(0.33 * 40 * 50) + 50);
    out.dispose();
  }
  expect(await new T.RandomErasing({ p: 0 }).forward(x, g)).toBe(x);
  x.dispose();
});

test("Beta(alpha, alpha) draws have mean 1/2 and the variance 1 / (4 (2 alpha + 1))", () => {
  for (const alpha of [0.2, 1.0, 2.0]) {
    const g = new Generator(13);
    const xs = Array.from({ length: 20000 }, () => symmetricBeta(alpha, g));
    const mean = xs.reduce((a, b) => a + b) / xs.length;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
    // 20000 draws: the standard error of the mean is under 0.004, of the variance under 0.003.
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
    expect(Math.abs(variance - 1 / (4 * (2 * alpha + 1)))).toBeLessThan(0.01);
    expect(xs.every((x) => x >= 0 && x <= 1)).toBe(true);
  }
});

describe("MixUp and CutMix against torchvision's references", () => {
  let dir: string;
  // The body of references/classification/transforms.py's RandomMixup and
  // RandomCutmix forward (torchvision 0.14), with lambda and the box centre given.
  const PYTHON = `
import sys, os, json, math, numpy as np, torch
out = sys.argv[1]; lam = float(sys.argv[2]); rx, ry = int(sys.argv[3]), int(sys.argv[4])
torch.manual_seed(0)
batch = torch.randn(4, 3, 10, 14); target = torch.tensor([0, 2, 1, 2])
batch.numpy().tofile(os.path.join(out, "batch"))
def mixup(batch, target):
    batch = batch.clone(); target = torch.nn.functional.one_hot(target.clone(), num_classes=3).to(dtype=batch.dtype)
    batch_rolled = batch.roll(1, 0); target_rolled = target.roll(1, 0)
    batch_rolled.mul_(1.0 - lam); batch.mul_(lam).add_(batch_rolled)
    target_rolled.mul_(1.0 - lam); target.mul_(lam).add_(target_rolled)
    return batch, target
def cutmix(batch, target):
    batch = batch.clone(); target = torch.nn.functional.one_hot(target.clone(), num_classes=3).to(dtype=batch.dtype)
    batch_rolled = batch.roll(1, 0); target_rolled = target.roll(1, 0)
    H, W = batch.shape[-2:]
    r = 0.5 * math.sqrt(1.0 - lam)
    r_w_half = int(r * W); r_h_half = int(r * H)
    x1 = int(torch.clamp(torch.tensor([rx]) - r_w_half, min=0)); y1 = int(torch.clamp(torch.tensor([ry]) - r_h_half, min=0))
    x2 = int(torch.clamp(torch.tensor([rx]) + r_w_half, max=W)); y2 = int(torch.clamp(torch.tensor([ry]) + r_h_half, max=H))
    batch[:, :, y1:y2, x1:x2] = batch_rolled[:, :, y1:y2, x1:x2]
    l = float(1.0 - (x2 - x1) * (y2 - y1) / (W * H))
    target_rolled.mul_(1.0 - l); target.mul_(l).add_(target_rolled)
    return batch, target
for name, fn in (("mixup", mixup), ("cutmix", cutmix)):
    b, t = fn(batch, target)
    b.numpy().tofile(os.path.join(out, name + ".batch")); t.numpy().tofile(os.path.join(out, name + ".target"))
`;
  const LAMBDA = 0.3137, RX = 11, RY = 2;
  const read = (name: string) => {
    const bytes = fs.readFileSync(path.join(dir, name));
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  };
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "tt-mix-"));
    runPython(PYTHON, [dir, String(LAMBDA), String(RX), String(RY)]);
  }, 120_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const labels = () => tt.tensor(BigInt64Array.from([0n, 2n, 1n, 2n]), [4]);
  const oneHot = () => Float32Array.from([1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1]);

  it("MixUp, for a given lambda, gives the references' batch and soft targets exactly", async () => {
    const [b, t] = new T.MixUp({ numClasses: 3 }).mix(read("batch"), oneHot(), [4, 3, 10, 14], LAMBDA);
    expect(Array.from((await b.data()) as Float32Array)).toEqual(Array.from(read("mixup.batch")));
    expect(Array.from((await t.data()) as Float32Array)).toEqual(Array.from(read("mixup.target")));
  });

  it("CutMix, for a given lambda and box centre, gives the references' batch and soft targets exactly", async () => {
    const [b, t] = new T.CutMix({ numClasses: 3 }).mixAt(read("batch"), oneHot(), [4, 3, 10, 14], LAMBDA, RX, RY);
    expect(Array.from((await b.data()) as Float32Array)).toEqual(Array.from(read("cutmix.batch")));
    expect(Array.from((await t.data()) as Float32Array)).toEqual(Array.from(read("cutmix.target")));
  });

  it("forward() repeats for a seed, keeps each target row a distribution, and with p=0 gives one-hot targets", async () => {
    const batch = tt.tensor(read("batch"), [4, 3, 10, 14]);
    const run = async (seed: number, t: tt.transforms.BatchTransform) => {
      const [b, y] = await t.forward(batch, labels(), new Generator(seed));
      return [Array.from((await b.data()) as Float32Array), Array.from((await y.data()) as Float32Array)];
    };
    const choice = new T.RandomChoiceBatch([new T.MixUp({ numClasses: 3, p: 1 }), new T.CutMix({ numClasses: 3, p: 1 })]);
    const a = await run(21, choice);
    expect(a).toEqual(await run(21, choice));
    expect(a).not.toEqual(await run(22, choice));
    for (let i = 0; i < 4; i++) expect(a[1].slice(i * 3, i * 3 + 3).reduce((s, v) => s + v)).toBeCloseTo(1, 6);
    const [, y] = await run(1, new T.MixUp({ numClasses: 3, p: 0 }));
    expect(y).toEqual(Array.from(oneHot()));
  });

  it("rejects a label outside numClasses and a batch that is not [N, C, H, W], naming them", async () => {
    const batch = tt.tensor(read("batch"), [4, 3, 10, 14]);
    await expect(new T.MixUp({ numClasses: 2 }).forward(batch, labels())).rejects.toThrow(/Target 2 is outside \[0, 1\]/);
    await expect(new T.CutMix({ numClasses: 3 }).forward(tt.tensor(new Float32Array(12), [4, 3]), labels())).rejects.toThrow(/Batch ndim should be 4. Got 2/);
    expect(() => new T.MixUp({ numClasses: 3, alpha: 0 })).toThrow(/positive number for alpha/);
  });

  it("MixedBatches mixes each epoch from a generator of the seed and the epoch alone", () => {
    const a = MixedBatches.generatorFor(5, 3).getState(), b = MixedBatches.generatorFor(5, 3).getState();
    expect(a).toEqual(b);
    expect(a).not.toEqual(MixedBatches.generatorFor(5, 2).getState());
  });
});
