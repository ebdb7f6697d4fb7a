// Reads state dicts written by torch.save (zip and legacy formats) and
// safetensors files, telling them apart by their first bytes, not their names.
// By default the file is mapped and stored storages become tensors over the
// mapping, as torch.load(mmap=True) makes them; deflated ones are copied.
import * as fs from "fs";
import { checkString } from "../check";
import type { DtypeName } from "../native";
import type { Tensor } from "../tensor";
import { PyDict, storageDtype, TensorRef, unpickle } from "./pickle";
import { FileBytes, mapFileBytes, releaseFileBytes } from "./mappedFile";
import { parseSafetensors } from "./safetensors";
import { ELEMENT_SIZE, makeTensor } from "./storage";
import { readZipDirectory, readZipEntry, ZipDirectoryEntry } from "./zipDirectory";
import { openZip } from "./zipReader";
import { checkLoadOptions, LoadOptions, moveStateDict } from "./mapLocation";

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

interface StorageRef {
  key: string;
  dtype: DtypeName;
  /** Legacy view storages start this many elements into their root storage. */
  offset: number;
}

function isStorageRef(value: unknown): value is StorageRef {
  return typeof value === "object" && value !== null && "key" in value && "dtype" in value && "offset" in value;
}

// For a message only: a hostile pickle can make a persistent id that contains itself.
function describePid(pid: unknown): string {
  try {
    return JSON.stringify(pid, (_, v) => (typeof v === "bigint" ? String(v) : v))?.slice(0, 200) ?? String(pid);
  } catch {
    return "(a value that contains itself)";
  }
}

function storageRef(file: string, pid: unknown, arity: number): StorageRef {
  if (!Array.isArray(pid) || pid.length !== arity || pid[0] !== "storage" || typeof pid[2] !== "string") {
    throw new Error(`${file}: unexpected persistent id ${describePid(pid)}`);
  }
  const dtype = storageDtype(pid[1]);
  if (!dtype) throw new Error(`${file}: unsupported storage type in persistent id for storage ${pid[2]}`);
  return { key: pid[2], dtype, offset: 0 };
}

/** The pickled state dict as (name, tensor reference) pairs, in file order. */
function stateDictRefs(file: string, value: unknown): [string, TensorRef & { storage: StorageRef }][] {
  if (!(value instanceof PyDict)) throw new Error(`${file}: does not hold a state dict (its pickle is not a dict)`);
  const out: [string, TensorRef & { storage: StorageRef }][] = [];
  for (const [key, ref] of value) {
    if (typeof key !== "string") throw new Error(`${file}: state dict key ${String(key)} is not a string`);
    const isTensor = typeof ref === "object" && ref !== null && (ref as TensorRef).kind === "tensor";
    if (!isTensor || !isStorageRef((ref as TensorRef).storage)) {
      throw new Error(`${file}: entry ${key} is not a tensor (only state dicts of tensors can be read)`);
    }
    out.push([key, ref as TensorRef & { storage: StorageRef }]);
  }
  return out;
}

function buildTensors(
  file: string, refs: [string, TensorRef & { storage: StorageRef }][], storages: Map<string, Uint8Array>, source?: FileBytes,
): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  try {
    for (const [key, ref] of refs) {
      const bytes = storages.get(ref.storage.key);
      if (!bytes) throw new Error(`${file}: storage ${ref.storage.key} of tensor ${key} is missing`);
      out.set(key, makeTensor(file, key, bytes, {
        dtype: ref.storage.dtype, shape: ref.size, strides: ref.stride, storageOffset: ref.storage.offset + ref.storageOffset,
      }, source));
    }
  } catch (err) {
    for (const t of out.values()) t.dispose();
    throw err;
  }
  return out;
}

