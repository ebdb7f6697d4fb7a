// Tensors: the native class, with its arguments checked here before they reach C++.
import { checkBoolean, checkOptions, checkShape, invalid, withCallerStack } from "./check";
import { checkDevice } from "./device";
import { addon, DtypeName, NativeTensor, TypedArray } from "./native";

/** A tensor: libtorch's, held by the addon. Its memory is freed by dispose(). */
export interface Tensor {
  readonly shape: number[];
  readonly dtype: DtypeName;
  readonly device: string;
  readonly isDisposed: boolean;
  requiresGrad: boolean;
  readonly grad: Tensor | null;
  /** Whether the tensor is in pinned (page-locked) host memory. */
  readonly isPinned: boolean;
  /** tensor.is_contiguous(memory_format=...): whether its strides are `memoryFormat`'s (default "contiguous"). */
  isContiguous(memoryFormat?: MemoryFormat): boolean;
  /** A copy on `device` (and in `dtype`); `nonBlocking` as PyTorch's non_blocking (it overlaps only from pinned memory). */
  to(device: string, dtype?: DtypeName | ToOptions, options?: ToOptions): Tensor;
  /** A copy in pinned host memory (tensor.pin_memory()); needs CUDA. */
  pinMemory(): Tensor;
  copy_(source: Tensor): Tensor;
  detach(): Tensor;
  data(): Promise<TypedArray>;
  item(): Promise<number>;
  backward(): Promise<void>;
  dispose(): void;
}

/** torch.contiguous_format ("contiguous", NCHW for images) or torch.channels_last (NHWC in memory). */
export type MemoryFormat = "contiguous" | "channels_last";

export function checkMemoryFormat(value: unknown, name: string): MemoryFormat {
  if (value !== "contiguous" && value !== "channels_last") throw invalid('"contiguous" or "channels_last"', name, value);
  return value;
}

export interface ToOptions {
  nonBlocking?: boolean;
}

/** The Tensor class, for `instanceof`; tensors are made with tensor(), not new. */
export const Tensor = addon.Tensor as unknown as { prototype: Tensor; [Symbol.hasInstance](v: unknown): boolean };

const DTYPES: readonly DtypeName[] = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool"];

export function isTensor(value: unknown): value is Tensor {
  return value instanceof (addon.Tensor as unknown as new () => Tensor);
}

export function checkTensor(value: unknown, name: string): Tensor {
  if (!isTensor(value)) throw invalid("Tensor", name, value);
  if (value.isDisposed) throw new Error(`${name} is a Tensor that has been disposed`);
  return value;
}

export function checkDtype(value: unknown, name = "dtype"): DtypeName {
  if (!DTYPES.includes(value as DtypeName)) throw invalid(`one of ${DTYPES.join(", ")}`, name, value);
  return value as DtypeName;
}

/**
 * A CPU tensor holding a copy of `data`, viewed with `shape` (default: 1-D).
 * The dtype follows the array: Float32Array -> float32, Float64Array -> float64,
 * Int32Array -> int32, BigInt64Array -> int64, Uint8Array -> uint8, Int8Array -> int8, Int16Array -> int16.
 */
export function tensor(data: TypedArray, shape?: number[]): Tensor {
  const supported = [Float32Array, Float64Array, Int32Array, BigInt64Array, Uint8Array, Int8Array, Int16Array];
  if (!supported.some((T) => data instanceof T)) {
    throw invalid("Float32Array, Float64Array, Int32Array, BigInt64Array, Uint8Array, Int8Array or Int16Array", "data", data);
  }
  const dims = shape === undefined ? [data.length] : checkShape(shape, "shape");
  const numel = dims.reduce((a, b) => a * b, 1);
  if (numel !== data.length) {
    throw new RangeError(`shape [${dims.join(", ")}] holds ${numel} elements but data has ${data.length}`);
  }
  return addon.fromTypedArray(data, dims);
}

/** Stacks same-shaped tensors along a new first dimension, as torch.stack does. */
export function stack(tensors: Tensor[]): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw invalid("non-empty array of Tensors", "tensors", tensors);
  tensors.forEach((t, i) => checkTensor(t, `tensors[${i}]`));
  return addon.stack(tensors);
}

// Wrap the native methods so that bad arguments fail here, in plain words, and
// native failures carry the caller's stack.
const proto = addon.Tensor.prototype as NativeTensor;
// The addon's own method, kept on the prototype under a registered symbol: a
// second load of this file (jest gives each test file its own) must wrap the
// native method, not the first load's wrapper, which takes other arguments.
const NATIVE_TO = Symbol.for("torch-transfer.nativeTo");
const protoWithNative = proto as unknown as { [NATIVE_TO]?: typeof proto.to };
protoWithNative[NATIVE_TO] ??= proto.to;
const nativeTo = protoWithNative[NATIVE_TO] as unknown as (this: NativeTensor, device: string, dtype?: DtypeName, nonBlocking?: boolean) => NativeTensor;
const nativePin = proto.pinMemory;
const nativeData = proto.data;
const nativeItem = proto.item;
const nativeBackward = proto.backward;
const nativeCopy = proto.copy_;
const nativeIsContiguous = proto.isContiguous;

Object.assign(proto, {
  to(this: NativeTensor, device: string, dtypeOrOptions?: DtypeName | ToOptions, options?: ToOptions): NativeTensor {
    checkDevice(device);
    const dtype = typeof dtypeOrOptions === "object" && dtypeOrOptions !== null ? undefined : dtypeOrOptions;
    const opts = typeof dtypeOrOptions === "object" && dtypeOrOptions !== null ? dtypeOrOptions : options;
    if (dtype !== undefined) checkDtype(dtype);
    const { nonBlocking = false } = checkOptions(opts ?? {}, { nonBlocking: true }, "Tensor.to");
    checkBoolean(nonBlocking, "nonBlocking");
    return nativeTo.call(this, device, dtype, nonBlocking);
  },
  pinMemory(this: NativeTensor): NativeTensor {
    if (!addon.cudaIsAvailable()) {
      throw new Error(
        `pinMemory() needs CUDA: pinned (page-locked) host memory comes from the CUDA driver, and this libtorch (${addon.libtorchVersion()}) ` +
          `${addon.cudaIsBuilt() ? "finds no CUDA device" : "was built without CUDA"}`,
      );
    }
    return nativePin.call(this);
  },
  copy_(this: NativeTensor, source: NativeTensor): NativeTensor {
    checkTensor(source, "source");
    const a = this.shape.join(","), b = source.shape.join(",");
    if (a !== b) throw new RangeError(`copy_: source has shape [${b}] but this tensor has shape [${a}]`);
    return nativeCopy.call(this, source);
  },
  isContiguous(this: NativeTensor, memoryFormat: MemoryFormat = "contiguous"): boolean {
    return nativeIsContiguous.call(this, checkMemoryFormat(memoryFormat, "memoryFormat"));
  },
  data(this: NativeTensor) {
    return withCallerStack(nativeData.call(this), new Error());
  },
  item(this: NativeTensor) {
    const n = this.shape.reduce((a, b) => a * b, 1);
    if (n !== 1) throw new RangeError(`item() needs a tensor with one element, but this one has shape [${this.shape.join(", ")}]`);
    return withCallerStack(nativeItem.call(this), new Error());
  },
  backward(this: NativeTensor) {
    return withCallerStack(nativeBackward.call(this), new Error());
  },
  toString(this: NativeTensor) {
    if (this.isDisposed) return "Tensor(disposed)";
    return `Tensor(shape=[${this.shape.join(", ")}], dtype=${this.dtype}, device=${this.device})`;
  },
});
