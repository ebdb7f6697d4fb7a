// Our val pipeline against torchvision's, image by image, on the tutorial's data.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runPython } from "./helpers/python";
import { ImageFolder } from "../lib/datasets";
import * as T from "../lib/transforms";
import { RgbImage } from "../lib/data/image";
import { Tensor } from "../lib/tensor";
import { decodeImage } from "../lib/data/decode";
import { resize, resizedCrop } from "../lib/transforms/functional";
import { resizedSize } from "../lib/transforms/resize";
import { centerCropOffsets } from "../lib/transforms/centerCrop";

const DATA = path.resolve(__dirname, "../../shared/data/hymenoptera_data");

// One Python process: torchvision's ImageFolder listings for train and val, and
// Resize(256) + CenterCrop(224) of every val image as raw HWC bytes (ToTensor is an exact /255),
// and, for the resampling on its own, PIL's decoded pixels and two resized_crop
// results from them (a shrink and an enlargement, with the boxes of CROPS).
const PYTHON = `
import json, os, sys
import numpy as np
from PIL import Image
from torchvision import datasets, transforms
import torchvision.transforms.functional as F
data, out = sys.argv[1], sys.argv[2]
listing = {}
for phase in ("train", "val"):
    ds = datasets.ImageFolder(os.path.join(data, phase))
    listing[phase] = {"classes": ds.classes, "samples": ds.samples}
tf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224)])
val = datasets.ImageFolder(os.path.join(data, "val"), transform=tf)
for i in range(len(val)):
    img, _ = val[i]
    np.asarray(img, dtype=np.uint8).tofile(os.path.join(out, "%d.raw" % i))
    full = Image.open(val.samples[i][0]).convert("RGB")
    np.asarray(full, dtype=np.uint8).tofile(os.path.join(out, "%d.dec" % i))
    w, h = full.size
    for k, (top, left, ch, cw) in enumerate([(h // 7, w // 5, h * 3 // 5, w // 2), (h // 3, w // 4, 90, 70)]):
        np.asarray(F.resized_crop(full, top, left, ch, cw, [224, 224]), dtype=np.uint8).tofile(os.path.join(out, "%d.crop%d" % (i, k)))
every = np.stack([np.arange(256, dtype=np.uint8)] * 3, axis=1).reshape(16, 16, 3)
norm = transforms.Compose([transforms.ToTensor(), transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
norm(Image.fromarray(every)).numpy().astype(np.float32).tofile(os.path.join(out, "every.f32"))
print(json.dumps(listing))
`;

/** The boxes (top, left, height, width) the Python script crops, for an h x w image. */
const CROPS = (h: number, w: number): [number, number, number, number][] => [
  [Math.floor(h / 7), Math.floor(w / 5), Math.floor((h * 3) / 5), Math.floor(w / 2)],
  [Math.floor(h / 3), Math.floor(w / 4), 90, 70],
];

type Listing = Record<"train" | "val", { classes: string[]; samples: [string, number][] }>;

