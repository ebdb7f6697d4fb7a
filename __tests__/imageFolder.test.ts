// ImageFolder and decoding against torchvision/PIL on a tree made for the test.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runPython } from "./helpers/python";
import { ImageFolder } from "../lib/datasets";
import { decodeImage } from "../lib/data/decode";
import { RgbImage } from "../lib/data/image";
import { compareCodePoints } from "../lib/datasets/walk";

// Builds root/ with every image kind the decoder must turn into RGB as PIL's
// convert("RGB") does, odd names and nesting, and non-image files; writes PIL's
// RGB arrays beside it and prints torchvision's listing.
const PYTHON = `
import json, os, struct, sys, zlib
import numpy as np
from PIL import Image
from torchvision import datasets
tmp = sys.argv[1]
root = os.path.join(tmp, "root")
ref = os.path.join(tmp, "ref")
os.makedirs(ref)
rng = np.random.default_rng(0)
def rgb(h, w): return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
kinds = {}
def save(rel, img, **kw):
    p = os.path.join(root, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    img.save(p, **kw)
    kinds[rel] = p
def png16rgb(rel, a):
    p = os.path.join(root, rel)
    raw = b"".join(b"\\x00" + a[y].astype(">u2").tobytes() for y in range(a.shape[0]))
    def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    ihdr = struct.pack(">IIBBBBB", a.shape[1], a.shape[0], 16, 2, 0, 0, 0)
    open(p, "wb").write(b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    kinds[rel] = p
base = Image.fromarray(rgb(13, 17))
save("ants/grey.png", base.convert("L"))
save("ants/palette.png", base.convert("P"), transparency=3)
save("ants/rgba.png", Image.fromarray(rng.integers(0, 256, (13, 17, 4), dtype=np.uint8), "RGBA"))
save("ants/la.png", base.convert("LA"))
save("ants/bilevel.png", base.convert("1"))
save("ants/cmyk.jpg", Image.fromarray(rng.integers(0, 256, (13, 17, 4), dtype=np.uint8), "CMYK"), quality=95)
a16 = rng.integers(0, 600, (13, 17), dtype=np.uint16); a16[0, :5] = [0, 1, 254, 255, 65535]
save("ants/grey16.png", Image.fromarray(a16))
png16rgb("ants/rgb16.png", rng.integers(0, 65536, (13, 17, 3), dtype=np.uint16))
save("ants/photo.jpg", base, quality=90)
save("ants/UPPER.JPG", base, quality=90)
save("ants/grey.jpg", base.convert("L"), quality=90)
save("ants/progressive.jpg", base, quality=90, progressive=True)
save("ants/full-chroma.jpg", base, quality=90, subsampling=0)
save("ants/plain.ppm", base)
save("ants/plain.pgm", base.convert("L"))
save("ants/plain.bmp", base)
save("ants/palette.bmp", base.convert("P"))
save("ants/plain.tif", base)
save("ants/lossless.webp", base, lossless=True)
save("ants/ça va \\u00e9t\\u00e9 \\u65e5\\u672c.png", base)
save("ants/\\uff5e.png", base)
save("ants/\\U0001F41C.png", base)
save("ants/a/deep.png", base)
save("ants/a b/spaced.png", base)
save("ants/a.b/dotted.png", base)
save("ants/fake.jpg/inside.png", base)
exif = Image.Exif(); exif[0x0112] = 6
save("bees/rotated.jpg", Image.fromarray(rgb(20, 40)), exif=exif.tobytes())
save("bees/B.png", base)
open(os.path.join(root, "ants", "notes.txt"), "w").write("not an image")
save("ants/anim.gif", base)
for rel, p in kinds.items():
    a = np.asarray(Image.open(p).convert("RGB"))
    a.tofile(os.path.join(ref, rel.replace("/", "__") + ".raw"))
ds = datasets.ImageFolder(root)
print(json.dumps({"classes": ds.classes, "samples": ds.samples, "kinds": {k: list(Image.open(p).convert("RGB").size[::-1]) for k, p in kinds.items()}}))
`;

