// Pictures: make_grid against torchvision, saveImage, visualizeModel, showBatch, charts.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import sharp from "sharp";
import * as tt from "../lib";
import { isGradEnabled } from "../lib/grad";
import { confusionMatrix, curvesSvg, makeGrid, MakeGridOptions, saveImage, showBatch, visualizeModel } from "../lib/viz";
import { runPython } from "./helpers/python";

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tt-viz-"));
});
afterAll(() => { if (!process.env.KEEP_VIZ) fs.rmSync(dir, { recursive: true, force: true }); });

/** Deterministic values in about [-2, 2], different for every element. */
function values(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin(i * 0.37 + seed) * 1.5 + Math.cos(i * 0.011 * seed) * 0.5;
  return out;
}

async function decode(file: string) {
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

type Img = Awaited<ReturnType<typeof decode>>;

/** Pixel statistics of a rectangle of a decoded image. */
function region(img: Img, left: number, top: number, width: number, height: number) {
  let sum = 0, sq = 0, n = 0, red = 0;
  for (let y = top; y < top + height; y++) {
    for (let x = left; x < left + width; x++) {
      const i = (y * img.width + x) * img.channels;
      const [r, g, b] = [img.data[i], img.data[i + 1], img.data[i + 2]];
      if (r > 150 && g < 110 && b < 110) red++;
      for (const v of [r, g, b]) { sum += v; sq += v * v; n++; }
    }
  }
  const mean = sum / n;
  return { mean, variance: sq / n - mean * mean, red };
}

describe("makeGrid", () => {
  const CASES: { shape: number[]; options: MakeGridOptions }[] = [
    { shape: [5, 3, 4, 6], options: { nrow: 2 } },
    { shape: [6, 3, 5, 5], options: { nrow: 3, padding: 0 } },
    { shape: [8, 3, 3, 4], options: {} },
    { shape: [3, 3, 4, 4], options: { nrow: 8, padding: 1, padValue: 0.5 } },
    { shape: [7, 3, 4, 5], options: { nrow: 3, normalize: true } },
    { shape: [4, 3, 4, 4], options: { nrow: 3, padding: 3, normalize: true, valueRange: [-0.5, 0.5] } },
    { shape: [5, 3, 4, 4], options: { nrow: 2, normalize: true, scaleEach: true } },
    { shape: [5, 1, 4, 3], options: { nrow: 4 } },
    { shape: [1, 3, 4, 4], options: { padding: 2 } },
    { shape: [1, 4, 5], options: {} },
  ];

  let expected: { shape: number[]; file: string }[];
  beforeAll(() => {
    const cases = CASES.map((c, i) => {
      const input = path.join(dir, `grid-in-${i}.f32`);
      fs.writeFileSync(input, values(c.shape.reduce((a, b) => a * b, 1), i + 1));
      return { ...c, input, output: path.join(dir, `grid-out-${i}.f32`) };
    });
    const out = runPython(
      `
import json, sys, numpy as np, torch
from torchvision.utils import make_grid
cases = json.load(open(sys.argv[1]))
shapes = []
for c in cases:
    t = torch.from_numpy(np.fromfile(c["input"], dtype=np.float32).reshape(c["shape"]))
    o = c["options"]
    kw = dict(nrow=o.get("nrow", 8), padding=o.get("padding", 2), normalize=o.get("normalize", False),
              scale_each=o.get("scaleEach", False), pad_value=o.get("padValue", 0.0))
    if "valueRange" in o:
        kw["value_range"] = tuple(o["valueRange"])
    g = make_grid(t, **kw).contiguous()
    g.numpy().astype(np.float32).tofile(c["output"])
    shapes.append(list(g.shape))
print(json.dumps(shapes))
`,
      [writeJson("grid-cases.json", cases)],
    );
    const shapes: number[][] = JSON.parse(out.trim().split("\n").pop() as string);
    expected = cases.map((c, i) => ({ shape: shapes[i], file: c.output }));
  });

  test.each(CASES.map((c, i) => [i, c.shape.join("x"), JSON.stringify(c.options)] as const))(
    "case %i: shape %s with %s matches torchvision's make_grid",
    async (i) => {
      const { shape, options } = CASES[i];
      const input = tt.tensor(values(shape.reduce((a, b) => a * b, 1), i + 1), shape);
      const grid = await makeGrid(input, options);
      expect(grid.shape).toEqual(expected[i].shape);
      expect(grid.dtype).toBe("float32");
      const want = new Float32Array(Uint8Array.from(fs.readFileSync(expected[i].file)).buffer);
      const got = (await grid.data()) as Float32Array;
      expect(got.length).toBe(want.length);
      let maxDiff = 0;
      for (let k = 0; k < want.length; k++) maxDiff = Math.max(maxDiff, Math.abs(got[k] - want[k]));
      expect(maxDiff).toBeLessThanOrEqual(1e-6);
      input.dispose();
      grid.dispose();
    },
  );

  test("lays out xmaps = min(nrow, B) columns and ceil(B / xmaps) rows", async () => {
    const grid = await makeGrid(tt.tensor(new Float32Array(5 * 3 * 10 * 20), [5, 3, 10, 20]), { nrow: 3, padding: 2 });
    expect(grid.shape).toEqual([3, 2 * 12 + 2, 3 * 22 + 2]);
  });

  test("rejects bad arguments with plain messages", async () => {
    const t = tt.tensor(new Float32Array(2 * 3 * 2 * 2), [2, 3, 2, 2]);
    await expect(makeGrid(t, { nrow: 1.5 })).rejects.toThrow("Expected positive integer for nrow but received 1.5 of type number");
    await expect(makeGrid(t, { padding: -1 })).rejects.toThrow("Expected non-negative integer for padding but received -1 of type number");
    await expect(makeGrid(t, { valueRange: [0] as unknown as [number, number] })).rejects.toThrow("valueRange");
    await expect(makeGrid("x" as unknown as tt.Tensor)).rejects.toThrow('Expected Tensor for tensor but received "x" of type string');
    await expect(makeGrid(tt.tensor(new Int32Array(4), [1, 1, 2, 2]))).rejects.toThrow("floating-point Tensor");
    await expect(makeGrid(tt.tensor(new Float32Array(16), [1, 1, 1, 4, 4]))).rejects.toThrow("2-D, 3-D or 4-D");
  });
});

function writeJson(name: string, value: unknown): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(value));
  return file;
}