describe("parity with torchvision on hymenoptera_data", () => {
  let tmp: string;
  let listing: Listing;

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tt-parity-"));
    listing = JSON.parse(runPython(PYTHON, [DATA, tmp]));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it.each(["train", "val"] as const)("lists %s with the same classes, sample order and labels", (phase) => {
    const ds = new ImageFolder(path.join(DATA, phase));
    expect(ds.classes).toEqual(listing[phase].classes);
    expect(ds.samples).toEqual(listing[phase].samples);
    expect(ds.targets).toEqual(listing[phase].samples.map(([, label]) => label));
    expect(ds.length).toBe(phase === "train" ? 244 : 153);
  });

  it("gives Resize(256) + CenterCrop(224) pixels within 0.003 on average and 0.02 at worst", async () => {
    const tf = new T.Compose([new T.Resize(256), new T.CenterCrop(224)]);
    const ds = new ImageFolder(path.join(DATA, "val"), { transform: tf });
    const errors: number[] = [];
    for (let i = 0; i < ds.length; i++) {
      const [img] = (await ds.get(i)) as [RgbImage, number];
      const theirs = fs.readFileSync(path.join(tmp, `${i}.raw`));
      expect([img.height, img.width]).toEqual([224, 224]);
      expect(theirs.length).toBe(img.data.length);
      let sum = 0;
      for (let k = 0; k < theirs.length; k++) sum += Math.abs(theirs[k] - img.data[k]);
      errors.push(sum / theirs.length / 255);
    }
    const mean = errors.reduce((a, b) => a + b, 0) / errors.length;
    const worst = Math.max(...errors);
    console.log(`pixel parity over ${errors.length} val images: mean ${mean.toFixed(5)}, worst ${worst.toFixed(5)}`);
    expect(mean).toBeLessThanOrEqual(0.003);
    expect(worst).toBeLessThanOrEqual(0.02);
  });

  // Both read JPEG with the system's libjpeg-turbo (Debian's python3-pil links
  // libjpeg62-turbo) with the same settings, so equality is exact, not approximate.
  it("decodes every val JPEG to exactly PIL's pixels", async () => {
    const ds = new ImageFolder(path.join(DATA, "val"));
    let exact = 0;
    for (let i = 0; i < ds.length; i++) {
      const ours = await decodeImage(ds.samples[i][0]);
      const theirs = fs.readFileSync(path.join(tmp, `${i}.dec`));
      if (Buffer.compare(Buffer.from(ours.data.buffer, ours.data.byteOffset, ours.data.byteLength), theirs) === 0) exact++;
    }
    expect(exact).toBe(ds.length);
  });

  // From PIL's own decoded pixels, so only the resampling is compared: Pillow's
  // fixed-point bilinear, reproduced, gives the same bytes.
  it("resizes and resized-crops PIL's pixels to exactly PIL's results", async () => {
    const ds = new ImageFolder(path.join(DATA, "val"));
    let compared = 0;
    for (let i = 0; i < ds.length; i++) {
      const theirs = fs.readFileSync(path.join(tmp, `${i}.dec`));
      const { width, height } = await decodeImage(ds.samples[i][0]);
      const img: RgbImage = { data: new Uint8Array(theirs), width, height, channels: 3 };
      const [h, w] = resizedSize(height, width, 256);
      const resized = await resize(img, h, w);
      const [top, left] = centerCropOffsets(h, w, 224, 224);
      const expected = fs.readFileSync(path.join(tmp, `${i}.raw`));
      for (let y = 0; y < 224; y++) {
        const row = resized.data.subarray(((top + y) * w + left) * 3, ((top + y) * w + left + 224) * 3);
        expect(Buffer.compare(Buffer.from(row), expected.subarray(y * 224 * 3, (y + 1) * 224 * 3))).toBe(0);
      }
      for (const [k, [ct, cl, ch, cw]] of CROPS(height, width).entries()) {
        const ours = await resizedCrop(img, ct, cl, ch, cw, 224, 224);
        expect(Buffer.compare(Buffer.from(ours.data), fs.readFileSync(path.join(tmp, `${i}.crop${k}`)))).toBe(0);
        compared++;
      }
    }
    expect(compared).toBe(2 * ds.length);
  });

  it("gives torchvision's ToTensor + Normalize values for every byte, to the bit", async () => {
    const every = new Uint8Array(256 * 3).map((_, i) => Math.floor(i / 3));
    const tf = new T.Compose([new T.ToTensor(), new T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])]);
    const x = (await tf.forward({ data: every, width: 16, height: 16, channels: 3 })) as Tensor;
    const theirs = fs.readFileSync(path.join(tmp, "every.f32"));
    const ours = (await x.data()) as Float32Array;
    expect(Buffer.compare(Buffer.from(ours.buffer, ours.byteOffset, ours.byteLength), theirs)).toBe(0);
    x.dispose();
  });
});
