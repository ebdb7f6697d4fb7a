// tt.save to .pth: torch.save's zip format, read back by Python's
// torch.load(f, weights_only=True) with equal values, by our own load, and
// with a data.pkl byte-identical to the one torch.save writes for the same tensors.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { load, save } from "../lib/serialization";
import { tensor, Tensor } from "../lib/tensor";
import { runPython } from "./helpers/python";

const MAKE_REFERENCE = String.raw`
import collections, sys, torch
torch.manual_seed(0)
big = torch.randn(6, 5)
sd = collections.OrderedDict([
    ("f32", torch.randn(3, 4)),
    ("f64", torch.randn(5, dtype=torch.float64)),
    ("f16", torch.randn(2, 3).half()),
    ("bf16", torch.randn(7).bfloat16()),
    ("i64", torch.tensor([-(2**40), 0, 2**53 + 1], dtype=torch.int64)),
    ("i32", torch.randint(-1000, 1000, (4, 2), dtype=torch.int32)),
    ("i16", torch.tensor([-32768, 7, 32767], dtype=torch.int16)),
    ("i8", torch.tensor([-128, -1, 0, 127], dtype=torch.int8)),
    ("u8", torch.tensor([0, 1, 200, 255], dtype=torch.uint8)),
    ("bool", torch.tensor([True, False, True])),
    ("scalar", torch.tensor(3.5)),
    ("empty", torch.zeros(0, 3)),
    ("transposed", big.t()),
    ("4d", torch.randn(2, 3, 2, 2)),
    # over 65535 elements (a 4-byte BININT numel) and dims over 255 (BININT2)
    ("wide", torch.randn(300, 70000 // 300 + 1)),
])
# Over 1000 entries: the pickle's SETITEMS comes in batches, the memo passes 256 (LONG_BINPUT/LONG_BINGET).
for i in range(1001):
    sd["many.%d" % i] = torch.full((1,), float(i))
torch.save(sd, sys.argv[1], _use_new_zipfile_serialization=False)
`;

const CHECK_OURS = String.raw`
import collections, io, json, struct, sys, torch, zipfile
ours, reference = sys.argv[1], sys.argv[2]
sd = torch.load(ours, weights_only=True)
ref = torch.load(reference)
mismatch = [k for k in ref if k not in sd or sd[k].dtype != ref[k].dtype or sd[k].shape != ref[k].shape or not torch.equal(sd[k], ref[k])]
# torch.save of the same tensors, each contiguous in a storage of its own, as ours are
buf = io.BytesIO()
torch.save(collections.OrderedDict((k, v.clone().contiguous()) for k, v in sd.items()), buf)
def pickle_of(z):
    return z.read(next(n for n in z.namelist() if n.endswith("/data.pkl")))
with zipfile.ZipFile(ours) as z:
    bad_crc = z.testzip()
    names = z.namelist()
    raw = open(ours, "rb").read()
    misaligned = []
    for info in z.infolist():
        name_len, extra_len = struct.unpack("<HH", raw[info.header_offset + 26:info.header_offset + 30])
        start = info.header_offset + 30 + name_len + extra_len
        if start % 64:
            misaligned.append(info.filename)
    same_pickle = pickle_of(z) == pickle_of(zipfile.ZipFile(buf))
print(json.dumps({"torch": torch.__version__, "type": type(sd).__name__, "keys": list(sd.keys()), "mismatch": mismatch,
                  "badCrc": bad_crc, "names": names[:3] + names[-2:], "misaligned": misaligned, "samePickle": same_pickle}))
`;

let dir: string;
let sd: Map<string, Tensor>;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tt-savepth-"));
  runPython(MAKE_REFERENCE, [path.join(dir, "reference.pth")]);
  sd = await load(path.join(dir, "reference.pth"));
});

