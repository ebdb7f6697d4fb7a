// Turning raw little-endian storage bytes into tensors, shared by every reader.
// The bounds are checked here so a bad file is reported with its name and key,
// before the native copy or mapping (which check again) is reached.
import { addon, DtypeName } from "../native";
import type { Tensor } from "../tensor";
import { FileBytes, mappedOffset } from "./mappedFile";

export const ELEMENT_SIZE: Record<DtypeName, number> = {
  float32: 4, float64: 8, float16: 2, bfloat16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1,
};

export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

export interface TensorLayout {
  dtype: DtypeName;
  shape: number[];
  strides: number[];
  /** In elements, as torch counts it. */
  storageOffset: number;
}

/** How many elements of the storage a view reaches, counting its offset. */
export function elementsNeeded(layout: TensorLayout): number {
  if (layout.shape.some((d) => d === 0)) return 0;
  let last = layout.storageOffset;
  layout.shape.forEach((d, i) => (last += (d - 1) * layout.strides[i]));
  return last + 1;
}

// A view may reach fewer elements than it has (a stride of 0, as expand() makes),
// and the copy we make holds them all: past this many, it must not need more
// elements than its storage holds, so a few bytes cannot ask for gigabytes.
export const MAX_OVERLAPPING_NUMEL = 1 << 24;

/**
 * The tensor `layout` describes over `storage`: a view over the mapping without
 * a copy when `storage` lies in `source`'s mapped file, a contiguous copy otherwise.
 */
export function makeTensor(file: string, key: string, storage: Uint8Array, layout: TensorLayout, source?: FileBytes): Tensor {
  const size = ELEMENT_SIZE[layout.dtype];
  const available = Math.floor(storage.length / size);
  const count = (xs: readonly number[]) => xs.every((x) => Number.isSafeInteger(x) && x >= 0);
  if (!count(layout.strides) || !count([layout.storageOffset])) {
    throw new Error(`${file}: tensor ${key} has a negative or non-integer stride or offset`);
  }
  if (!count(layout.shape)) throw new Error(`${file}: tensor ${key} has a malformed shape [${layout.shape.join(", ")}]`);
  const numel = layout.shape.reduce((a, b) => a * b, 1);
  if (numel > Math.max(available, MAX_OVERLAPPING_NUMEL)) {
    throw new Error(
      `${file}: tensor ${key} of shape [${layout.shape.join(", ")}] has ${numel} elements but its storage holds ${available}`,
    );
  }
  const needed = elementsNeeded(layout);
  if (needed > available) {
    throw new Error(
      `${file}: storage of tensor ${key} is too short: it holds ${available} ${layout.dtype} elements ` +
        `but shape [${layout.shape.join(", ")}] at offset ${layout.storageOffset} needs ${needed}`,
    );
  }
  const at = mappedOffset(source, storage);
  if (at !== null) return source!.map!.tensor(at, storage.byteLength, layout.dtype, layout.shape, layout.strides, layout.storageOffset);
  return addon.fromBytes(storage, layout.dtype, layout.shape, layout.strides, layout.storageOffset);
}
