// The only file that loads the compiled addon; everything else goes through
// the typed interface below.
import * as path from "path";

export type DtypeName =
  | "float32" | "float64" | "float16" | "bfloat16" | "int64" | "int32" | "int16" | "int8" | "uint8" | "bool";

export type TypedArray =
  | Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Int16Array;

import type { Tensor } from "./tensor";

/** torch.nn.CrossEntropyLoss's options as the native loss reads them. */
export interface NativeLossOptions {
  weight?: NativeTensor | null;
  labelSmoothing?: number;
  reduction?: "mean" | "sum" | "none";
}
/** The addon's name for Tensor. */
export type NativeTensor = Tensor;

/** How the fast eval form lays out activations and convolution weights for oneDNN. */
export type InferenceLayout = "contiguous" | "channels_last" | "mkldnn";

/** What the fast eval form did when it was last built. */
export interface InferenceInfo {
  /** BatchNorms folded into the convolution before them. */
  folded: number;
  /** How many times it has been built: once, then again after every change of weights, statistics, device or mode. */
  builds: number;
  /** The layout in effect ("mkldnn" falls back to "channels_last" where a layer cannot take oneDNN tensors). */
  layout: InferenceLayout;
}

export interface NativeModule {
  /** torchvision's class name: ResNet, Bottleneck, Sequential, Linear, Conv2d, ... */
  readonly kind: string;
  /** A whole model's classifier path (fc, classifier.3, heads.head); undefined for parts of models. */
  readonly head: string | undefined;
  readonly inFeatures: number | undefined;
  readonly outFeatures: number | undefined;
  readonly training: boolean;
  train(on: boolean): void;
  to(device: string, dtype?: DtypeName): void;
  /** Rewrites every 4-D parameter, gradient and buffer in place in the format (module.to(memory_format=...)). */
  toMemoryFormat(format: "contiguous" | "channels_last"): void;
  namedParameters(): [string, NativeTensor][];
  stateDict(): [string, NativeTensor][];
  namedChildren(): [string, NativeModule][];
  /** Replaces the submodule at a dotted path. */
  setChild(path: string, child: NativeModule): void;
  /** The submodule at a dotted path. */
  child(path: string): NativeModule;
  forward(input: NativeTensor, gradEnabled: boolean, autocast?: NativeAmpOptions | null): Promise<NativeTensor>;
  features(input: NativeTensor, gradEnabled: boolean): Promise<NativeTensor>;
  /** The eval-mode output through the fused fast form (native/inference.h). */
  inferenceForward(input: NativeTensor, layout?: InferenceLayout): Promise<NativeTensor>;
  inferenceInfo(): Promise<InferenceInfo>;
  dispose(): void;
  readonly isDisposed: boolean;
}

/** One parameter's optimizer state: tensors (momentumBuffer, expAvg, ...) and numbers (step). */
export type NativeParamState = Record<string, NativeTensor | number>;

export interface NativeOptimizer {
  zeroGrad(setToNone: boolean): void;
  step(): Promise<void>;
  /** A group's option (lr, momentum, beta1, ...); applies to steps called after it. */
  setOption(group: number, name: string, value: number | boolean): void;
  /** Per parameter, numbered across groups; null before its first step. */
  state(): (NativeParamState | null)[];
  setState(index: number, state: NativeParamState | null): void;
}

/** The optimizer a training step takes (any of them). */
export type NativeSGD = NativeOptimizer;

/** torch.amp.GradScaler's state and arithmetic (native/amp.h). */
export interface NativeGradScaler {
  readonly scale: number;
  readonly growthTracker: number;
  setState(scale: number, growthTracker: number): void;
  scaleLoss(loss: NativeTensor): Promise<NativeTensor>;
  /** Unscales the gradients; steps unless one is inf or NaN. Resolves to whether it stepped. */
  step(optimizer: NativeOptimizer): Promise<boolean>;
  update(): Promise<void>;
}

/** What a training step runs under: autocast on a device type with a dtype, and a GradScaler (each optional). */
export interface NativeAmpOptions {
  device?: "cpu" | "cuda";
  dtype?: "bfloat16" | "float16";
  scaler?: NativeGradScaler | null;
}

export interface NativeProcessGroup {
  readonly rank: number;
  readonly size: number;
  readonly backend: string;
  readonly bytesAllReduced: number;
  readonly bytesBroadcast: number;
  readonly isDisposed: boolean;
  allReduce(tensors: NativeTensor[]): Promise<void>;
  broadcast(tensors: NativeTensor[], root: number): Promise<void>;
  barrier(): Promise<void>;
  dispose(): void;
}

