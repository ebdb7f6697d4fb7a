// torch.nn's layers in eval mode as ONNX nodes, each reading its weights from
// the state dict under the module's dotted name (torchvision's). Dropout and
// stochastic depth are the identity in eval mode, so they have no helper.
import { Dim, Graph } from "./graph";

function spatial(size: Dim, kernel: number, stride: number, pad: number): Dim {
  if (typeof size !== "number") throw new Error(`internal error: a symbolic spatial size (${size})`);
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}

export interface ConvOptions {
  stride?: number;
  /** Default: (kernel - 1) / 2, as torchvision's blocks pad. */
  padding?: number;
  groups?: number;
}

/** nn.Conv2d: weight [out, in / groups, k, k] and an optional bias. */
export function conv2d(g: Graph, prefix: string, x: string, { stride = 1, padding, groups = 1 }: ConvOptions = {}): string {
  const [out, , kh, kw] = g.dims(`${prefix}.weight`);
  const pad = padding ?? (kh - 1) / 2;
  const inputs = [x, `${prefix}.weight`];
  if (g.has(`${prefix}.bias`)) inputs.push(g.weight(`${prefix}.bias`));
  const [n, , h, w] = g.shape(x);
  return g.node("Conv", inputs, [n, out, spatial(h, kh, stride, pad), spatial(w, kw, stride, pad)], {
    kernel_shape: [kh, kw], strides: [stride, stride], pads: [pad, pad, pad, pad], dilations: [1, 1], group: groups,
  }, prefix);
}

/**
 * nn.BatchNorm2d in eval mode: BatchNormalization with the running statistics,
 * left unfolded so that the file holds the state dict as trained (onnxruntime
 * folds it into the convolution when it loads the graph).
 */
export function batchNorm2d(g: Graph, prefix: string, x: string, eps: number): string {
  const inputs = ["weight", "bias", "running_mean", "running_var"].map((p) => g.weight(`${prefix}.${p}`));
  g.skip(`${prefix}.num_batches_tracked`);
  return g.node("BatchNormalization", [x, ...inputs], g.shape(x), { epsilon: { float: eps } }, prefix);
}

export function relu(g: Graph, x: string): string {
  return g.node("Relu", [x], g.shape(x));
}

export function sigmoid(g: Graph, x: string): string {
  return g.node("Sigmoid", [x], g.shape(x));
}

/** nn.SiLU, x * sigmoid(x): ONNX (to opset 17) has no single op for it. */
export function silu(g: Graph, x: string): string {
  return g.node("Mul", [x, sigmoid(g, x)], g.shape(x), {}, "silu");
}

/** torch's hardsigmoid, relu6(x + 3) / 6, is ONNX's HardSigmoid with alpha 1/6, beta 1/2. */
export function hardsigmoid(g: Graph, x: string): string {
  return g.node("HardSigmoid", [x], g.shape(x), { alpha: { float: 1 / 6 }, beta: { float: 0.5 } });
}

/** x * hardsigmoid(x): HardSwish from opset 14, spelled out before. */
export function hardswish(g: Graph, x: string): string {
  if (g.opset >= 14) return g.node("HardSwish", [x], g.shape(x));
  return mul(g, x, hardsigmoid(g, x));
}

/** nn.GELU's default (exact) form: x / 2 * (1 + erf(x / sqrt(2))); ONNX has Gelu only from opset 20. */
export function gelu(g: Graph, x: string): string {
  const shape = g.shape(x);
  const erf = g.node("Erf", [g.node("Div", [x, g.constant("sqrt2", [], [Math.SQRT2])], shape)], shape);
  const onePlus = g.node("Add", [erf, g.constant("one", [], [1])], shape);
  return g.node("Mul", [g.node("Mul", [x, g.constant("half", [], [0.5])], shape), onePlus], shape, {}, "gelu");
}

function broadcast(a: Dim[], b: Dim[]): Dim[] {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    out.push(da === 1 ? db : da);
  }
  return out;
}

export function add(g: Graph, a: string, b: string): string {
  return g.node("Add", [a, b], broadcast(g.shape(a), g.shape(b)));
}

