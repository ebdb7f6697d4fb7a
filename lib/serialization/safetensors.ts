// safetensors: an 8-byte little-endian header length, a JSON header naming each
// tensor's dtype, shape and byte range, then the bytes. Writing is all or
// nothing (atomicFile.ts).
import * as fs from "fs";
import { checkString, invalid } from "../check";
import type { DtypeName } from "../native";
import { checkTensor, Tensor } from "../tensor";
import { writeChunksAtomic } from "./atomicFile";
import { FileBytes, fileBytes, releaseFileBytes } from "./mappedFile";
import { contiguousStrides, ELEMENT_SIZE, makeTensor } from "./storage";
import { tensorBytes } from "./tensorBytes";

const TO_DTYPE: Record<string, DtypeName> = {
  F32: "float32", F64: "float64", F16: "float16", BF16: "bfloat16", I64: "int64", I32: "int32", I16: "int16",
  I8: "int8", U8: "uint8", BOOL: "bool",
};
const FROM_DTYPE = Object.fromEntries(Object.entries(TO_DTYPE).map(([k, v]) => [v, k])) as Record<DtypeName, string>;

// Headers are small; a huge length means a corrupt or hostile file, not a big model.
const MAX_HEADER = 100 * 1024 * 1024;

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

function parseHeader(file: string, data: Uint8Array, fileSize: number): { header: Record<string, unknown>; dataStart: number } {
  if (data.length < 8) throw new Error(`${file}: truncated safetensors file (no header length)`);
  const n = new DataView(data.buffer, data.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER) || 8 + Number(n) > fileSize) {
    throw new Error(`${file}: truncated or corrupt safetensors file (header of ${n} bytes, file of ${fileSize})`);
  }
  const end = 8 + Number(n);
  if (data.length < end) throw new Error(`${file}: truncated safetensors file (header cut short)`);
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(data.buffer, data.byteOffset + 8, Number(n)).toString("utf8"));
  } catch (err) {
    throw new Error(`${file}: safetensors header is not valid JSON (${(err as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new Error(`${file}: safetensors header is not a JSON object`);
  }
  return { header: header as Record<string, unknown>, dataStart: end };
}

function checkEntry(file: string, key: string, value: unknown, dataLength: number): { dtype: DtypeName; shape: number[]; begin: number; end: number } {
  const e = value as HeaderEntry;
  const bad = (why: string) => new Error(`${file}: tensor ${key}: ${why}`);
  if (typeof e !== "object" || e === null) throw bad("header entry is not an object");
  const dtype = TO_DTYPE[e.dtype];
  if (!dtype) throw bad(`unsupported dtype ${JSON.stringify(e.dtype)}`);
  if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) throw bad("malformed shape");
  const [begin, end] = Array.isArray(e.data_offsets) ? e.data_offsets : [NaN, NaN];
  if (!Number.isInteger(begin) || !Number.isInteger(end) || begin < 0 || end < begin) throw bad("malformed data_offsets");
  if (end > dataLength) throw bad(`data_offsets end at ${end} but the file holds ${dataLength} bytes of data (truncated?)`);
  const numel = e.shape.reduce((a, b) => a * b, 1);
  if (numel * ELEMENT_SIZE[dtype] !== end - begin) {
    throw bad(`storage is ${end - begin} bytes but shape [${e.shape.join(", ")}] of ${dtype} needs ${numel * ELEMENT_SIZE[dtype]}`);
  }
  return { dtype, shape: e.shape, begin, end };
}

/** Tensors of a whole safetensors file held in `data`, in the order of their bytes. */
export function parseSafetensors(file: string, data: Uint8Array, source?: FileBytes): Map<string, Tensor> {
  const { header, dataStart } = parseHeader(file, data, data.length);
  const body = data.subarray(dataStart);
  const entries = Object.entries(header)
    .filter(([key]) => key !== "__metadata__")
    .map(([key, value]) => ({ key, ...checkEntry(file, key, value, body.length) }))
    .sort((a, b) => a.begin - b.begin);
  const out = new Map<string, Tensor>();
  try {
    for (const e of entries) {
      out.set(e.key, makeTensor(file, e.key, body.subarray(e.begin, e.end), {
        dtype: e.dtype, shape: e.shape, strides: contiguousStrides(e.shape), storageOffset: 0,
      }, source));
    }
  } catch (err) {
    for (const t of out.values()) t.dispose();
    throw err;
  }
  return out;
}

/** The `__metadata__` record of a safetensors file (string to string), without reading its tensors. */
export async function loadSafetensorsMetadata(path: string): Promise<Record<string, string>> {
  checkString(path, "path");
  const handle = await fs.promises.open(path, "r");
  try {
    const { size } = await handle.stat();
    const lengthBytes = Buffer.alloc(8);
    await handle.read(lengthBytes, 0, 8, 0);
    const n = Number(lengthBytes.readBigUInt64LE(0));
    const head = Buffer.alloc(Math.min(8 + n, 8 + MAX_HEADER, size));
    await handle.read(head, 0, head.length, 0);
    const { header } = parseHeader(path, head, size);
    const meta = header.__metadata__ ?? {};
    if (typeof meta !== "object" || meta === null || Object.values(meta).some((v) => typeof v !== "string")) {
      throw new Error(`${path}: __metadata__ is not a record of strings`);
    }
    return { ...(meta as Record<string, string>) };
  } finally {
    await handle.close();
  }
}

/**
 * Writes tensors to a safetensors file that Python's safetensors.torch.load_file
 * reads; `metadata` becomes the `__metadata__` record. The file appears whole or
 * not at all.
 */
export async function saveSafetensors(
  stateDict: Map<string, Tensor> | Record<string, Tensor>,
  path: string,
  metadata?: Record<string, string>,
): Promise<void> {
  checkString(path, "path");
  const isRecord = typeof stateDict === "object" && stateDict !== null && Object.getPrototypeOf(stateDict) === Object.prototype;
  if (!(stateDict instanceof Map) && !isRecord) throw invalid("Map or record of Tensors", "stateDict", stateDict);
  const items = stateDict instanceof Map ? [...stateDict] : Object.entries(stateDict);
  if (metadata !== undefined) {
    if (typeof metadata !== "object" || metadata === null || Object.values(metadata).some((v) => typeof v !== "string")) {
      throw invalid("record of strings", "metadata", metadata);
    }
  }
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [key, value] of items) {
    if (typeof key !== "string" || key === "" || key === "__metadata__") throw invalid("tensor name", "stateDict key", key);
    const t = checkTensor(value, `stateDict[${JSON.stringify(key)}]`);
    const bytes = await tensorBytes(t);
    header[key] = { dtype: FROM_DTYPE[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  // The format pads the header with spaces so the data starts 8-byte aligned.
  json += " ".repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, "utf8");
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(headerBytes.length));

  await writeChunksAtomic(path, [prefix, headerBytes, ...chunks]);
}

/** Reads a safetensors file (name -> CPU tensor), over a mapping of it where the platform allows. */
export async function loadSafetensors(path: string): Promise<Map<string, Tensor>> {
  checkString(path, "path");
  const source = await fileBytes(path, true);
  try {
    return parseSafetensors(path, source.bytes, source);
  } finally {
    releaseFileBytes(source);
  }
}