/** A file mapped into memory; tensors made over it keep the mapping alive after close(). */
export interface NativeMappedFile {
  readonly byteLength: number;
  /** A view of the whole mapping, emptied (detached) by close(). */
  bytes(): Uint8Array;
  /** The view of the storage at [byteOffset, byteOffset + byteLength) of the file, without copying it. */
  tensor(byteOffset: number, byteLength: number, dtype: DtypeName, shape: number[], strides: number[], storageOffset: number): NativeTensor;
  close(): void;
}

export interface Addon {
  Tensor: { prototype: NativeTensor };
  Module: {
    prototype: NativeModule;
    /** A model by torchvision's name; options are numbers and booleans (numClasses, ...). */
    create(arch: string, options: Record<string, number | boolean | undefined>): NativeModule;
    archNames(): string[];
    linear(inFeatures: number, outFeatures: number, bias: boolean): NativeModule;
  };
  GradScaler: new (options: { initScale: number; growthFactor: number; backoffFactor: number; growthInterval: number }) => NativeGradScaler;
  Optimizer: new (kind: "sgd" | "adam" | "adamw", groups: Array<{ params: NativeTensor[] } & Record<string, number | boolean | NativeTensor[]>>) => NativeOptimizer;
  fromTypedArray(data: TypedArray, shape: number[]): NativeTensor;
  fromBytes(bytes: Uint8Array, dtype: DtypeName, shape: number[], strides: number[], storageOffset: number): NativeTensor;
  /** Maps a whole file copy-on-write (native/mapped_file.h); rejects where it cannot, and the caller reads the file instead. */
  mapFile(path: string): Promise<NativeMappedFile>;
  stack(tensors: NativeTensor[]): NativeTensor;
  softmax(input: NativeTensor, dim: number): Promise<NativeTensor>;
  crossEntropy(input: NativeTensor, target: NativeTensor, gradEnabled: boolean, options?: NativeLossOptions): Promise<NativeTensor>;
  /** crop: the input box to resize; window: the output box to compute; both [top, left, height, width]. */
  resizeImage(pixels: Uint8Array, height: number, width: number, channels: number, outHeight: number, outWidth: number,
    crop?: number[] | null, window?: number[] | null, interpolation?: "bilinear" | "bicubic"): Promise<Uint8Array>;
  /** Pillow's colour and histogram operations on RGB (native/augment/color.h); value: a factor, the hue byte's shift, bits or threshold. */
  adjustImage(pixels: Uint8Array, height: number, width: number, channels: 3, op: string, value?: number): Promise<Uint8Array>;
  /** Pillow's Image.transform(AFFINE) (matrix) or Image.transpose (quarterTurns) on RGB. */
  warpImage(pixels: Uint8Array, height: number, width: number, channels: 3,
    warp: { matrix?: number[]; quarterTurns?: number; bilinear: boolean; fill: number[]; outHeight: number; outWidth: number }): Promise<Uint8Array>;
  /** How Pillow's Image.rotate turns an image of height x width. */
  rotatePlan(height: number, width: number, angle: number, expand: boolean, center: number[] | null):
    { transpose: boolean; quarterTurns: number; matrix: number[]; outHeight: number; outWidth: number };
  inverseAffineMatrix(cx: number, cy: number, angle: number, tx: number, ty: number, scale: number, shearX: number, shearY: number): number[];
  atanDegrees(x: number): number;
  linspace(start: number, end: number, steps: number): Float32Array;
  imageToTensor(pixels: Uint8Array, height: number, width: number, channels: number, mean?: number[], std?: number[]): NativeTensor;
  /** null: not a JPEG, a CMYK/YCCK one, or a build without libjpeg. */
  decodeJpeg(source: string | Uint8Array): Promise<{ data: Uint8Array; width: number; height: number } | null>;
  trainStep(
    model: NativeModule, optimizer: NativeSGD | null, inputs: NativeTensor, labels: NativeTensor, train: boolean, criterion?: NativeLossOptions,
    amp?: NativeAmpOptions | null,
  ): Promise<{ loss: number; correct: number }>;
  ProcessGroup: {
    prototype: NativeProcessGroup;
    create(backend: string, masterAddr: string, masterPort: number, rank: number, worldSize: number, timeoutMs: number): Promise<NativeProcessGroup>;
  };
  distributedAvailable(): boolean;
  /** Built with c10d's NCCL backend (a CUDA libtorch and NCCL's headers). */
  ncclAvailable(): boolean;
  randperm(n: number, seed: number): number[];
  ddpTrainStep(
    model: NativeModule, optimizer: NativeSGD | null, inputs: NativeTensor, labels: NativeTensor, train: boolean,
    group: NativeProcessGroup, broadcastBuffers: boolean, bucketBytes: number, criterion?: NativeLossOptions,
    amp?: NativeAmpOptions | null,
  ): Promise<{ loss: number; correct: number }>;
  broadcastModule(model: NativeModule, group: NativeProcessGroup): Promise<void>;
  cudaIsAvailable(): boolean;
  /** Built against a CUDA libtorch (a GPU may still be missing). */
  cudaIsBuilt(): boolean;
  cudaDeviceCount(): number;
  /** Sets TF32 for CUDA matmuls and cuDNN convolutions where given; returns both. */
  allowTf32(matmul?: boolean, cudnn?: boolean): { matmul: boolean; cudnn: boolean };
  setNumThreads(n: number): void;
  getNumThreads(): number;
  manualSeed(seed: number): void;
  getRngState(): Uint8Array;
  setRngState(state: Uint8Array): void;
  libtorchVersion(): string;
  /** Holds the native compute queue until the returned function is called (tests: "the model is busy", for certain). */
  holdComputeQueue(): () => void;
  readonly allocatorTuned: boolean;
  /** Whether the fast eval form may use a layout (lib/layoutProbe.ts). */
  layoutUsable(layout: InferenceLayout): boolean;
  /** Why oneDNN was turned off as the addon loaded (native/torch_compat.h, kOneDnnNeedsCacheLeaves), or "". */
  oneDnnOff: string;
  mkldnnEnabled(on?: boolean): boolean;
  setLayoutUsable(layout: InferenceLayout, usable: boolean): void;
  /** A layout's convolutions against NCHW, as the largest relative difference; only for the probe's child process, which may die of it. */
  layoutSelfTest(layout: InferenceLayout): number;
}

