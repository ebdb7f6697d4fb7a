// Transforms: torchvision's parameter draws, sizes, offsets, reprs and argument checks.
import { runPython } from "./helpers/python";
import * as T from "../lib/transforms";
import { RgbImage, pyRound } from "../lib/data/image";
import { Generator, setTransformSeed } from "../lib/random";
import { resizedSize } from "../lib/transforms/resize";
import { centerCropOffsets } from "../lib/transforms/centerCrop";
import { Tensor } from "../lib/tensor";

function image(height: number, width: number, pixel = (y: number, x: number, c: number) => (y * 31 + x * 7 + c * 101) % 256): RgbImage {
  const data = new Uint8Array(height * width * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = pixel(y, x, c);
  return { data, width, height, channels: 3 };
}

describe("Python rounding", () => {
  it("rounds halves to even", () => {
    expect([0.5, 1.5, 2.5, 3.5, -1.5, 2.4, 2.6].map(pyRound)).toEqual([0, 2, 2, 4, -2, 2, 3]);
  });
});

describe("RandomResizedCrop.getParams", () => {
  const scale: [number, number] = [0.08, 1], ratio: [number, number] = [3 / 4, 4 / 3];

  it("draws crops whose area and aspect ratio stay within scale and ratio", () => {
    const g = new Generator(1234);
    const H = 375, W = 500, area = H * W;
    const fractions: number[] = [];
    const bad: object[] = [];
    for (let n = 0; n < 20000; n++) {
      const p = T.RandomResizedCrop.getParams(H, W, scale, ratio, g);
      const { top, left, height: h, width: w } = p;
      // w and h are rounded from real values, so each bound loosens by half a pixel.
      const slack = (w + h + 1) / 2 / area;
      const fraction = (w * h) / area;
      const ok = top >= 0 && left >= 0 && top + h <= H && left + w <= W && h > 0 && w > 0 &&
        fraction >= scale[0] - slack && fraction <= 1 &&
        (w - 0.5) / (h + 0.5) <= ratio[1] && (w + 0.5) / (h - 0.5) >= ratio[0];
      if (!ok) bad.push(p);
      fractions.push(fraction);
    }
    expect(bad).toEqual([]);
    expect(Math.min(...fractions)).toBeLessThan(0.1);
    expect(Math.max(...fractions)).toBeGreaterThan(0.9);
  });

  it("falls back to the centred largest crop within ratio for a 1000x10 image", () => {
    const g = new Generator(7);
    for (let n = 0; n < 100; n++) {
      expect(T.RandomResizedCrop.getParams(10, 1000, scale, ratio, g)).toEqual({ top: 0, left: 493, height: 10, width: 13 });
      expect(T.RandomResizedCrop.getParams(1000, 10, scale, ratio, g)).toEqual({ top: 493, left: 0, height: 13, width: 10 });
    }
  });

  it("repeats exactly with the same seed, and differs with another", () => {
    const draw = (g: Generator) => Array.from({ length: 50 }, () => T.RandomResizedCrop.getParams(375, 500, scale, ratio, g));
    expect(draw(new Generator(42))).toEqual(draw(new Generator(42)));
    expect(draw(new Generator(42))).not.toEqual(draw(new Generator(43)));
  });

  it("repeats through the default generator after setTransformSeed", async () => {
    const crop = new T.RandomResizedCrop(8);
    const run = async () => {
      setTransformSeed(5);
      return Promise.all([0, 1, 2].map(async () => Array.from((await crop.forward(image(40, 60))).data)));
    };
    expect(await run()).toEqual(await run());
  });

  it("outputs size x size", async () => {
    const out = await new T.RandomResizedCrop(224).forward(image(375, 500), new Generator(3));
    expect([out.height, out.width, out.data.length]).toEqual([224, 224, 224 * 224 * 3]);
    const rect = await new T.RandomResizedCrop([20, 30]).forward(image(50, 50), new Generator(3));
    expect([rect.height, rect.width]).toEqual([20, 30]);
  });
});

describe("RandomHorizontalFlip", () => {
  // n Bernoulli(p) draws: the count has sd sqrt(n p (1 - p)); 5 sd makes a false failure
  // about a 1-in-1.7-million event while still catching a rate off by 0.025 or more.
  it.each([0.5, 0.2])("flips at rate p=%p within 5 standard deviations", async (p) => {
    const g = new Generator(99), flip = new T.RandomHorizontalFlip(p);
    const img = image(1, 2, (_y, x) => x);
    const n = 10000;
    let flipped = 0;
    for (let k = 0; k < n; k++) if ((await flip.forward(img, g)).data[0] === 1) flipped++;
    expect(Math.abs(flipped - n * p)).toBeLessThanOrEqual(5 * Math.sqrt(n * p * (1 - p)));
  });

  it("mirrors each row", async () => {
    const out = await new T.RandomHorizontalFlip(1).forward(image(2, 3, (y, x, c) => y * 100 + x * 10 + c));
    expect(Array.from(out.data)).toEqual([20, 21, 22, 10, 11, 12, 0, 1, 2, 120, 121, 122, 110, 111, 112, 100, 101, 102]);
  });
});

describe("Resize and CenterCrop", () => {
  it("sets the short side and truncates the long one", () => {
    expect(resizedSize(375, 500, 256)).toEqual([256, 341]);
    expect(resizedSize(500, 333, 256)).toEqual([384, 256]);
    expect(resizedSize(256, 900, 256)).toEqual([256, 900]);
    expect(resizedSize(10, 20, [7, 9])).toEqual([7, 9]);
  });

  it("leaves an image whose short side is already the size untouched", async () => {
    const img = image(256, 300);
    expect(await new T.Resize(256).forward(img)).toBe(img);
  });

  it("rounds centre offsets half to even", () => {
    expect(centerCropOffsets(225, 225, 224, 224)).toEqual([0, 0]);
    expect(centerCropOffsets(227, 229, 224, 224)).toEqual([2, 2]);
    expect(centerCropOffsets(226, 228, 224, 224)).toEqual([1, 2]);
  });

  it("crops and zero-pads exactly like torchvision", async () => {
    const sizes = [[4, 4], [8, 3], [9, 10], [5, 7], [2, 6], [6, 2]];
    const theirs = JSON.parse(runPython(`
import json, numpy as np
from PIL import Image
from torchvision import transforms
a = (np.arange(5 * 7 * 3).reshape(5, 7, 3) % 251 + 1).astype(np.uint8)
img = Image.fromarray(a)
print(json.dumps([np.asarray(transforms.CenterCrop(s)(img)).tolist() for s in ${JSON.stringify(sizes)}]))
`)) as number[][][][];
    const img = image(5, 7, (y, x, c) => ((y * 7 + x) * 3 + c) % 251 + 1);
    for (let k = 0; k < sizes.length; k++) {
      const out = await new T.CenterCrop(sizes[k]).forward(img);
      expect([out.height, out.width]).toEqual(sizes[k]);
      expect(Array.from(out.data)).toEqual(theirs[k].flat(2));
    }
  });
});

describe("ToTensor, Normalize and Compose", () => {
  it("makes float32 CHW in [0, 1]", async () => {
    const t = await new T.ToTensor().forward(image(2, 3, (y, x, c) => y * 100 + x * 10 + c));
    expect(t.shape).toEqual([3, 2, 3]);
    expect(t.dtype).toBe("float32");
    const v = (await t.data()) as Float32Array;
    expect(v[0]).toBeCloseTo(0, 7);
    expect(v[6]).toBeCloseTo(1 / 255, 7);
    expect(v[5]).toBeCloseTo(120 / 255, 7);
    t.dispose();
  });

  it("normalizes per channel, and the fused pipeline matches the separate steps", async () => {
    const img = image(4, 5);
    const mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225];
    const plain = await new T.ToTensor().forward(img);
    const separate = await new T.Normalize(mean, std).forward(plain);
    const composed = (await new T.Compose([new T.ToTensor(), new T.Normalize(mean, std)]).forward(img)) as Tensor;
    const a = (await separate.data()) as Float32Array, b = (await composed.data()) as Float32Array;
    const x = (await plain.data()) as Float32Array;
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(a[0]).toBeCloseTo((x[0] - mean[0]) / std[0], 5);
    expect(a[20 * 2 + 3]).toBeCloseTo((x[43] - mean[2]) / std[2], 5);
    for (const t of [plain, separate, composed]) t.dispose();
  });

  it("computes Resize then CenterCrop as the two steps do, padding included", async () => {
    const img = image(37, 53);
    for (const [size, crop] of [[20, 16], [25, [12, 30]], [20, 24], [[30, 40], [30, 40]]] as [number | number[], number | number[]][]) {
      const separate = await new T.CenterCrop(crop).forward(await new T.Resize(size).forward(img));
      const composed = (await new T.Compose([new T.Resize(size), new T.CenterCrop(crop)]).forward(img)) as RgbImage;
      expect([composed.height, composed.width]).toEqual([separate.height, separate.width]);
      expect(Buffer.from(composed.data).equals(Buffer.from(separate.data))).toBe(true);
    }
  });

  it("prints like torchvision", () => {
    const tf = new T.Compose([
      new T.RandomResizedCrop(224), new T.RandomHorizontalFlip(), new T.Resize(256), new T.CenterCrop(224),
      new T.ToTensor(), new T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ]);
    expect(String(tf)).toBe([
      "Compose(",
      "    RandomResizedCrop(size=(224, 224), scale=(0.08, 1.0), ratio=(0.75, 1.3333), interpolation=bilinear, antialias=True)",
      "    RandomHorizontalFlip(p=0.5)",
      "    Resize(size=256, interpolation=bilinear, max_size=None, antialias=True)",
      "    CenterCrop(size=(224, 224))",
      "    ToTensor()",
      "    Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])",
      ")",
    ].join("\n"));
  });

  it("rejects bad arguments with plain messages", async () => {
    expect(() => new T.Resize(1.5)).toThrow("Expected positive integer for size but received 1.5 of type number");
    expect(() => new T.CenterCrop(0)).toThrow("Expected positive integer or [height, width] of positive integers for size but received 0 of type number");
    expect(() => new T.RandomHorizontalFlip(2)).toThrow("Expected finite number in [0, 1] for p but received 2 of type number");
    expect(() => new T.RandomResizedCrop(224, { scale: [1, 0.5] })).toThrow("for scale");
    expect(() => new T.Normalize([0.5], [0])).toThrow("division by zero");
    await expect(new T.Resize(10).forward("cat.jpg" as unknown as RgbImage)).rejects.toThrow('Expected RGB image');
  });
});
