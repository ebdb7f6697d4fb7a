// Reading torch.save files (zip and legacy) and safetensors, checked against
// what Python's torch wrote; refusing hostile, truncated and inconsistent files.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { load, loadSafetensorsMetadata, save } from "../lib/serialization";
import { tensor, Tensor } from "../lib/tensor";
import { runPython } from "./helpers/python";

const MAKE_FILES = String.raw`
import io, json, os, sys, zipfile, pickle, torch, torchvision
folder = sys.argv[1]
torch.manual_seed(0)

def expected(name, sd):
    manifest = []
    with open(os.path.join(folder, name + ".bin"), "wb") as f:
        for key, t in sd.items():
            # bfloat16 and float16 are compared as float32 values, bool as bytes
            v = t.float() if t.dtype in (torch.float16, torch.bfloat16) else t
            data = v.contiguous().numpy().tobytes()
            manifest.append({"name": key, "dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape), "nbytes": len(data)})
            f.write(data)
    with open(os.path.join(folder, name + ".json"), "w") as f:
        json.dump(manifest, f)

def save_both(name, sd):
    torch.save(sd, os.path.join(folder, name + "_zip.pth"), _use_new_zipfile_serialization=True)
    torch.save(sd, os.path.join(folder, name + "_legacy.pth"), _use_new_zipfile_serialization=False)
    expected(name, sd)

resnet = torchvision.models.resnet18()
for m in resnet.modules():
    if isinstance(m, torch.nn.BatchNorm2d):
        m.running_mean.normal_(); m.running_var.uniform_(0.5, 2); m.num_batches_tracked.fill_(7)
save_both("resnet", resnet.state_dict())

big = torch.randn(6, 5)
mixed = {
    "f32": torch.randn(3, 4),
    "f64": torch.randn(5, dtype=torch.float64),
    "f16": torch.randn(2, 3).half(),
    "bf16": torch.randn(7).bfloat16(),
    "i64": torch.tensor([-(2**40), 0, 2**53 + 1], dtype=torch.int64),
    "i32": torch.randint(-1000, 1000, (4, 2), dtype=torch.int32),
    "i8": torch.tensor([-128, -1, 0, 127], dtype=torch.int8),
    "u8": torch.tensor([0, 1, 200, 255], dtype=torch.uint8),
    "bool": torch.tensor([True, False, True]),
    "scalar": torch.tensor(3.5),
    "empty": torch.zeros(0, 3),
    "big": big,
    "transposed": big.t(),
    "slice": big[2:4, 1:3],
    "flat_tail": big.view(-1)[17:],
}
save_both("mixed", mixed)
# Protocol 4 brings FRAME, SHORT_BINUNICODE, MEMOIZE and STACK_GLOBAL.
torch.save(mixed, os.path.join(folder, "mixed_p4.pth"), pickle_protocol=4)

class Evil:
    def __reduce__(self):
        return (os.system, ("touch " + os.path.join(folder, "MARKER"),))
torch.save({"x": torch.zeros(1), "evil": Evil()}, os.path.join(folder, "evil.pth"))

zip_path = os.path.join(folder, "mixed_zip.pth")
raw = open(zip_path, "rb").read()
open(os.path.join(folder, "truncated_zip.pth"), "wb").write(raw[: len(raw) // 2])
legacy = open(os.path.join(folder, "mixed_legacy.pth"), "rb").read()
open(os.path.join(folder, "truncated_legacy.pth"), "wb").write(legacy[: len(legacy) - 10])
magic = pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2)
assert legacy.startswith(magic)
open(os.path.join(folder, "wrong_magic.pth"), "wb").write(pickle.dumps(0x1234, protocol=2) + legacy[len(magic):])

# A zip whose first storage lost its last bytes: the archive is fine, the tensor is not.
torch.save({"w": torch.arange(10, dtype=torch.float32)}, os.path.join(folder, "ok_short.pth"))
with zipfile.ZipFile(os.path.join(folder, "ok_short.pth")) as src, zipfile.ZipFile(os.path.join(folder, "short_storage.pth"), "w") as dst:
    for info in src.infolist():
        data = src.read(info.filename)
        if info.filename.endswith("/data/0"):
            data = data[:-8]
        dst.writestr(info.filename, data)
`;

