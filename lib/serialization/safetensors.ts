// safetensors: an 8-byte little-endian header length, a JSON header naming each
// tensor's dtype, shape and byte range, then the bytes. Writing is all or
// nothing: a temporary file in the same folder, fsync, then rename.
import * as fs from "fs";
import * as nodePath from "path";
import { checkString, invalid } from "../check";
import type { DtypeName, TypedArray } from "../native";
import { checkTensor, Tensor } from "../tensor";
import { contiguousStrides, ELEMENT_SIZE, makeTensor } from "./storage";

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
export function parseSafetensors(file: string, data: Uint8Array): Map<string, Tensor> {
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
      }));
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

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

// Exact for every value that came from a float16 (round to nearest even otherwise).
function toHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    let half = m >>> shift;
    const rest = m & ((1 << shift) - 1), mid = 1 << (shift - 1);
    if (rest > mid || (rest === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** Raw little-endian bytes of a tensor, in its own dtype. */
async function tensorBytes(t: Tensor): Promise<Uint8Array> {
  const values: TypedArray = await t.data();
  // data() widens half types to float32; narrow them back bit-exactly.
  if (t.dtype === "float16" || t.dtype === "bfloat16") {
    const src = values as Float32Array;
    const out = new Uint16Array(src.length);
    if (t.dtype === "bfloat16") {
      const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
      for (let i = 0; i < src.length; i++) out[i] = bits[i] >>> 16;
    } else {
      for (let i = 0; i < src.length; i++) out[i] = toHalfBits(src[i]);
    }
    return new Uint8Array(out.buffer);
  }
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/**
 * Writes tensors to a safetensors file that Python's safetensors.torch.load_file
 * reads; `metadata` becomes the `__metadata__` record. The file appears whole or
 * not at all.
 */
export async function save(
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

  const dir = nodePath.dirname(nodePath.resolve(path));
  const temp = nodePath.join(dir, `.${nodePath.basename(path)}.tmp-${process.pid}-${Date.now()}`);
  try {
    // Opening is inside: a folder that refuses the file must name the file too.
    const handle = await fs.promises.open(temp, "w");
    try {
      for (const chunk of [prefix, headerBytes, ...chunks]) {
        for (let done = 0; done < chunk.length;) done += (await handle.write(chunk, done, chunk.length - done)).bytesWritten;
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(temp, path);
  } catch (err) {
    await fs.promises.rm(temp, { force: true });
    throw new Error(`cannot write ${path}: ${(err as Error).message}`);
  }
}

/** Reads a safetensors file (name -> CPU tensor). */
export async function loadSafetensors(path: string): Promise<Map<string, Tensor>> {
  checkString(path, "path");
  return parseSafetensors(path, await fs.promises.readFile(path));
}
