// Pillow's bicubic resampling, reproduced, against PIL itself on the tutorial's
// val images; and the weights presets that use it against torchvision's presets.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tt from "../lib";
import { runPython } from "./helpers/python";
import { ImageFolder } from "../lib/datasets";
import * as T from "../lib/transforms";
import { RgbImage } from "../lib/data/image";
import { decodeImage } from "../lib/data/decode";
import { resize, resizedCrop } from "../lib/transforms/functional";
import { resizedSize } from "../lib/transforms/resize";

const DATA = path.resolve(__dirname, "../../shared/data/hymenoptera_data");
// Every 10th val image: both classes, several sizes, and a test that stays fast on 2 cores.
const STEP = 10;
// The presets whose resize is bicubic, and one bilinear one beside them.
const PRESETS: [string, string][] = [
  ["efficientnet_b0", "IMAGENET1K_V1"], ["efficientnet_b1", "IMAGENET1K_V1"], ["efficientnet_b1", "IMAGENET1K_V2"],
  ["efficientnet_b2", "IMAGENET1K_V1"], ["efficientnet_b3", "IMAGENET1K_V1"],
  ["vit_b_16", "IMAGENET1K_SWAG_E2E_V1"], ["vit_b_16", "IMAGENET1K_SWAG_LINEAR_V1"], ["vit_b_16", "IMAGENET1K_V1"],
];

// For each chosen image: PIL's decoded pixels; a bicubic Resize(256) (a shrink for
// every val image); bicubic resized crops of a large box (a shrink) and of a
// 90x70 box to 224x224 (an enlargement); and each preset's tensor.
const PYTHON = `
import json, os, sys
import numpy as np
from PIL import Image
from torchvision import datasets, transforms
import torchvision.transforms.functional as F
from torchvision.transforms import InterpolationMode
from torchvision.models import get_model_weights
data, out, step = sys.argv[1], sys.argv[2], int(sys.argv[3])
presets = json.loads(sys.argv[4])
val = datasets.ImageFolder(os.path.join(data, "val"))
facts = {}
for i in range(0, len(val), step):
    full = Image.open(val.samples[i][0]).convert("RGB")
    np.asarray(full, dtype=np.uint8).tofile(os.path.join(out, "%d.dec" % i))
    w, h = full.size
    np.asarray(transforms.Resize(256, interpolation=InterpolationMode.BICUBIC)(full), dtype=np.uint8).tofile(os.path.join(out, "%d.resize" % i))
    for k, (top, left, ch, cw) in enumerate([(h // 7, w // 5, h * 3 // 5, w // 2), (h // 3, w // 4, 90, 70)]):
        crop = F.resized_crop(full, top, left, ch, cw, [224, 224], interpolation=InterpolationMode.BICUBIC)
        np.asarray(crop, dtype=np.uint8).tofile(os.path.join(out, "%d.crop%d" % (i, k)))
    for arch, name in presets:
        weights = get_model_weights(arch)[name]
        preset = weights.transforms()
        facts["%s.%s" % (arch, name)] = {"resize": preset.resize_size[0], "crop": preset.crop_size[0], "interpolation": preset.interpolation.value}
        preset(full).numpy().astype(np.float32).tofile(os.path.join(out, "%d.%s.%s" % (i, arch, name)))
print(json.dumps(facts))
`;

const CROPS = (h: number, w: number): [number, number, number, number][] => [
  [Math.floor(h / 7), Math.floor(w / 5), Math.floor((h * 3) / 5), Math.floor(w / 2)],
  [Math.floor(h / 3), Math.floor(w / 4), 90, 70],
];

let tmp: string;
let facts: Record<string, { resize: number; crop: number; interpolation: string }>;
let indices: number[];
let samples: [string, number][];

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tt-bicubic-"));
  facts = JSON.parse(runPython(PYTHON, [DATA, tmp, String(STEP), JSON.stringify(PRESETS)]));
  samples = new ImageFolder(path.join(DATA, "val")).samples;
  indices = samples.map((_, i) => i).filter((i) => i % STEP === 0);
}, 300_000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** PIL's decoded pixels of val image i, so that only resampling is compared. */
async function pilPixels(i: number): Promise<RgbImage> {
  const { width, height } = await decodeImage(samples[i][0]);
  return { data: new Uint8Array(fs.readFileSync(path.join(tmp, `${i}.dec`))), width, height, channels: 3 };
}

