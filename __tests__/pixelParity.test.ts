// Our val pipeline against torchvision's, image by image, on the tutorial's data.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runPython } from "./helpers/python";
import { ImageFolder } from "../lib/datasets";
import * as T from "../lib/transforms";
import { RgbImage } from "../lib/data/image";

const DATA = path.resolve(__dirname, "../../shared/data/hymenoptera_data");

// One Python process: torchvision's ImageFolder listings for train and val, and
// Resize(256) + CenterCrop(224) of every val image as raw HWC bytes (ToTensor is an exact /255).
const PYTHON = `
import json, os, sys
import numpy as np
from torchvision import datasets, transforms
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
print(json.dumps(listing))
`;

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
});