describe("saveImage", () => {
  test("writes [3, H, W] values in [0, 1] as round(x * 255)", async () => {
    const [h, w] = [3, 4];
    const data = new Float32Array(3 * h * w);
    for (let i = 0; i < data.length; i++) data[i] = (i % 7) / 6 - 0.1; // some below 0 and above 1 after the shift
    data[5] = 1.3;
    const file = path.join(dir, "plain.png");
    await saveImage(tt.tensor(data, [3, h, w]), file);
    const img = await decode(file);
    expect([img.width, img.height, img.channels]).toEqual([w, h, 3]);
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < h * w; p++) {
        const v = Math.min(1, Math.max(0, data[c * h * w + p]));
        expect(img.data[p * 3 + c]).toBe(Math.round(v * 255));
      }
    }
    expect(fs.readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  test("un-normalizes with ImageNet's mean and std, and grids a batch", async () => {
    const mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225];
    const data = values(4 * 3 * 5 * 6);
    const file = path.join(dir, "batch.png");
    const r = await saveImage(tt.tensor(data, [4, 3, 5, 6]), file, { unnormalize: "imagenet", nrow: 2, padding: 1 });
    const img = await decode(file);
    expect([img.width, img.height]).toEqual([2 * 7 + 1, 2 * 6 + 1]);
    expect([r.width, r.height]).toEqual([15, 13]);
    // Padding is 0 before un-normalizing, so it shows the mean colour, as the tutorial's imshow does.
    expect(Array.from(img.data.subarray(0, 3))).toEqual(mean.map((m) => Math.round(m * 255)));
    // Image 3 (second row, second column), pixel (y=2, x=4), channel 1.
    const [k, y, x, c] = [3, 2, 4, 1];
    const v = data[((k * 3 + c) * 5 + y) * 6 + x] * std[c] + mean[c];
    const gx = 1 + 7 + x, gy = 1 + 6 + y;
    expect(img.data[(gy * img.width + gx) * 3 + c]).toBe(Math.round(Math.min(1, Math.max(0, v)) * 255));
  });

  test("rejects a wrong shape or unnormalize", async () => {
    await expect(saveImage(tt.tensor(new Float32Array(8), [2, 2, 2]), path.join(dir, "x.png"))).rejects.toThrow("[3, H, W] or [B, 3, H, W]");
    await expect(
      saveImage(tt.tensor(new Float32Array(12), [3, 2, 2]), path.join(dir, "x.png"), { unnormalize: { mean: [0], std: [1] } }),
    ).rejects.toThrow('Expected "imagenet" or { mean, std } with three numbers each for unnormalize');
  });
});

