// The augmentations' functional forms against torchvision 0.14's PIL path,
// pixel by pixel, on images of the tutorial's val set: torchvision computes
// its output at test time from PIL's decoded pixels, which we take as input too.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runPython } from "./helpers/python";
import * as tt from "../lib";
import { RgbImage } from "../lib/data/image";
import { TrivialAugmentWide, RandAugment, applyOp, linspace32 } from "../lib/transforms/augment/autoaugment";

const F = tt.transforms.functional;
const DATA = path.resolve(__dirname, "../../shared/data/hymenoptera_data");

// [python function, its arguments]; the same call is made on our side by CALLS.
type Case = [string, unknown[]];
const CASES: Case[] = [
  ["adjust_brightness", [0.3]], ["adjust_brightness", [1.7]],
  ["adjust_contrast", [0.4]], ["adjust_contrast", [1.6]],
  ["adjust_saturation", [0.0]], ["adjust_saturation", [0.5]], ["adjust_saturation", [1.8]],
  ["adjust_hue", [-0.45]], ["adjust_hue", [-0.1]], ["adjust_hue", [0.07]], ["adjust_hue", [0.5]],
  ["adjust_sharpness", [0.2]], ["adjust_sharpness", [2.5]],
  ["posterize", [2]], ["posterize", [5]],
  ["solarize", [128]], ["solarize", [246.5]],
  ["autocontrast", []], ["equalize", []], ["invert", []],
  ["rotate", [[30], {}]],
  ["rotate", [[-17.3], { interpolation: "bilinear" }]],
  ["rotate", [[90], {}]],
  ["rotate", [[180], {}]],
  ["rotate", [[45], { interpolation: "bilinear", expand: true }]],
  ["rotate", [[12], { center: [10, 20], fill: [10, 20, 30] }]],
  ["affine", [[10, [5, -7], 1.1, [8, -3]], {}]],
  ["affine", [[10, [5, -7], 1.1, [8, -3]], { interpolation: "bilinear" }]],
  ["affine", [[0, [12, 0], 1.0, [0, 0]], {}]],
  ["affine", [[0, [0, 0], 0.7, [0, 0]], { fill: 40 }]],
  ["affine", [[-33, [-20, 15], 0.9, [0, 25]], { interpolation: "bilinear", center: [100, 50] }]],
  ["apply_op", ["ShearX", 0.3, "bilinear"]],
  ["apply_op", ["ShearY", -0.99, "nearest"]],
  ["apply_op", ["TranslateX", -12.8, "nearest"]],
  ["apply_op", ["TranslateY", 31.0, "bilinear"]],
  ["apply_op", ["Rotate", -67.5, "bilinear"]],
  ["apply_op", ["Posterize", 4.0, "nearest"]],
];

/** Our call for each case. */
function ours(img: RgbImage, [fn, args]: Case): Promise<RgbImage> {
  const a = args as never[];
  switch (fn) {
    case "adjust_brightness": return F.adjustBrightness(img, a[0]);
    case "adjust_contrast": return F.adjustContrast(img, a[0]);
    case "adjust_saturation": return F.adjustSaturation(img, a[0]);
    case "adjust_hue": return F.adjustHue(img, a[0]);
    case "adjust_sharpness": return F.adjustSharpness(img, a[0]);
    case "posterize": return F.posterize(img, a[0]);
    case "solarize": return F.solarize(img, a[0]);
    case "autocontrast": return F.autocontrast(img);
    case "equalize": return F.equalize(img);
    case "invert": return F.invert(img);
    case "rotate": {
      const [[angle], options] = args as [[number], Record<string, unknown>];
      return F.rotate(img, angle, options);
    }
    case "affine": {
      const [[angle, translate, scale, shear], options] = args as [[number, number[], number, number[]], Record<string, unknown>];
      return F.affine(img, { angle, translate, scale, shear, ...options });
    }
    case "apply_op": {
      const [name, magnitude, interpolation] = args as [never, number, "nearest" | "bilinear"];
      return applyOp(img, name, magnitude, interpolation, [0, 0, 0]);
    }
  }
  throw new Error(`no case ${fn}`);
}

// Where PIL computes in floats, the output may differ from ours by one level
// in rare pixels should an expression round differently (a compiler's
// contraction of a * b + c, a libm's last bit); where it computes in integers
// (lookup tables, histograms, nearest-neighbour sampling) it must be exact.
// adjust_*: Image.blend in float (Blend.c); the HSV round trip and SMOOTH in
// float; bilinear warps in double (bilinear_filter32RGB), each truncated.
// (Built with GCC for x86-64 without FMA, every case here has been exact.)
const FLOAT_OPS = new Set(["adjust_brightness", "adjust_contrast", "adjust_saturation", "adjust_hue", "adjust_sharpness"]);
function tolerance([fn, args]: Case): number {
  if (FLOAT_OPS.has(fn)) return 1;
  const text = JSON.stringify(args);
  return text.includes("bilinear") || (fn === "apply_op" && ["Brightness", "Color", "Contrast", "Sharpness"].includes(String(args[0]))) ? 1 : 0;
}