// Reads a safetensors file with struct + json + torch.frombuffer (Debian has no
// python3-safetensors), and compares it with the torch.save file it came from.
const PY_CHECK_SAFETENSORS = String.raw`
import json, struct, sys, torch
st_path, pth_path = sys.argv[1], sys.argv[2]
DT = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64,
      "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool}
raw = open(st_path, "rb").read()
(n,) = struct.unpack("<Q", raw[:8])
assert (8 + n) % 8 == 0, "header not padded to 8"
header = json.loads(raw[8:8 + n])
body = raw[8 + n:]
meta = header.pop("__metadata__", None)
ref = torch.load(pth_path)
end = 0
result = {"metadata": meta, "keys": [], "mismatch": []}
for key, e in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
    b, f = e["data_offsets"]
    assert b == end, "offsets not contiguous"
    end = f
    t = torch.frombuffer(bytearray(body[b:f]), dtype=DT[e["dtype"]]) if f > b else torch.empty(0, dtype=DT[e["dtype"]])
    t = t.reshape(e["shape"])
    result["keys"].append(key)
    if t.dtype != ref[key].dtype or not torch.equal(t, ref[key]):
        result["mismatch"].append(key)
assert end == len(body), "trailing bytes"
print(json.dumps(result))
`;

interface Expected { name: string; dtype: string; shape: number[]; nbytes: number }

let dir: string;

function readExpected(name: string): { manifest: Expected[]; bytes: Buffer } {
  return {
    manifest: JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), "utf8")) as Expected[],
    bytes: fs.readFileSync(path.join(dir, `${name}.bin`)),
  };
}

async function expectSameAsPython(sd: Map<string, Tensor>, name: string): Promise<void> {
  const { manifest, bytes } = readExpected(name);
  expect([...sd.keys()]).toEqual(manifest.map((m) => m.name));
  let offset = 0;
  for (const m of manifest) {
    const t = sd.get(m.name)!;
    expect({ key: m.name, dtype: t.dtype, shape: t.shape }).toEqual({ key: m.name, dtype: m.dtype, shape: m.shape });
    const values = await t.data();
    const ours = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
    const theirs = bytes.subarray(offset, offset + m.nbytes);
    if (!ours.equals(theirs)) throw new Error(`tensor ${m.name} differs from Python's`);
    offset += m.nbytes;
  }
}