/** A classifier whose answer we control: class 1 when an image's first value is positive, else class 0. */
function signModel(options: { failOnCall?: number } = {}) {
  const seen = { calls: 0, trainingDuringForward: [] as boolean[], gradDuringForward: [] as boolean[] };
  let training = true;
  const model = {
    get training() {
      return training;
    },
    train(mode = true) {
      training = mode;
      return model;
    },
    eval() {
      return model.train(false);
    },
    async forward(x: tt.Tensor): Promise<tt.Tensor> {
      seen.calls++;
      seen.trainingDuringForward.push(training);
      seen.gradDuringForward.push(isGradEnabled());
      if (options.failOnCall === seen.calls) throw new Error("forward failed on purpose");
      const [b, c, h, w] = x.shape;
      const data = (await x.data()) as Float32Array;
      const logits = new Float32Array(b * 2);
      for (let i = 0; i < b; i++) logits[i * 2 + (data[i * c * h * w] > 0 ? 1 : 0)] = 1;
      return tt.tensor(logits, [b, 2]);
    },
  };
  return { model, seen };
}

/** Batches of images with a bright or dark pattern; `signs` sets each image's predicted class, `labels` its truth. */
function batches(signs: number[][], labels: number[][], size = 32) {
  // `images` keeps each yielded image's [3, size, size] values, in order, to check the picture against.
  const state = { yielded: 0, finished: false, images: [] as Float32Array[] };
  const source = {
    async *[Symbol.asyncIterator](): AsyncGenerator<[tt.Tensor, tt.Tensor]> {
      try {
        for (let b = 0; b < signs.length; b++) {
          const n = signs[b].length;
          const data = new Float32Array(n * 3 * size * size);
          for (let i = 0; i < n; i++) {
            for (let k = 0; k < 3 * size * size; k++) data[i * 3 * size * size + k] = Math.sin(k * 0.05 + i) * 1.2;
            data[i * 3 * size * size] = signs[b][i] ? 1 : -1;
          }
          state.yielded++;
          for (let i = 0; i < n; i++) state.images.push(data.slice(i * 3 * size * size, (i + 1) * 3 * size * size));
          yield [tt.tensor(data, [n, 3, size, size]), tt.tensor(BigInt64Array.from(labels[b], BigInt), [n])];
        }
      } finally {
        state.finished = true;
      }
    },
  };
  return { source, state };
}

/**
 * How many pixels of `rect` in the picture differ from the image's own values,
 * un-normalized with ImageNet's mean and std as the tutorial's imshow does.
 */
function pixelsDiffering(img: Img, rect: { left: number; top: number; width: number; height: number }, chw: Float32Array): number {
  const mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225];
  const plane = rect.width * rect.height;
  expect(chw.length).toBe(3 * plane);
  let differing = 0;
  for (let y = 0; y < rect.height; y++) {
    for (let x = 0; x < rect.width; x++) {
      const at = ((rect.top + y) * img.width + rect.left + x) * img.channels;
      for (let c = 0; c < 3; c++) {
        const v = chw[c * plane + y * rect.width + x] * std[c] + mean[c];
        if (img.data[at + c] !== Math.round(Math.min(1, Math.max(0, v)) * 255)) differing++;
      }
    }
  }
  return differing;
}