/** What loadZip needs of an archive, from the file (zipReader.ts) or from its mapping (zipDirectory.ts). */
interface Archive {
  entries: { fileName: string; uncompressedSize: number }[];
  read(entry: Archive["entries"][number]): Promise<Uint8Array>;
  /** For storages: into `scratch` when it fits (the caller copies before reusing it), or a view of the mapping. */
  readStored(entry: Archive["entries"][number], scratch?: Buffer): Promise<Uint8Array>;
  close(): void;
}

async function openArchive(file: string, source?: FileBytes): Promise<Archive> {
  if (!source) return openZip(file);
  const bytes = source.bytes;
  const entries = readZipDirectory(file, bytes);
  const read = (entry: Archive["entries"][number]) => readZipEntry(file, bytes, entry as ZipDirectoryEntry);
  return { entries, read, readStored: read, close: () => undefined };
}

const text = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");

/** `source`: the whole file, mapped; without it, entries are read from the file and copied. */
async function loadZip(file: string, source?: FileBytes): Promise<Map<string, Tensor>> {
  const zip = await openArchive(file, source);
  try {
    const pkl = zip.entries.find((e) => /^[^/]+\/data\.pkl$/.test(e.fileName));
    if (!pkl) throw new Error(`${file}: zip archive has no <name>/data.pkl, so it is not a torch.save file`);
    const prefix = pkl.fileName.slice(0, -"data.pkl".length);
    const byteorder = zip.entries.find((e) => e.fileName === `${prefix}byteorder`);
    if (byteorder && text(await zip.read(byteorder)).trim() !== "little") {
      throw new Error(`${file}: big-endian torch.save files are not supported`);
    }
    const { value } = unpickle(await zip.read(pkl), { fileName: file, persistentLoad: (pid) => storageRef(file, pid, 5) });
    const refs = stateDictRefs(file, value);
    const byName = new Map(zip.entries.map((e) => [e.fileName, e]));
    const byStorage = new Map<string, [string, TensorRef & { storage: StorageRef }][]>();
    for (const item of refs) {
      const list = byStorage.get(item[1].storage.key);
      if (list) list.push(item);
      else byStorage.set(item[1].storage.key, [item]);
    }
    // Unmapped, each storage is read into one reused buffer and copied into its
    // tensors at once: no second whole-file buffer, and fresh memory is touched
    // only once. Mapped, stored storages are views of the mapping and nothing is copied.
    const entries = new Map([...byStorage.keys()].map((key) => {
      const entry = byName.get(`${prefix}data/${key}`);
      if (!entry) throw new Error(`${file}: storage ${prefix}data/${key} is missing from the archive`);
      return [key, entry];
    }));
    const scratch = source ? undefined : Buffer.allocUnsafeSlow(Math.max(0, ...[...entries.values()].map((e) => e.uncompressedSize)));
    const made = new Map<string, Tensor>();
    try {
      for (const [key, users] of byStorage) {
        const entry = entries.get(key)!;
        const bytes = await zip.readStored(entry, scratch);
        for (const [name, tensor] of buildTensors(file, users, new Map([[key, bytes]]), source)) made.set(name, tensor);
      }
    } catch (err) {
      for (const t of made.values()) t.dispose();
      throw err;
    }
    return new Map(refs.map(([name]) => [name, made.get(name)!]));
  } finally {
    zip.close();
  }
}

