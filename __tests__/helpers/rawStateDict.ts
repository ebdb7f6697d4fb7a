// Moves tensors from Python to us without going through our own file readers,
// so model tests do not depend on the serialization code: Python writes raw
// little-endian bytes and a JSON manifest.
import * as fs from "fs";
import * as path from "path";
import { addon, DtypeName } from "../../lib/native";
import { contiguousStrides } from "../../lib/serialization/storage";
import { Tensor } from "../../lib/tensor";

export const PY_WRITE_RAW = `
import json, torch
def write_raw(folder, name, tensors):
    manifest = []
    with open(folder + "/" + name + ".bin", "wb") as f:
        for key, value in tensors.items():
            data = value.detach().contiguous().cpu().numpy().tobytes()
            manifest.append({"name": key, "dtype": str(value.dtype).replace("torch.", ""), "shape": list(value.shape), "nbytes": len(data)})
            f.write(data)
    with open(folder + "/" + name + ".json", "w") as f:
        json.dump(manifest, f)
`;

const DTYPES: Record<string, DtypeName> = { float32: "float32", float64: "float64", int64: "int64", int32: "int32", uint8: "uint8" };

export function readRaw(folder: string, name: string): Map<string, Tensor> {
  const manifest = JSON.parse(fs.readFileSync(path.join(folder, `${name}.json`), "utf8")) as {
    name: string; dtype: string; shape: number[]; nbytes: number;
  }[];
  const bytes = fs.readFileSync(path.join(folder, `${name}.bin`));
  const out = new Map<string, Tensor>();
  let offset = 0;
  for (const entry of manifest) {
    const view = new Uint8Array(bytes.buffer, bytes.byteOffset + offset, entry.nbytes);
    out.set(entry.name, addon.fromBytes(view, DTYPES[entry.dtype], entry.shape, contiguousStrides(entry.shape), 0));
    offset += entry.nbytes;
  }
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}