describe("visualizeModel", () => {
  test("titles each image with its prediction, marks the wrong one, restores train mode", async () => {
    const { model, seen } = signModel();
    // Predictions: [1, 0, 1] [0, 1, 0] [1, ...]; labels make image 1 (pred 0, true 1) and image 4 (pred 1, true 0) wrong.
    const { source, state } = batches([[1, 0, 1], [0, 1, 0], [1, 1, 1]], [[1, 1, 1], [0, 0, 0], [1, 1, 1]], 64);
    const out = path.join(dir, "predictions.png");
    const r = await visualizeModel(model as unknown as tt.nn.Module, source, { numImages: 5, out, classNames: ["ants", "bees"], device: "cpu" });

    expect(r.predictions.map((p) => p.title)).toEqual([
      "predicted: bees",
      "predicted: ants (true: bees)",
      "predicted: bees",
      "predicted: ants",
      "predicted: bees (true: ants)",
    ]);
    expect(r.predictions.map((p) => p.correct)).toEqual([true, false, true, true, false]);
    expect(r.overlay).toContain("predicted: ants");
    expect(r.overlay).toContain("(true: bees)");
    // Eval mode and no gradients during the forward passes; train mode back afterwards.
    expect(seen.trainingDuringForward).toEqual([false, false]);
    expect(seen.gradDuringForward).toEqual([false, false]);
    expect(model.training).toBe(true);
    // It stopped after the batches it needed, and closed the loader.
    expect(state.yielded).toBe(2);
    expect(state.finished).toBe(true);

    const img = await decode(out);
    expect([img.width, img.height, img.channels]).toEqual([r.width, r.height, 3]);
    expect(r.layout).toHaveLength(5);
    // Two per row: 5 images make 3 rows.
    expect(new Set(r.layout.map((c) => c.image.top)).size).toBe(3);
    expect(new Set(r.layout.map((c) => c.image.left)).size).toBe(2);
    expect(region(img, 0, 0, img.width, img.height).variance).toBeGreaterThan(100);
    r.layout.forEach((cell, i) => {
      const title = region(img, cell.title.left, cell.title.top, cell.title.width, cell.title.height);
      expect(title.variance).toBeGreaterThan(10); // text was drawn where the title is
      if (r.predictions[i].correct) expect(title.red).toBe(0);
      else expect(title.red).toBeGreaterThan(20); // the wrong prediction's title is red
      // The cell shows the i-th image of the loader, pixel for pixel (a PNG is lossless).
      expect([cell.image.width, cell.image.height]).toEqual([64, 64]);
      expect(pixelsDiffering(img, cell.image, state.images[i])).toBe(0);
    });
    // The red frame around a wrong image: the pixel just left of it.
    const wrongCell = r.layout[1];
    const i = ((wrongCell.image.top + 10) * img.width + wrongCell.image.left - 2) * img.channels;
    expect(img.data[i]).toBeGreaterThan(150);
    expect(img.data[i + 1]).toBeLessThan(110);
  });

  test("puts the model back in eval mode when it was in eval mode", async () => {
    const { model } = signModel();
    model.eval();
    await visualizeModel(model as unknown as tt.nn.Module, batches([[1, 0]], [[1, 0]]).source, { numImages: 2, out: path.join(dir, "eval.png"), device: "cpu" });
    expect(model.training).toBe(false);
  });

  test("restores the model's mode when the forward pass fails", async () => {
    const { model } = signModel({ failOnCall: 1 });
    const { source, state } = batches([[1, 0]], [[1, 0]]);
    await expect(visualizeModel(model as unknown as tt.nn.Module, source, { out: path.join(dir, "fail.png"), device: "cpu" })).rejects.toThrow(
      "forward failed on purpose",
    );
    expect(model.training).toBe(true);
    expect(state.finished).toBe(true);
    expect(fs.existsSync(path.join(dir, "fail.png"))).toBe(false);
  });

  test("works with a ResNet-18, restoring its train mode", async () => {
    const model = tt.models.resnet18({ numClasses: 2 });
    model.train();
    const out = path.join(dir, "resnet.png");
    const { source, state } = batches([[1, 0, 1, 0]], [[0, 1, 1, 0]]);
    const r = await visualizeModel(model, source, { numImages: 4, out, classNames: ["ants", "bees"], device: "cpu" });
    expect(model.training).toBe(true);
    // The predictions are the argmax of the model's own logits for the same images, in eval mode.
    model.eval();
    const input = tt.tensor(Float32Array.from(state.images.flatMap((a) => Array.from(a))), [4, 3, 32, 32]);
    const logits = await tt.noGrad(() => model.forward(input));
    const l = (await logits.data()) as Float32Array;
    const argmax = [0, 1, 2, 3].map((i) => (l[i * 2 + 1] > l[i * 2] ? 1 : 0));
    expect(r.predictions.map((p) => p.predictedIndex)).toEqual(argmax);
    expect(r.predictions.map((p) => p.actualIndex)).toEqual([0, 1, 1, 0]);
    r.predictions.forEach((p, i) => {
      expect(p.predicted).toBe(["ants", "bees"][argmax[i]]);
      expect(p.title).toBe(p.correct ? `predicted: ${p.predicted}` : `predicted: ${p.predicted} (true: ${p.actual})`);
    });
    const img = await decode(out);
    r.layout.forEach((cell, i) => expect(pixelsDiffering(img, cell.image, state.images[i])).toBe(0));
  });

  test("uses what the loader has when it has fewer images than asked for, and rejects an empty one", async () => {
    const { model } = signModel();
    const r = await visualizeModel(model as unknown as tt.nn.Module, batches([[1, 0, 1]], [[1, 0, 1]]).source, { out: path.join(dir, "few.png"), device: "cpu" });
    expect(r.predictions).toHaveLength(3);
    await expect(visualizeModel(model as unknown as tt.nn.Module, batches([], []).source, { out: path.join(dir, "none.png"), device: "cpu" })).rejects.toThrow(
      "the data loader gave no images",
    );
    await expect(visualizeModel(model as unknown as tt.nn.Module, batches([], []).source, { numImages: 0 })).rejects.toThrow(
      "Expected positive integer for numImages but received 0 of type number",
    );
    await expect(visualizeModel({} as tt.nn.Module, batches([], []).source)).rejects.toThrow("Expected Module");
  });
});

