// Writes a state dict as torch.save does (its zip format), so that Python's
// torch.load(f, weights_only=True) reads it: "archive/data.pkl" pickles an
// OrderedDict of torch._utils._rebuild_tensor_v2 calls at protocol 2, each
// tensor's storage a persistent id ("storage", torch.FloatStorage, key, "cpu",
// numel) whose bytes are the record "archive/data/<key>".
import type { DtypeName } from "../native";
import type { Tensor } from "../tensor";
import { writeChunksAtomic } from "./atomicFile";
import { PickleWriter } from "./pickleWriter";
import { contiguousStrides } from "./storage";
import { tensorBytes } from "./tensorBytes";
import { ZipRecord, zipChunks } from "./zipWriter";

const STORAGE_TYPES: Record<DtypeName, string> = {
  float32: "FloatStorage", float64: "DoubleStorage", float16: "HalfStorage", bfloat16: "BFloat16Storage",
  int64: "LongStorage", int32: "IntStorage", int16: "ShortStorage", int8: "CharStorage", uint8: "ByteStorage",
  bool: "BoolStorage",
};

// torch.save names the folder inside the zip after the file (1.x) or "archive"
// (2.x); torch.load takes whatever the first record says.
const ARCHIVE = "archive";
// The file format version torch 1.13 and 2.x write for a plain torch.save.
const FORMAT_VERSION = "3\n";

/** data.pkl for `items`: every tensor contiguous in its own storage, keyed "0", "1", ... in order. */
export function stateDictPickle(items: readonly (readonly [string, Tensor])[]): Buffer {
  const p = new PickleWriter();
  const emptyOrderedDict = () => p.reduce(() => {
    p.global("collections", "OrderedDict");
    p.tuple(0, () => undefined);
  });
  emptyOrderedDict();
  p.setItems(items.map(([key, t], i) => [key, t, String(i)] as const), ([key, t, storageKey]) => {
    p.str(key);
    const numel = t.shape.reduce((a, b) => a * b, 1);
    const stride = contiguousStrides(t.shape);
    p.reduce(() => {
      p.global("torch._utils", "_rebuild_tensor_v2");
      p.tuple(6, () => {
        p.persistentId(() => p.tuple(5, () => {
          // "storage" and "cpu" are literals in torch.save, so Python memoises them once.
          p.str("storage", true);
          p.global("torch", STORAGE_TYPES[t.dtype]);
          p.str(storageKey);
          p.str("cpu", true);
          p.int(numel);
        }));
        p.int(0); // storage offset
        p.tuple(t.shape.length, () => t.shape.forEach((d) => p.int(d)));
        p.tuple(stride.length, () => stride.forEach((s) => p.int(s)));
        p.false(); // requires_grad
        emptyOrderedDict(); // backward hooks
      });
    });
  });
  return p.finish();
}

/** Writes `items` to `path` in torch.save's zip format, atomically. */
export async function savePth(items: readonly (readonly [string, Tensor])[], path: string): Promise<void> {
  const storages: ZipRecord[] = [];
  for (const [i, [, t]] of items.entries()) storages.push({ name: `${ARCHIVE}/data/${i}`, data: await tensorBytes(t) });
  // torch.save writes storages in the order of their keys as strings: 0, 1, 10, 11, ..., 2.
  storages.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const records: ZipRecord[] = [
    { name: `${ARCHIVE}/data.pkl`, data: stateDictPickle(items) },
    // Read by torch >= 2.1 and by our own loader; older torch ignores it and assumes little-endian.
    { name: `${ARCHIVE}/byteorder`, data: Buffer.from("little") },
    ...storages,
    { name: `${ARCHIVE}/version`, data: Buffer.from(FORMAT_VERSION) },
  ];
  await writeChunksAtomic(path, zipChunks(path, records));
}