const PYTHON = `
import sys, os, json, numpy as np, torch
from PIL import Image
import torchvision.transforms.functional as F
from torchvision.transforms import InterpolationMode as IM
from torchvision.transforms import autoaugment as AA
data, out = sys.argv[1], sys.argv[2]
cases = json.loads(sys.argv[3])
picks = [("ants", 0), ("ants", 5), ("bees", 0), ("bees", 9)]
shapes = []
for k, (cls, i) in enumerate(picks):
    f = sorted(os.listdir(os.path.join(data, "val", cls)))[i]
    img = Image.open(os.path.join(data, "val", cls, f)).convert("RGB")
    np.asarray(img).tofile(os.path.join(out, "%d.in" % k))
    shapes.append([img.height, img.width])
    for c, (fn, args) in enumerate(cases):
        if fn == "apply_op":
            r = AA._apply_op(img, args[0], args[1], interpolation=IM(args[2]), fill=None)
        elif fn in ("rotate", "affine"):
            kw = dict(args[1])
            if "interpolation" in kw: kw["interpolation"] = IM(kw["interpolation"])
            r = getattr(F, fn)(img, *args[0], **kw)
        else:
            r = getattr(F, fn)(img, *args)
        a = np.asarray(r)
        a.tofile(os.path.join(out, "%d.%d" % (k, c)))
        shapes.append([a.shape[0], a.shape[1]])
ta = AA.TrivialAugmentWide()._augmentation_space(31)
ra = AA.RandAugment()._augmentation_space(31, (224, 180))
tables = {"ta": {k: v[0].tolist() if v[0].ndim else None for k, v in ta.items()},
          "ra": {k: v[0].tolist() if v[0].ndim else None for k, v in ra.items()}}
x = torch.randn(2, 3, 20, 30)
v = torch.randn(3, 5, 7)
np.asarray(x.numpy(), dtype=np.float32).tofile(os.path.join(out, "erase.in"))
np.asarray(v.numpy(), dtype=np.float32).tofile(os.path.join(out, "erase.v"))
F.erase(x, 4, 9, 5, 7, v).numpy().astype(np.float32).tofile(os.path.join(out, "erase.box"))
F.erase(x, 0, 20, 20, 10, torch.tensor([0.5, -1.0, 2.0])[:, None, None]).numpy().astype(np.float32).tofile(os.path.join(out, "erase.channel"))
print(json.dumps({"shapes": shapes, "tables": tables}))
`;

interface Reference { shapes: [number, number][]; tables: Record<"ta" | "ra", Record<string, number[] | null>> }

let dir: string;
let ref: Reference;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tt-augment-"));
  ref = JSON.parse(runPython(PYTHON, [DATA, dir, JSON.stringify(CASES)]));
}, 300_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const IMAGES = [0, 1, 2, 3];
const PER_IMAGE = CASES.length + 1;

function input(k: number): RgbImage {
  const [height, width] = ref.shapes[k * PER_IMAGE];
  return { data: new Uint8Array(fs.readFileSync(path.join(dir, `${k}.in`))), height, width, channels: 3 };
}

describe.each(CASES.map((c, i) => [`${c[0]}(${JSON.stringify(c[1]).slice(1, -1)})`, i] as [string, number]))("%s", (_, c) => {
  test.each(IMAGES)(`gives torchvision's pixels on val image %i (${tolerance(CASES[c]) ? "within 1 level" : "exactly"})`, async (k) => {
    const out = await ours(input(k), CASES[c]);
    const [h, w] = ref.shapes[k * PER_IMAGE + 1 + c];
    expect([out.height, out.width]).toEqual([h, w]);
    const expected = new Uint8Array(fs.readFileSync(path.join(dir, `${k}.${c}`)));
    let worst = 0;
    for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i] - out.data[i]));
    expect(worst).toBeLessThanOrEqual(tolerance(CASES[c]));
  });
});

test("TrivialAugmentWide's and RandAugment's magnitude bins are torchvision's float32 values", () => {
  for (const [name, magnitudes] of TrivialAugmentWide.augmentationSpace(31)) expect([name, magnitudes]).toEqual([name, ref.tables.ta[name]]);
  for (const [name, magnitudes] of RandAugment.augmentationSpace(31, 224, 180)) expect([name, magnitudes]).toEqual([name, ref.tables.ra[name]]);
  expect(linspace32(2, 7, 1)).toEqual([2]);
});

test("erase() writes torchvision's box, with a [C, h, w] value and with one value per channel", async () => {
  const read = (name: string) => {
    const bytes = fs.readFileSync(path.join(dir, `erase.${name}`));
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  };
  const x = tt.tensor(read("in"), [2, 3, 20, 30]);
  const box = await F.erase(x, 4, 9, 5, 7, tt.tensor(read("v"), [3, 5, 7]));
  expect(Array.from((await box.data()) as Float32Array)).toEqual(Array.from(read("box")));
  const channel = await F.erase(x, 0, 20, 20, 10, tt.tensor(new Float32Array([0.5, -1.0, 2.0]), [3, 1, 1]));
  expect(Array.from((await channel.data()) as Float32Array)).toEqual(Array.from(read("channel")));
  await expect(F.erase(x, 18, 0, 5, 5, tt.tensor(new Float32Array([0]), [1]))).rejects.toThrow(/box 5x5 at \(18, 0\) leaves the 20x30 image/);
  for (const t of [x, box, channel]) t.dispose();
});
