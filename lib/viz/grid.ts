// torchvision.utils.make_grid (torchvision 0.14), on the tensor's values in JS.
import { checkBoolean, checkInteger, checkNumber, checkOptions, invalid } from "../check";
import { checkTensor, tensor, Tensor } from "../tensor";

export interface MakeGridOptions {
  /** Images per row (default 8). */
  nrow?: number;
  /** Pixels between and around images (default 2). */
  padding?: number;
  /** Scale values to [0, 1] by the tensor's min and max, or by valueRange (default false). */
  normalize?: boolean;
  /** [low, high] used by normalize instead of the tensor's min and max. */
  valueRange?: [number, number];
  /** Normalize each image by its own min and max (default false). */
  scaleEach?: boolean;
  /** Value of the padding (default 0). */
  padValue?: number;
}

const MAKE_GRID_OPTIONS: Record<keyof MakeGridOptions, true> = { nrow: true, padding: true, normalize: true, valueRange: true, scaleEach: true, padValue: true };

/** A CHW (or BCHW) float image held in JS. */
export interface Planar {
  data: Float32Array;
  shape: number[];
}

/** make_grid on a tensor: [B, C, H, W], [C, H, W] or [H, W]; returns a float32 Tensor. */
export async function makeGrid(input: Tensor, options: MakeGridOptions = {}): Promise<Tensor> {
  checkOptions(options, MAKE_GRID_OPTIONS, "makeGrid");
  checkTensor(input, "tensor");
  if (!["float32", "float64", "float16", "bfloat16"].includes(input.dtype)) {
    throw invalid("floating-point Tensor", "tensor", input.toString());
  }
  checkGridOptions(options);
  const onCpu = input.device === "cpu" ? input : input.to("cpu");
  try {
    const values = await onCpu.data();
    const data = values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
    const grid = makeGridPlanar({ data, shape: input.shape.slice() }, options);
    return tensor(grid.data, grid.shape);
  } finally {
    if (onCpu !== input) onCpu.dispose();
  }
}

export function checkGridOptions(options: MakeGridOptions): void {
  if (typeof options !== "object" || options === null) throw invalid("options object", "options", options);
  const { nrow, padding, normalize, valueRange, scaleEach, padValue } = options;
  if (nrow !== undefined) checkInteger(nrow, "nrow", 1);
  if (padding !== undefined) checkInteger(padding, "padding", 0);
  if (normalize !== undefined) checkBoolean(normalize, "normalize");
  if (scaleEach !== undefined) checkBoolean(scaleEach, "scaleEach");
  if (padValue !== undefined) checkNumber(padValue, "padValue");
  if (valueRange !== undefined) {
    if (!Array.isArray(valueRange) || valueRange.length !== 2 || !valueRange.every((v) => typeof v === "number" && Number.isFinite(v))) {
      throw invalid("[low, high] pair of finite numbers", "valueRange", valueRange);
    }
  }
}

/** make_grid on values already in JS; the same rules as torchvision, step by step. */
export function makeGridPlanar(input: Planar, options: MakeGridOptions = {}): Planar {
  const { nrow = 8, padding = 2, normalize = false, valueRange, scaleEach = false, padValue = 0 } = options;
  let shape = input.shape.slice();
  let data = input.data;
  if (shape.length === 2) shape = [1, ...shape];
  if (shape.length === 3) {
    if (shape[0] === 1) {
      data = repeatChannels(data, 1, shape[0], shape[1] * shape[2]);
      shape = [3, shape[1], shape[2]];
    }
    shape = [1, ...shape];
  }
  if (shape.length !== 4) throw new RangeError(`makeGrid needs a 2-D, 3-D or 4-D tensor, but this one has shape [${input.shape.join(", ")}]`);
  if (shape[1] === 1) {
    data = repeatChannels(data, shape[0], 1, shape[2] * shape[3]);
    shape = [shape[0], 3, shape[2], shape[3]];
  }
  const [n, c, h, w] = shape;
  if (normalize) {
    data = Float32Array.from(data);
    const size = c * h * w;
    if (scaleEach) for (let k = 0; k < n; k++) normalizeRange(data.subarray(k * size, (k + 1) * size), valueRange);
    else normalizeRange(data, valueRange);
  }
  if (n === 1) return { data: data === input.data ? Float32Array.from(data) : data, shape: [c, h, w] };

  const xmaps = Math.min(nrow, n);
  const ymaps = Math.ceil(n / xmaps);
  const height = h + padding;
  const width = w + padding;
  const gridH = height * ymaps + padding;
  const gridW = width * xmaps + padding;
  const grid = new Float32Array(c * gridH * gridW).fill(padValue);
  for (let k = 0; k < n; k++) {
    const top = Math.floor(k / xmaps) * height + padding;
    const left = (k % xmaps) * width + padding;
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < h; y++) {
        const src = ((k * c + ch) * h + y) * w;
        grid.set(data.subarray(src, src + w), (ch * gridH + top + y) * gridW + left);
      }
    }
  }
  return { data: grid, shape: [c, gridH, gridW] };
}

function repeatChannels(data: Float32Array, n: number, _c: 1, plane: number): Float32Array {
  const out = new Float32Array(n * 3 * plane);
  for (let k = 0; k < n; k++) {
    const img = data.subarray(k * plane, (k + 1) * plane);
    for (let ch = 0; ch < 3; ch++) out.set(img, (k * 3 + ch) * plane);
  }
  return out;
}

// norm_ip: clamp to [low, high], subtract low, divide by max(high - low, 1e-5), in float32.
function normalizeRange(data: Float32Array, valueRange: [number, number] | undefined): void {
  let low: number;
  let high: number;
  if (valueRange) [low, high] = valueRange;
  else {
    low = Infinity;
    high = -Infinity;
    for (const v of data) {
      if (v < low) low = v;
      if (v > high) high = v;
    }
  }
  const scale = Math.fround(Math.max(high - low, 1e-5));
  for (let i = 0; i < data.length; i++) {
    const v = Math.min(Math.max(data[i], low), high);
    data[i] = Math.fround(Math.fround(v - low) / scale);
  }
}