describe("confusionMatrix", () => {
  test("counts [true][predicted] over the whole loader and restores the mode", async () => {
    const { model } = signModel();
    const { source } = batches([[1, 0, 1], [0, 1, 0], [1]], [[1, 1, 1], [0, 0, 0], [0]]);
    const m = await confusionMatrix(model as unknown as tt.nn.Module, source, { classNames: ["ants", "bees"], device: "cpu" });
    // true ants: predicted ants 2 (batch 2), bees 2 (batch 2 image 1, batch 3); true bees: ants 1, bees 2.
    expect(m.counts).toEqual([[2, 2], [1, 2]]);
    expect([m.total, m.correct]).toEqual([7, 4]);
    expect(model.training).toBe(true);
  });
});

describe("charts", () => {
  test("training curves render to SVG with both panels and phases", async () => {
    const history = [0, 1].flatMap((epoch) => [
      { epoch, phase: "train" as const, loss: 0.7 - epoch * 0.2, acc: 0.6 + epoch * 0.1, seconds: 2, images: 8 },
      { epoch, phase: "val" as const, loss: 0.8 - epoch * 0.2, acc: 0.55 + epoch * 0.1, seconds: 1, images: 4 },
    ]);
    const svg = await curvesSvg(history);
    expect(svg.startsWith("<svg")).toBe(true);
    for (const text of ["Loss", "Accuracy", "train", "val", "epoch"]) expect(svg).toContain(text);
    const png = await sharp(Buffer.from(svg)).png().toBuffer();
    expect((await sharp(png).metadata()).width).toBeGreaterThan(300);
    await expect(curvesSvg([{ epoch: 0 }] as never)).rejects.toThrow("Expected epoch record");
  });
});

describe("showBatch", () => {
  test("writes the batch's grid with its class names as the title", async () => {
    const inputs = tt.tensor(values(4 * 3 * 16 * 16), [4, 3, 16, 16]);
    const out = path.join(dir, "batch-title.png");
    const r = await showBatch(inputs, [0, 1, 1, 0], ["ants", "bees"], out);
    expect(r.title).toEqual(["ants, bees, bees, ants"]);
    const img = await decode(out);
    expect(img.width).toBe(4 * 18 + 2);
    expect(img.height).toBeGreaterThan(18 + 2);
    const band = img.height - (18 + 2);
    expect(region(img, 0, 0, img.width, band).variance).toBeGreaterThan(10); // text was drawn in the title band
    // Below it, make_grid's layout: image k at (2 + 18k, 2), each pixel the batch's own, un-normalized.
    const data = values(4 * 3 * 16 * 16);
    for (let k = 0; k < 4; k++) {
      const rect = { left: 2 + 18 * k, top: band + 2, width: 16, height: 16 };
      expect(pixelsDiffering(img, rect, data.subarray(k * 3 * 256, (k + 1) * 3 * 256))).toBe(0);
    }
    await expect(showBatch(inputs, [0, 1], ["ants", "bees"], out)).rejects.toThrow("labels has 2 entries but the batch has 4 images");
  });
});
