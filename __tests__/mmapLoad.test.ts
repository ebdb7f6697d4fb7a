// Loading over a mapping of the file (tt.load's default, torch.load(mmap=True)'s
// way): the same tensors, byte for byte, as the copying path, for torch.save's
// zip and legacy formats and for safetensors; tensors that outlive the file,
// its replacement and the other tensors of their state dict; and the paths a
// mapping cannot take (deflated entries, misaligned storages) still read.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { load, save } from "../lib/serialization";
import { tensor, Tensor } from "../lib/tensor";
import { runPython } from "./helpers/python";

const MAKE_FILES = String.raw`
import os, sys, zipfile, torch, torchvision
folder = sys.argv[1]
torch.manual_seed(0)
resnet = torchvision.models.resnet18()
for m in resnet.modules():
    if isinstance(m, torch.nn.BatchNorm2d):
        m.running_mean.normal_(); m.running_var.uniform_(0.5, 2); m.num_batches_tracked.fill_(7)
big = torch.randn(6, 5)
mixed = {
    "f32": torch.randn(3, 4), "f64": torch.randn(5, dtype=torch.float64), "f16": torch.randn(2, 3).half(),
    "bf16": torch.randn(7).bfloat16(), "i64": torch.tensor([-(2**40), 0, 2**53 + 1]), "u8": torch.tensor([0, 200, 255], dtype=torch.uint8),
    "bool": torch.tensor([True, False, True]), "scalar": torch.tensor(3.5), "empty": torch.zeros(0, 3),
    "big": big, "transposed": big.t(), "slice": big[2:4, 1:3], "flat_tail": big.view(-1)[17:],
}
for name, sd in (("resnet", resnet.state_dict()), ("mixed", mixed)):
    torch.save(sd, os.path.join(folder, name + "_zip.pth"))
    torch.save(sd, os.path.join(folder, name + "_legacy.pth"), _use_new_zipfile_serialization=False)

def rewrite(src_name, dst_name, compress, pad):
    # Python's zipfile writes no alignment padding: a 1-byte entry before each
    # storage moves the storages off their element alignment.
    offsets = []
    with zipfile.ZipFile(os.path.join(folder, src_name)) as src, zipfile.ZipFile(os.path.join(folder, dst_name), "w") as dst:
        for i, info in enumerate(src.infolist()):
            if pad and "/data/" in info.filename:
                dst.writestr(info.filename.rsplit("/", 2)[0] + "/pad%d" % i, b"x")
            dst.writestr(info.filename, src.read(info.filename), compress_type=zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED)
    with zipfile.ZipFile(os.path.join(folder, dst_name)) as z:
        for info in z.infolist():
            if "/data/" in info.filename:
                offsets.append(info.header_offset + 30 + len(info.filename.encode()) + len(info.extra))
    return offsets

rewrite("mixed_zip.pth", "mixed_deflated.pth", True, False)
offsets = rewrite("mixed_zip.pth", "mixed_misaligned.pth", False, True)
assert any(o % 2 for o in offsets), offsets
raw = open(os.path.join(folder, "resnet_zip.pth"), "rb").read()
open(os.path.join(folder, "resnet_truncated.pth"), "wb").write(raw[: len(raw) * 2 // 3])
legacy = open(os.path.join(folder, "resnet_legacy.pth"), "rb").read()
open(os.path.join(folder, "resnet_legacy_truncated.pth"), "wb").write(legacy[: len(legacy) - 1000])
`;

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tt-mmap-"));
  runPython(MAKE_FILES, [dir]);
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const file = (name: string) => path.join(dir, name);

function disposeAll(sd: Map<string, Tensor>): void {
  for (const t of sd.values()) t.dispose();
}