export function mul(g: Graph, a: string, b: string): string {
  return g.node("Mul", [a, b], broadcast(g.shape(a), g.shape(b)));
}

export function maxPool2d(g: Graph, x: string, kernel: number, stride: number, padding: number): string {
  const [n, c, h, w] = g.shape(x);
  return g.node("MaxPool", [x], [n, c, spatial(h, kernel, stride, padding), spatial(w, kernel, stride, padding)], {
    kernel_shape: [kernel, kernel], strides: [stride, stride], pads: [padding, padding, padding, padding],
  });
}

/** nn.AdaptiveAvgPool2d((1, 1)). */
export function adaptiveAvgPool2d(g: Graph, x: string): string {
  const [n, c] = g.shape(x);
  return g.node("GlobalAveragePool", [x], [n, c, 1, 1], {}, "avgpool");
}

/** torch.flatten(x, 1). */
export function flatten(g: Graph, x: string): string {
  const [n, ...rest] = g.shape(x);
  const size = rest.reduce<number>((a, d) => a * (d as number), 1);
  return g.node("Flatten", [x], [n, size], { axis: 1 });
}

export function transpose(g: Graph, x: string, perm: number[]): string {
  const shape = g.shape(x);
  return g.node("Transpose", [x], perm.map((p) => shape[p]), { perm });
}

/** nn.Linear on a batch of vectors: Gemm with the weight as stored, [out, in]. */
export function linear(g: Graph, prefix: string, x: string): string {
  const [out] = g.dims(`${prefix}.weight`);
  const inputs = [x, `${prefix}.weight`];
  if (g.has(`${prefix}.bias`)) inputs.push(g.weight(`${prefix}.bias`));
  return g.node("Gemm", inputs, [g.shape(x)[0], out], { transB: 1 }, prefix);
}

/** nn.Linear on the last axis of a tensor of any rank: MatMul by the transposed weight, then the bias. */
export function linearLastAxis(g: Graph, prefix: string, x: string): string {
  const [out, inFeatures] = g.dims(`${prefix}.weight`);
  const weightT = g.node("Transpose", [`${prefix}.weight`], [inFeatures, out], { perm: [1, 0] }, `${prefix}.weight_t`);
  const shape = [...g.shape(x).slice(0, -1), out];
  const product = g.node("MatMul", [x, weightT], shape, {}, `${prefix}.matmul`);
  if (!g.has(`${prefix}.bias`)) return product;
  return g.node("Add", [product, g.weight(`${prefix}.bias`)], shape, {}, prefix);
}

/** nn.LayerNorm over the last axis: LayerNormalization from opset 17, spelled out before. */
export function layerNorm(g: Graph, prefix: string, x: string, eps: number): string {
  const shape = g.shape(x);
  const weight = g.weight(`${prefix}.weight`);
  const bias = g.weight(`${prefix}.bias`);
  if (g.opset >= 17) return g.node("LayerNormalization", [x, weight, bias], shape, { axis: -1, epsilon: { float: eps } }, prefix);
  const reduced = [...shape.slice(0, -1), 1];
  const mean = g.node("ReduceMean", [x], reduced, { axes: [-1], keepdims: 1 });
  const centred = g.node("Sub", [x, mean], shape);
  const variance = g.node("ReduceMean", [g.node("Mul", [centred, centred], shape)], reduced, { axes: [-1], keepdims: 1 });
  const std = g.node("Sqrt", [g.node("Add", [variance, g.constant("eps", [], [eps])], reduced)], reduced);
  const normed = g.node("Div", [centred, std], shape);
  return g.node("Add", [g.node("Mul", [normed, weight], shape), bias], shape, {}, prefix);
}

/** torchvision's LayerNorm2d: LayerNorm over the channels of NCHW, through NHWC. */
export function layerNorm2d(g: Graph, prefix: string, x: string, eps: number): string {
  return transpose(g, layerNorm(g, prefix, transpose(g, x, [0, 2, 3, 1]), eps), [0, 3, 1, 2]);
}