afterAll(() => {
  for (const t of sd.values()) t.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Check {
  torch: string; type: string; keys: string[]; mismatch: string[]; badCrc: string | null;
  names: string[]; misaligned: string[]; samePickle: boolean;
}

describe("save to .pth", () => {
  // One file and one Python run for the first two tests.
  let checked: Check | undefined;
  const check = async (): Promise<Check> => {
    if (!checked) {
      const file = path.join(dir, "ours.pth");
      await save(sd, file);
      checked = JSON.parse(runPython(CHECK_OURS, [file, path.join(dir, "reference.pth")])) as Check;
    }
    return checked;
  };

  test("torch.load(weights_only=True) reads every dtype with equal values, in order; data 64-byte aligned; CRCs good", async () => {
    const c = await check();
    expect(c.type).toBe("OrderedDict");
    expect(c.keys).toEqual([...sd.keys()]);
    expect(c.mismatch).toEqual([]);
    expect(c.badCrc).toBeNull();
    expect(c.misaligned).toEqual([]);
    expect(c.names).toEqual(["archive/data.pkl", "archive/byteorder", "archive/data/0", "archive/data/999", "archive/version"]);
  });

  test("its data.pkl is byte for byte what torch.save pickles for the same tensors", async () => {
    const c = await check();
    expect({ torch: c.torch, samePickle: c.samePickle }).toEqual({ torch: c.torch, samePickle: true });
  });

  test("our own load reads it back: same names, dtypes, shapes and bytes", async () => {
    const file = path.join(dir, "back.pth");
    await save(sd, file);
    const back = await load(file);
    try {
      expect([...back.keys()]).toEqual([...sd.keys()]);
      for (const [key, t] of sd) {
        const b = back.get(key)!;
        expect({ key, dtype: b.dtype, shape: b.shape }).toEqual({ key, dtype: t.dtype, shape: t.shape });
        expect(Buffer.from((await b.data()).buffer).equals(Buffer.from((await t.data()).buffer))).toBe(true);
      }
    } finally {
      for (const t of back.values()) t.dispose();
    }
  });

  test("the format follows the extension (.pth, .pt) unless the format option says otherwise", async () => {
    const t = tensor(new Float32Array([1, 2, 3]), [3]);
    const cases: [string, { format?: "pth" | "safetensors" } | undefined, string][] = [
      ["a.pth", undefined, "PK"], ["a.PT", undefined, "PK"], ["a.safetensors", undefined, "safetensors"],
      ["a.bin", { format: "pth" }, "PK"], ["b.pth", { format: "safetensors" }, "safetensors"],
    ];
    for (const [name, options, kind] of cases) {
      const file = path.join(dir, name);
      await save({ w: t }, file, undefined, options);
      const head = fs.readFileSync(file).subarray(0, 2).toString("latin1");
      expect({ name, kind: head === "PK" ? "PK" : "safetensors" }).toEqual({ name, kind });
      const back = await load(file);
      expect([...(await back.get("w")!.data())]).toEqual([1, 2, 3]);
      back.get("w")!.dispose();
    }
    t.dispose();
  });

  test("rejects a bad format, metadata for .pth and a bad state dict before writing; leaves no temporary file", async () => {
    const t = tensor(new Float32Array([1]), [1]);
    const file = path.join(dir, "refused.pth");
    await expect(save({ w: t }, file, undefined, { format: "onnx" as "pth" })).rejects.toThrow(
      'Expected "pth" or "safetensors" for options.format but received "onnx" of type string',
    );
    await expect(save({ w: t }, file, undefined, { fromat: "pth" } as object)).rejects.toThrow('Unknown option "fromat" for save; did you mean "format"?');
    await expect(save({ w: t }, file, { a: "b" })).rejects.toThrow(/Expected no metadata \(a \.pth file has no place for it/);
    await expect(save({ w: 3 as unknown as Tensor }, file)).rejects.toThrow('Expected Tensor for stateDict["w"] but received 3');
    expect(fs.existsSync(file)).toBe(false);
    await expect(save({ w: t }, path.join(dir, "no-such-dir", "x.pth"))).rejects.toThrow(/cannot write .*no-such-dir.*x\.pth/);
    expect(fs.readdirSync(dir).filter((f) => f.includes(".tmp-"))).toEqual([]);
    t.dispose();
  });

  test("replaces an existing file whole: a reader sees the old state dict or the new one", async () => {
    const file = path.join(dir, "replace.pth");
    const a = tensor(new Float32Array([1, 2]), [2]);
    const b = tensor(new Float32Array([3, 4, 5]), [3]);
    await save({ w: a }, file);
    await save({ w: b }, file);
    const back = await load(file);
    expect([...(await back.get("w")!.data())]).toEqual([3, 4, 5]);
    back.get("w")!.dispose();
    a.dispose();
    b.dispose();
  });
});