async function bytesOf(t: Tensor): Promise<Buffer> {
  const v = await t.data();
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

// Keys, dtypes, shapes and every byte: bfloat16 and float16 come out of data()
// as float32, exactly (both widen without rounding).
async function expectSame(a: Map<string, Tensor>, b: Map<string, Tensor>): Promise<void> {
  expect([...a.keys()]).toEqual([...b.keys()]);
  for (const [key, t] of a) {
    const u = b.get(key)!;
    expect({ key, dtype: t.dtype, shape: t.shape }).toEqual({ key, dtype: u.dtype, shape: u.shape });
    if (!(await bytesOf(t)).equals(await bytesOf(u))) throw new Error(`tensor ${key} differs between the mapped and copied loads`);
  }
}

/** Whether this process has `name` mapped (Linux: /proc/self/maps lists each mapped file's path). */
function isMapped(name: string): boolean {
  return fs.readFileSync("/proc/self/maps", "utf8").split("\n").some((line) => line.endsWith(name) || line.endsWith(`${name} (deleted)`));
}

describe("mapped loading equals copied loading, byte for byte", () => {
  for (const name of ["resnet_zip.pth", "resnet_legacy.pth", "mixed_zip.pth", "mixed_legacy.pth", "mixed_deflated.pth", "mixed_misaligned.pth"]) {
    test(name, async () => {
      const mapped = await load(file(name));
      // Deflated storages are copied, so nothing holds that file's mapping once loaded.
      expect(isMapped(name)).toBe(name !== "mixed_deflated.pth");
      const copied = await load(file(name), { mmap: false });
      await expectSame(mapped, copied);
      disposeAll(mapped);
      disposeAll(copied);
    });
  }

  test("a deflated or misaligned file reads the same as torch.save's own", async () => {
    const original = await load(file("mixed_zip.pth"), { mmap: false });
    for (const name of ["mixed_deflated.pth", "mixed_misaligned.pth"]) {
      const other = await load(file(name));
      await expectSame(other, original);
      disposeAll(other);
    }
    disposeAll(original);
  });

  test("safetensors", async () => {
    const st = file("mixed.safetensors");
    const source = await load(file("mixed_zip.pth"), { mmap: false });
    await save(source, st, { format: "safetensors" });
    const mapped = await load(st);
    expect(isMapped("mixed.safetensors")).toBe(true);
    const copied = await load(st, { mmap: false });
    await expectSame(mapped, copied);
    await expectSame(mapped, source);
    for (const sd of [mapped, copied, source]) disposeAll(sd);
  });
});

describe("mapped tensors own their mapping", () => {
  test("the file stays mapped while a tensor lives and is unmapped when the last is disposed, whatever else is disposed first", async () => {
    const name = "resnet_own.pth";
    fs.copyFileSync(file("resnet_zip.pth"), file(name));
    const expected = await load(file(name), { mmap: false });
    const sd = await load(file(name));
    expect(isMapped(name)).toBe(true);
    const keep = sd.get("layer4.1.conv2.weight")!;
    for (const [key, t] of sd) if (key !== "layer4.1.conv2.weight") t.dispose();
    expect(isMapped(name)).toBe(true);
    expect((await bytesOf(keep)).equals(await bytesOf(expected.get("layer4.1.conv2.weight")!))).toBe(true);
    keep.dispose();
    expect(isMapped(name)).toBe(false);
    disposeAll(expected);
  });

  test("tensors keep their values after the file is deleted", async () => {
    const name = "resnet_deleted.pth";
    fs.copyFileSync(file("resnet_zip.pth"), file(name));
    const expected = await load(file(name), { mmap: false });
    const sd = await load(file(name));
    expect(isMapped(name)).toBe(true);
    fs.rmSync(file(name));
    await expectSame(sd, expected);
    disposeAll(sd);
    disposeAll(expected);
  });

  test("tensors keep their values after another file is renamed over theirs (an atomic replace)", async () => {
    const name = "mixed_replaced.pth";
    fs.copyFileSync(file("mixed_zip.pth"), file(name));
    const expected = await load(file(name), { mmap: false });
    const sd = await load(file(name));
    expect(isMapped(name)).toBe(true);
    const replacement = new Map([["f32", tensor(new Float32Array(12).fill(9), [3, 4])]]);
    await save(replacement, file(name)); // writes a temporary file and renames it over
    await expectSame(sd, expected);
    const reloaded = await load(file(name));
    expect([...(await reloaded.get("f32")!.data())]).toEqual(new Array(12).fill(9));
    for (const m of [sd, expected, reloaded, replacement]) disposeAll(m);
  });

  test("writing into a mapped tensor changes neither the file nor a later load (copy-on-write)", async () => {
    const name = "mixed_written.pth";
    fs.copyFileSync(file("mixed_zip.pth"), file(name));
    const before = fs.readFileSync(file(name));
    const sd = await load(file(name));
    const nines = tensor(new Float32Array(12).fill(9), [3, 4]);
    sd.get("f32")!.copy_(nines);
    expect([...(await sd.get("f32")!.data())]).toEqual(new Array(12).fill(9));
    expect(fs.readFileSync(file(name)).equals(before)).toBe(true);
    const again = await load(file(name));
    expect([...(await again.get("f32")!.data())]).not.toEqual(new Array(12).fill(9));
    for (const m of [sd, again]) disposeAll(m);
    nines.dispose();
  });
});

describe("bad files are errors naming them, mapped or not", () => {
  for (const mmap of [true, false]) {
    test(`a truncated zip and a truncated legacy file (mmap ${mmap})`, async () => {
      await expect(load(file("resnet_truncated.pth"), { mmap })).rejects.toThrow(`${file("resnet_truncated.pth")}: `);
      await expect(load(file("resnet_legacy_truncated.pth"), { mmap })).rejects.toThrow(`${file("resnet_legacy_truncated.pth")}: truncated data`);
      expect(isMapped("truncated.pth")).toBe(false);
    });
  }

  test("options are checked", async () => {
    await expect(load(file("mixed_zip.pth"), { mmap: "yes" as unknown as boolean })).rejects.toThrow("mmap");
    await expect(load(file("mixed_zip.pth"), { map: true } as unknown as { mmap: boolean })).rejects.toThrow('Unknown option "map" for load');
  });
});
