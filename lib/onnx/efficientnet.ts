// torchvision's EfficientNet B0-B3 (efficientnet.py) as an ONNX graph. The
// width and depth multipliers only change channel and block counts, which the
// state dict holds, so one exporter reads them from it for every B model.
import { Graph } from "./graph";
import { adaptiveAvgPool2d, add, batchNorm2d, conv2d, flatten, linear, mul, sigmoid, silu } from "./layers";
import type { Exporter } from "./exporter";

const EPS = 1e-5;
/** _efficientnet_conf's strides, one per stage (features.1 to features.7); a stage's first block has it. */
const STRIDES = [1, 2, 2, 2, 1, 2, 1];

function convNormActivation(g: Graph, p: string, x: string, activation: boolean, stride = 1, groups = 1): string {
  const out = batchNorm2d(g, `${p}.1`, conv2d(g, `${p}.0`, x, { stride, groups }), EPS);
  return activation ? silu(g, out) : out;
}

function squeezeExcitation(g: Graph, p: string, x: string): string {
  const scale = conv2d(g, `${p}.fc2`, silu(g, conv2d(g, `${p}.fc1`, adaptiveAvgPool2d(g, x))));
  return mul(g, sigmoid(g, scale), x);
}

/** MBConv: [expand 1x1,] depthwise kxk, squeeze-excitation, project 1x1; stochastic depth is the identity in eval mode. */
function mbConv(g: Graph, p: string, x: string, stride: number): string {
  const expands = g.has(`${p}.block.3.0.weight`);
  let i = 0;
  let out = x;
  if (expands) out = convNormActivation(g, `${p}.block.${i++}`, out, true);
  const [expanded] = g.dims(`${p}.block.${i}.0.weight`);
  out = convNormActivation(g, `${p}.block.${i++}`, out, true, stride, expanded);
  out = squeezeExcitation(g, `${p}.block.${i++}`, out);
  out = convNormActivation(g, `${p}.block.${i++}`, out, false);
  return stride === 1 && g.shape(x)[1] === g.shape(out)[1] ? add(g, out, x) : out;
}

const efficientnet: Exporter = (g, x) => {
  let out = convNormActivation(g, "features.0", x, true, 2);
  STRIDES.forEach((stride, s) => {
    for (let i = 0; g.has(`features.${s + 1}.${i}.block.0.0.weight`); i++) out = mbConv(g, `features.${s + 1}.${i}`, out, i === 0 ? stride : 1);
  });
  out = convNormActivation(g, `features.${STRIDES.length + 1}`, out, true);
  // classifier: Dropout (the identity in eval mode), Linear.
  return linear(g, "classifier.1", flatten(g, adaptiveAvgPool2d(g, out)));
};

export const EXPORTERS: Record<string, Exporter> = {
  efficientnet_b0: efficientnet,
  efficientnet_b1: efficientnet,
  efficientnet_b2: efficientnet,
  efficientnet_b3: efficientnet,
};