function disposeAll(sd: Map<string, Tensor>): void {
  for (const t of sd.values()) t.dispose();
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tt-serialization-"));
  runPython(MAKE_FILES, [dir]);
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("load", () => {
  for (const format of ["zip", "legacy"]) {
    test(`reads a resnet18 state dict in the ${format} format: 122 entries in torchvision's order, exact values`, async () => {
      const sd = await load(path.join(dir, `resnet_${format}.pth`));
      expect(sd.size).toBe(122);
      expect([...sd.keys()].slice(0, 6)).toEqual([
        "conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked",
      ]);
      expect(sd.get("bn1.num_batches_tracked")!.dtype).toBe("int64");
      expect(sd.get("fc.weight")!.shape).toEqual([1000, 512]);
      await expectSameAsPython(sd, "resnet");
      disposeAll(sd);
    });

    test(`reads every dtype, views, scalars and empty tensors in the ${format} format`, async () => {
      const sd = await load(path.join(dir, `mixed_${format}.pth`));
      await expectSameAsPython(sd, "mixed");
      expect(sd.get("transposed")!.shape).toEqual([5, 6]);
      expect(sd.get("scalar")!.shape).toEqual([]);
      disposeAll(sd);
    });
  }

  test("reads a file pickled with protocol 4 (frames, memoize, stack globals)", async () => {
    const sd = await load(path.join(dir, "mixed_p4.pth"));
    await expectSameAsPython(sd, "mixed");
    disposeAll(sd);
  });

  test("refuses a pickle that calls os.system, names the global and runs nothing", async () => {
    await expect(load(path.join(dir, "evil.pth"))).rejects.toThrow(/refusing global (os|posix)\.system in .*evil\.pth/);
    expect(fs.existsSync(path.join(dir, "MARKER"))).toBe(false);
  });

  test("rejects a truncated zip file, naming it", async () => {
    await expect(load(path.join(dir, "truncated_zip.pth"))).rejects.toThrow(/truncated_zip\.pth/);
  });

  test("rejects a truncated legacy file, naming it", async () => {
    await expect(load(path.join(dir, "truncated_legacy.pth"))).rejects.toThrow(/truncated_legacy\.pth: truncated data/);
  });

  test("rejects a legacy file with the wrong magic number", async () => {
    await expect(load(path.join(dir, "wrong_magic.pth"))).rejects.toThrow(/wrong_magic\.pth: not a PyTorch file \(wrong magic number\)/);
  });

  test("rejects a storage too short for its tensor, naming the file and the key", async () => {
    await expect(load(path.join(dir, "short_storage.pth"))).rejects.toThrow(/short_storage\.pth: storage of tensor w is too short/);
  });

  test("rejects a file that is neither format and a missing file", async () => {
    const junk = path.join(dir, "junk.pth");
    fs.writeFileSync(junk, "hello world, not a model");
    await expect(load(junk)).rejects.toThrow(/junk\.pth: not a PyTorch/);
    await expect(load(path.join(dir, "nope.pth"))).rejects.toThrow(/nope\.pth/);
    await expect(load(42 as unknown as string)).rejects.toThrow("Expected non-empty string for path but received 42 of type number");
  });
});

describe("safetensors", () => {
  test("our save then our load gives identical tensors, in order, with metadata", async () => {
    const sd = await load(path.join(dir, "mixed_zip.pth"));
    const file = path.join(dir, "mixed.safetensors");
    await save(sd, file, { classes: '["ants","bees"]', epochs: "25" });
    const back = await load(file);
    expect([...back.keys()]).toEqual([...sd.keys()]);
    await expectSameAsPython(back, "mixed");
    expect(await loadSafetensorsMetadata(file)).toEqual({ classes: '["ants","bees"]', epochs: "25" });
    expect(fs.readdirSync(dir).filter((f) => f.includes(".tmp-"))).toEqual([]);
    disposeAll(sd);
    disposeAll(back);
  });

  test("Python reads our file (struct + json + torch.frombuffer) with exact values and dtypes", async () => {
    const sd = await load(path.join(dir, "mixed_legacy.pth"));
    const file = path.join(dir, "py.safetensors");
    await save(sd, file, { note: "hi" });
    disposeAll(sd);
    const result = JSON.parse(runPython(PY_CHECK_SAFETENSORS, [file, path.join(dir, "mixed_zip.pth")])) as {
      metadata: Record<string, string>; keys: string[]; mismatch: string[];
    };
    expect(result.mismatch).toEqual([]);
    expect(result.keys).toHaveLength(15);
    expect(result.metadata).toEqual({ note: "hi" });
  });

  test("saves a record, and rejects bad arguments before writing", async () => {
    const file = path.join(dir, "record.safetensors");
    const t = tensor(new Float32Array([1, 2, 3, 4]), [2, 2]);
    await save({ a: t }, file);
    const back = await load(file);
    expect([...(await back.get("a")!.data())]).toEqual([1, 2, 3, 4]);
    await expect(save({ a: 3 as unknown as Tensor }, path.join(dir, "bad.safetensors"))).rejects.toThrow(
      'Expected Tensor for stateDict["a"] but received 3 of type number',
    );
    await expect(save({ a: t }, path.join(dir, "m.safetensors"), { n: 1 as unknown as string })).rejects.toThrow(
      "Expected record of strings for metadata",
    );
    expect(fs.existsSync(path.join(dir, "bad.safetensors"))).toBe(false);
    await expect(save({ a: t }, path.join(dir, "no-such-dir", "x.safetensors"))).rejects.toThrow(/no-such-dir/);
    t.dispose();
  });

  test("rejects a truncated safetensors file and out-of-range offsets, naming the file", async () => {
    const file = path.join(dir, "record.safetensors");
    const raw = fs.readFileSync(file);
    const cut = path.join(dir, "cut.safetensors");
    fs.writeFileSync(cut, raw.subarray(0, raw.length - 4));
    await expect(load(cut)).rejects.toThrow(/cut\.safetensors: tensor a: data_offsets end at 16/);
    const header = Buffer.from(JSON.stringify({ a: { dtype: "F32", shape: [3], data_offsets: [0, 16] } }));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    const bad = path.join(dir, "badshape.safetensors");
    fs.writeFileSync(bad, Buffer.concat([len, header, Buffer.alloc(16)]));
    await expect(load(bad)).rejects.toThrow(/badshape\.safetensors: tensor a: storage is 16 bytes/);
  });
});