function loadLegacy(file: string, data: Uint8Array, source?: FileBytes): Map<string, Tensor> {
  const magic = unpickle(data, { fileName: file });
  if (magic.value !== LEGACY_MAGIC) throw new Error(`${file}: not a PyTorch file (wrong magic number)`);
  const protocol = unpickle(data, { fileName: file }, magic.end);
  if (protocol.value !== LEGACY_PROTOCOL) throw new Error(`${file}: unsupported legacy protocol version ${String(protocol.value)}`);
  const sysInfo = unpickle(data, { fileName: file }, protocol.end);
  if (sysInfo.value instanceof PyDict && sysInfo.value.get("little_endian") === false) {
    throw new Error(`${file}: big-endian torch.save files are not supported`);
  }
  const dtypes = new Map<string, DtypeName>();
  const main = unpickle(data, {
    fileName: file,
    persistentLoad: (pid) => {
      const ref = storageRef(file, pid, 6);
      dtypes.set(ref.key, ref.dtype);
      const view = (pid as unknown[])[5];
      if (view === null) return ref;
      // Old files describe a view as (view_key, offset, size) into the root storage.
      if (!Array.isArray(view) || typeof view[1] !== "number") throw new Error(`${file}: malformed storage view for ${ref.key}`);
      return { ...ref, offset: view[1] };
    },
  }, sysInfo.end);
  const refs = stateDictRefs(file, main.value);
  const keys = unpickle(data, { fileName: file }, main.end);
  if (!Array.isArray(keys.value) || !keys.value.every((k) => typeof k === "string")) {
    throw new Error(`${file}: malformed list of storage keys`);
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const storages = new Map<string, Uint8Array>();
  let pos = keys.end;
  for (const key of keys.value as string[]) {
    const dtype = dtypes.get(key);
    if (!dtype) throw new Error(`${file}: storage ${key} is listed but never used`);
    if (pos + 8 > data.length) throw new Error(`${file}: truncated data: storage ${key} is missing`);
    const count = Number(view.getBigInt64(pos, true));
    const nbytes = count * ELEMENT_SIZE[dtype];
    pos += 8;
    if (count < 0 || pos + nbytes > data.length) {
      throw new Error(`${file}: truncated data: storage ${key} needs ${nbytes} bytes but only ${data.length - pos} remain`);
    }
    storages.set(key, data.subarray(pos, pos + nbytes));
    pos += nbytes;
  }
  return buildTensors(file, refs, storages, source);
}

async function firstBytes(file: string, n: number): Promise<Buffer> {
  const handle = await fs.promises.open(file, "r");
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await handle.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Reads a state dict (name -> CPU tensor, in file order) from a torch.save file
 * (zip or legacy format) or a safetensors file.
 */
export async function load(path: string, options?: LoadOptions): Promise<Map<string, Tensor>> {
  const { mapLocation, mmap = true } = checkLoadOptions(options);
  const sd = await loadOnCpu(path, mmap);
  return mapLocation === undefined ? sd : moveStateDict(sd, mapLocation);
}

async function loadOnCpu(path: string, mmap: boolean): Promise<Map<string, Tensor>> {
  checkString(path, "path");
  // Mapped, the format is read from the mapping: one call off the JS thread, not three.
  const source = mmap ? await mapFileBytes(path) : null;
  let head: Uint8Array;
  if (source) {
    head = source.bytes.subarray(0, 9);
  } else {
    try {
      head = await firstBytes(path, 9);
    } catch (err) {
      throw new Error(`cannot read ${path}: ${(err as Error).message}`);
    }
  }
  const isZip = head.length >= 4 && new DataView(head.buffer, head.byteOffset, 4).getUint32(0, true) === 0x04034b50;
  const isLegacy = head.length >= 2 && head[0] === 0x80 && head[1] <= 5;
  const isSafetensors = head.length === 9 && head[8] === 0x7b;
  if (!isZip && !isLegacy && !isSafetensors) {
    if (source) releaseFileBytes(source);
    throw new Error(`${path}: not a PyTorch (.pth/.pt) or safetensors file (unrecognised first bytes)`);
  }
  if (!source) {
    // Unmapped, a zip is read entry by entry and never held whole.
    if (isZip) return loadZip(path);
    const data = await fs.promises.readFile(path);
    return isLegacy ? loadLegacy(path, data) : parseSafetensors(path, data);
  }
  try {
    if (isZip) return await loadZip(path, source);
    if (isLegacy) return loadLegacy(path, source.bytes, source);
    return parseSafetensors(path, source.bytes, source);
  } finally {
    releaseFileBytes(source);
  }
}