const same = (a: Uint8Array, b: Buffer) => Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), b) === 0;

test("bicubic Resize(256) shrinks PIL's pixels to exactly PIL's bicubic result", async () => {
  const resize256 = new T.Resize(256, { interpolation: "bicubic" });
  for (const i of indices) {
    const img = await pilPixels(i);
    const ours = await resize256.forward(img);
    expect([ours.height, ours.width]).toEqual(resizedSize(img.height, img.width, 256));
    expect(Math.min(img.height, img.width)).toBeGreaterThan(256);  // a shrink, which widens the filter
    expect(same(ours.data, fs.readFileSync(path.join(tmp, `${i}.resize`)))).toBe(true);
  }
});

test("bicubic resized crops, shrinking and enlarging, give exactly PIL's bytes", async () => {
  let enlarged = 0;
  for (const i of indices) {
    const img = await pilPixels(i);
    for (const [k, [top, left, h, w]] of CROPS(img.height, img.width).entries()) {
      const ours = await resizedCrop(img, top, left, h, w, 224, 224, "bicubic");
      expect(same(ours.data, fs.readFileSync(path.join(tmp, `${i}.crop${k}`)))).toBe(true);
      if (h < 224 && w < 224) enlarged++;
    }
  }
  expect(enlarged).toBe(indices.length);
});

test("bicubic differs from bilinear (the option reaches the resampler)", async () => {
  const img = await pilPixels(indices[0]);
  const [h, w] = resizedSize(img.height, img.width, 256);
  const bilinear = await resize(img, h, w, "bilinear");
  const bicubic = await resize(img, h, w, "bicubic");
  expect(Buffer.compare(Buffer.from(bilinear.data), Buffer.from(bicubic.data))).not.toBe(0);
  expect(same(bicubic.data, fs.readFileSync(path.join(tmp, `${indices[0]}.resize`)))).toBe(true);
});

test("RandomResizedCrop takes interpolation and says it; bad values are named", async () => {
  const crop = new T.RandomResizedCrop(224, { interpolation: "bicubic" });
  expect(crop.toString()).toContain("interpolation=bicubic");
  expect(new T.Resize(256, { interpolation: "bicubic" }).toString()).toBe("Resize(size=256, interpolation=bicubic, max_size=None, antialias=True)");
  expect(() => new T.Resize(256, { interpolation: "nearest" as never })).toThrow(/Expected "bilinear" or "bicubic" for interpolation but received "nearest"/);
  expect(() => new T.RandomResizedCrop(224, { interpolation: 2 as never })).toThrow(/for interpolation/);
  expect(() => new T.Resize(256, { interp: "bicubic" } as never)).toThrow(/Unknown option "interp" for Resize; did you mean "interpolation"\?/);
  // Same generator state, same box: the bicubic crop is PIL's bicubic crop of that box.
  const img = await pilPixels(indices[1]);
  const g = new tt.Generator().manualSeed(3);
  const box = T.RandomResizedCrop.getParams(img.height, img.width, crop.scale, crop.ratio, new tt.Generator().manualSeed(3));
  const ours = await crop.forward(img, g);
  const expected = await resizedCrop(img, box.top, box.left, box.height, box.width, 224, 224, "bicubic");
  expect(Buffer.compare(Buffer.from(ours.data), Buffer.from(expected.data))).toBe(0);
});

describe.each(PRESETS)("%s %s", (arch, name) => {
  test("weights.transforms() is torchvision's preset: sizes, interpolation and the tensor, to the bit", async () => {
    const weights = tt.models.getWeight(arch, name)!;
    const expected = facts[`${arch}.${name}`];
    expect([weights.resizeSize, weights.cropSize, weights.interpolation]).toEqual([expected.resize, expected.crop, expected.interpolation]);
    const preset = weights.transforms();
    for (const i of indices.slice(0, 3)) {
      const x = await preset.forward(await pilPixels(i));
      expect(x.shape).toEqual([3, expected.crop, expected.crop]);
      const ours = (await x.data()) as Float32Array;
      x.dispose();
      expect(Buffer.compare(Buffer.from(ours.buffer, ours.byteOffset, ours.byteLength), fs.readFileSync(path.join(tmp, `${i}.${arch}.${name}`)))).toBe(0);
    }
  });
});
