// Small real seed files, made when the fuzzer starts: a state dict written by
// Python's torch.save (zip, legacy, protocol 4), a safetensors file by our own
// writer, and one photo of the tutorial's data set as BMP (24, 32, 8 and 1
// bits), PPM/PGM (binary and text) and JPEG (baseline, progressive, grey).
"use strict";
const { execFileSync } = require("child_process");
const fs = require("fs");
const path = require("path");
const { hintsFor } = require("./formats");

const PYTHON = process.env.TORCH_TRANSFER_PYTHON || (fs.existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");

const MAKE = String.raw`
import collections, os, sys, torch
from PIL import Image
out, photo = sys.argv[1], sys.argv[2]
torch.manual_seed(0)
sd = collections.OrderedDict([
    ("conv.weight", torch.randn(2, 3, 3, 3)), ("bn.running_mean", torch.randn(2)),
    ("bn.num_batches_tracked", torch.tensor(7)), ("fc.weight", torch.randn(4, 2).t()), ("half", torch.randn(3).half()),
])
torch.save(sd, os.path.join(out, "zip.pth"))
torch.save(sd, os.path.join(out, "legacy.pth"), _use_new_zipfile_serialization=False)
torch.save(sd, os.path.join(out, "p4.pth"), pickle_protocol=4)
im = Image.open(photo).convert("RGB").resize((24, 16))
im.save(os.path.join(out, "rgb.bmp"))
im.convert("RGBA").save(os.path.join(out, "rgba.bmp"))
im.convert("P", palette=Image.ADAPTIVE, colors=16).save(os.path.join(out, "palette.bmp"))
im.convert("1").save(os.path.join(out, "mono.bmp"))
im.save(os.path.join(out, "rgb.ppm"))
im.convert("L").save(os.path.join(out, "grey.pgm"))
def text(name, magic, mode):
    px = im.convert(mode)
    values = list(px.tobytes())
    with open(os.path.join(out, name), "w") as f:
        f.write("%s\n# a comment\n%d %d\n255\n" % (magic, im.width, im.height))
        f.write("\n".join(" ".join(str(v) for v in values[i:i + 12]) for i in range(0, len(values), 12)) + "\n")
text("text.ppm", "P3", "RGB")
text("text.pgm", "P2", "L")
im.save(os.path.join(out, "baseline.jpg"), quality=90)
im.save(os.path.join(out, "progressive.jpg"), quality=90, progressive=True)
im.convert("L").save(os.path.join(out, "grey.jpg"), quality=90)
`;

const KINDS = {
  "zip.pth": ["zip", "load"], "legacy.pth": ["legacy", "load"], "p4.pth": ["zip", "load"],
  "model.safetensors": ["safetensors", "load"],
  "rgb.bmp": ["bmp", "image"], "rgba.bmp": ["bmp", "image"], "palette.bmp": ["bmp", "image"], "mono.bmp": ["bmp", "image"],
  "rgb.ppm": ["pnm", "image"], "grey.pgm": ["pnm", "image"], "text.ppm": ["pnm", "image"], "text.pgm": ["pnm", "image"],
  "baseline.jpg": ["jpeg", "image"], "progressive.jpg": ["jpeg", "image"], "grey.jpg": ["jpeg", "image"],
};

function firstPhoto(dataRoot) {
  const folder = path.join(dataRoot, "train", "ants");
  const name = fs.readdirSync(folder).filter((f) => f.endsWith(".jpg")).sort()[0];
  if (!name) throw new Error(`no .jpg in ${folder}`);
  return path.join(folder, name);
}

/**
 * Writes the seeds into `dir` and returns them with their hints. `lib` gives
 * our own load and save (the safetensors seed is ours); the pickles inside the
 * torch files also become seeds of their own, for the unpickler alone.
 */
async function makeSeeds(lib, dir, dataRoot) {
  execFileSync(PYTHON, ["-c", MAKE, dir, firstPhoto(dataRoot)], { stdio: ["ignore", "ignore", "inherit"] });
  const sd = await lib.load(path.join(dir, "zip.pth"));
  await lib.save(sd, path.join(dir, "model.safetensors"));
  for (const t of sd.values()) t.dispose();
  const seeds = [];
  for (const [name, [kind, target]] of Object.entries(KINDS)) {
    const bytes = fs.readFileSync(path.join(dir, name));
    const hints = { ...hintsFor(kind, bytes), salt: seeds.length * 0x27d4eb2d };
    seeds.push({ name, kind, target, ext: path.extname(name), bytes, hints });
    // The state dicts' pickles; a legacy file's magic number and protocol pickles are a few bytes each.
    for (const p of kind === "legacy" || kind === "zip" ? hints.pickles.filter((s) => s.end - s.ops[0] > 64) : []) {
      const start = p.ops[0];
      const pickle = bytes.subarray(start, p.end);
      const shifted = { ops: p.ops.map((o) => o - start), lengths: p.lengths.map((o) => o - start), end: p.end - start };
      seeds.push({ name: `${name}@${start}.pkl`, kind: "pickle", target: "pickle", ext: ".pkl", bytes: pickle,
        hints: { hot: shifted.lengths, pickles: [shifted], salt: seeds.length * 0x27d4eb2d } });
    }
  }
  return seeds;
}

module.exports = { makeSeeds };