// Debian 13's libtorch links OpenMPI, which loads UCX; UCX's libucs, as it is
// loaded, installs its own handlers for SIGSEGV, SIGBUS, SIGILL and SIGFPE
// (UCX_ERROR_SIGNALS) and SIGHUP (UCX_DEBUG_SIGNO), replacing Node's. V8
// turns a WebAssembly out-of-bounds access into a WebAssembly.RuntimeError by
// catching the SIGSEGV it causes; with UCX's handler in its place the process
// dies instead, printing a backtrace through libucs, and SIGHUP no longer ends
// the process but switches UCX's logging to trace. Nothing here uses UCX, so
// its handlers are turned off (UCX's settings, read from the environment when
// libucs loads) unless the user has set them.
//
// UCX's memory hooks (libucm: malloc, mmap and the like, patched to report
// memory events) are turned off the same way. With them, about one start in
// 70 of a process that loads the addon on Debian 13 died in V8's allocator
// during the addon's init (SIGSEGV), or exited 1 saying nothing; with these
// three settings, 200 starts in a row did not (--help of each command,
// 2026-12-04). Nothing here registers UCX memory, so nothing needs the hooks.
function keepNodeSignalHandlers(): void {
  const settings: Record<string, string> = {
    UCX_ERROR_SIGNALS: "", UCX_DEBUG_SIGNO: "0", UCX_MEM_EVENTS: "no", UCX_MEM_MALLOC_HOOKS: "no", UCX_MEM_MMAP_HOOK_MODE: "none",
  };
  for (const [name, value] of Object.entries(settings)) {
    if (process.env[name] === undefined) process.env[name] = value;
  }
}

/** The built addon's file. */
export const addonFile = path.join(path.resolve(__dirname, ".."), "build", "Release", "torch_transfer.node");

function load(): Addon {
  keepNodeSignalHandlers();
  const candidates = [addonFile];
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return require(candidates[0]) as Addon;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `torch-transfer: could not load the native addon (${candidates[0]}): ${reason}\n` +
        "Possible fixes:\n" +
        "  - build it: `npm run build` in the torch-transfer folder (needs cmake, a C++17 compiler and libtorch)\n" +
        "  - on Debian or Ubuntu, install libtorch with `apt-get install libtorch-dev libopenblas0-pthread`\n" +
        "  - point at another libtorch with LIBTORCH=/path/to/libtorch or Torch_DIR=/path/to/share/cmake/Torch, then rebuild",
    );
  }
}

export const addon: Addon = load();