describe("ImageFolder", () => {
  let tmp: string;
  let py: { classes: string[]; samples: [string, number][]; kinds: Record<string, [number, number]> };

  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tt-folder-"));
    py = JSON.parse(runPython(PYTHON, [tmp]));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("lists classes, samples and labels in torchvision's order, skipping non-image files", () => {
    const ds = new ImageFolder(path.join(tmp, "root"));
    expect(ds.classes).toEqual(["ants", "bees"]);
    expect(ds.classToIdx).toEqual({ ants: 0, bees: 1 });
    expect(ds.samples).toEqual(py.samples);
    expect(ds.samples.some(([p]) => /notes\.txt|anim\.gif/.test(p))).toBe(false);
    expect(ds.samples.some(([p]) => p.endsWith("fake.jpg/inside.png"))).toBe(true);
  });

  it("compares names by code point, not by UTF-16 unit", () => {
    expect("\u{1F41C}" < "\uff5e").toBe(true); // what plain JS would do
    expect(compareCodePoints("\u{1F41C}", "\uff5e")).toBeGreaterThan(0);
    expect(["b", "\u{1F41C}", "a", "\uff5e", "ab"].sort(compareCodePoints)).toEqual(["a", "ab", "b", "\uff5e", "\u{1F41C}"]);
  });

  it("decodes every kind of image to the same 8-bit RGB as PIL's convert('RGB')", async () => {
    const lossy: string[] = [];
    for (const [rel, [h, w]] of Object.entries(py.kinds)) {
      if (rel.endsWith(".gif")) continue;
      const img = await decodeImage(path.join(tmp, "root", rel));
      const ref = fs.readFileSync(path.join(tmp, "ref", rel.replace(/\//g, "__") + ".raw"));
      expect({ rel, size: [img.height, img.width], channels: img.channels }).toEqual({ rel, size: [h, w], channels: 3 });
      let diff = 0;
      for (let k = 0; k < ref.length; k++) diff = Math.max(diff, Math.abs(ref[k] - img.data[k]));
      // JPEG is decoded by the same libjpeg-turbo as PIL's, with its settings, so it
      // is exact too, except CMYK, which sharp's own libjpeg decodes: decoders may
      // differ by a level or two in the IDCT.
      if (rel.endsWith("cmyk.jpg")) {
        expect({ rel, diff: diff <= 3 }).toEqual({ rel, diff: true });
        lossy.push(rel);
      } else {
        expect({ rel, diff }).toEqual({ rel, diff: 0 });
      }
    }
    expect(lossy).toEqual(["ants/cmyk.jpg"]);
  });

  it("does not apply EXIF orientation", async () => {
    const img = await decodeImage(path.join(tmp, "root", "bees", "rotated.jpg"));
    expect([img.height, img.width]).toEqual([20, 40]);
  });

  it("reads a file whose name has spaces and non-ASCII characters", async () => {
    const ds = new ImageFolder(path.join(tmp, "root"));
    const i = ds.samples.findIndex(([p]) => p.includes("ça va été 日本"));
    const [img, label] = (await ds.get(i)) as [RgbImage, number];
    expect([img.height, img.width, label]).toEqual([13, 17, 0]);
  });

  describe("bad input", () => {
    let bad: string;
    beforeAll(async () => {
      bad = path.join(tmp, "bad");
      const good = fs.readFileSync(path.join(tmp, "root", "ants", "photo.jpg"));
      const png = fs.readFileSync(path.join(tmp, "root", "ants", "palette.png"));
      fs.mkdirSync(path.join(bad, "c"), { recursive: true });
      fs.writeFileSync(path.join(bad, "c", "0 good.jpg"), good);
      fs.writeFileSync(path.join(bad, "c", "1 corrupt.jpg"), Buffer.from("this is not a jpeg at all, only text"));
      fs.writeFileSync(path.join(bad, "c", "2 truncated.jpg"), good.subarray(0, Math.floor(good.length / 2)));
      fs.writeFileSync(path.join(bad, "c", "3 truncated.png"), png.subarray(0, Math.floor(png.length / 2)));
      fs.writeFileSync(path.join(bad, "c", "4 good.png"), png);
    });

    it.each(["1 corrupt.jpg", "2 truncated.jpg", "3 truncated.png"])("rejects %s with an error naming the file", async (name) => {
      const ds = new ImageFolder(bad);
      const i = ds.samples.findIndex(([p]) => p.endsWith(name));
      await expect(ds.get(i)).rejects.toThrow(`Could not decode image ${path.join(bad, "c", name)}`);
    });

    it('with onError "skip", warns once per bad file and returns the next decodable sample', async () => {
      const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
      try {
        const ds = new ImageFolder(bad, { onError: "skip" });
        const [img] = (await ds.get(1)) as [RgbImage, number];
        const expected = await decodeImage(path.join(bad, "c", "4 good.png"));
        expect(Buffer.from(img.data).equals(Buffer.from(expected.data))).toBe(true);
        expect(warn).toHaveBeenCalledTimes(3);
        expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([
          expect.stringContaining("1 corrupt.jpg"), expect.stringContaining("2 truncated.jpg"), expect.stringContaining("3 truncated.png"),
        ]);
        await ds.get(2);
        expect(warn).toHaveBeenCalledTimes(3);
        expect(((await ds.get(0)) as [RgbImage, number])[0].width).toBe(17);
      } finally {
        warn.mockRestore();
      }
    });

    it("rejects a missing root, a root without class folders, and an empty class", () => {
      const missing = path.join(tmp, "nowhere");
      expect(() => new ImageFolder(missing)).toThrow(`Couldn't find any class folder in ${missing}: root ${missing} does not exist`);
      const flat = path.join(tmp, "flat");
      fs.mkdirSync(flat);
      fs.writeFileSync(path.join(flat, "x.jpg"), "");
      expect(() => new ImageFolder(flat)).toThrow(`Couldn't find any class folder in ${flat}.`);
      const partly = path.join(tmp, "partly");
      fs.mkdirSync(path.join(partly, "empty"), { recursive: true });
      fs.mkdirSync(path.join(partly, "full"), { recursive: true });
      fs.writeFileSync(path.join(partly, "empty", "readme.txt"), "");
      fs.writeFileSync(path.join(partly, "full", "x.png"), "");
      expect(() => new ImageFolder(partly)).toThrow(
        "Found no valid file for the classes empty. Supported extensions are: .jpg, .jpeg, .png, .ppm, .bmp, .pgm, .tif, .tiff, .webp",
      );
    });

    it("checks its arguments", () => {
      expect(() => new ImageFolder(bad, { onError: "ignore" as "skip" })).toThrow('Expected "raise" or "skip" for onError but received "ignore" of type string');
      expect(() => new ImageFolder(bad, { transform: 3 as never })).toThrow("Expected transform");
    });
  });
});
