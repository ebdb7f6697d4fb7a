// torchvision's MobileNetV3 (mobilenetv3.py), large and small, as an ONNX graph.
import { Graph } from "./graph";
import { adaptiveAvgPool2d, add, batchNorm2d, conv2d, flatten, hardsigmoid, hardswish, linear, mul, relu } from "./layers";
import type { Exporter } from "./exporter";

// Conv2dNormActivation's BatchNorm in MobileNetV3: eps 1e-3.
const EPS = 1e-3;

/** One InvertedResidual's settings, _mobilenet_v3_conf's columns: in, kernel, expanded, out, SE, Hardswish, stride. */
type Block = [number, number, number, number, boolean, boolean, number];

function convNormActivation(g: Graph, p: string, x: string, activation: "relu" | "hardswish" | null, stride = 1, groups = 1): string {
  const out = batchNorm2d(g, `${p}.1`, conv2d(g, `${p}.0`, x, { stride, groups }), EPS);
  if (activation === null) return out;
  return activation === "relu" ? relu(g, out) : hardswish(g, out);
}

function squeezeExcitation(g: Graph, p: string, x: string): string {
  const scale = conv2d(g, `${p}.fc2`, relu(g, conv2d(g, `${p}.fc1`, adaptiveAvgPool2d(g, x))));
  return mul(g, hardsigmoid(g, scale), x);
}

function invertedResidual(g: Graph, p: string, x: string, [cin, , expanded, cout, se, hs, stride]: Block): string {
  const act = hs ? "hardswish" : "relu";
  let i = 0;
  let out = x;
  if (expanded !== cin) out = convNormActivation(g, `${p}.block.${i++}`, out, act);
  out = convNormActivation(g, `${p}.block.${i++}`, out, act, stride, expanded);
  if (se) out = squeezeExcitation(g, `${p}.block.${i++}`, out);
  out = convNormActivation(g, `${p}.block.${i++}`, out, null);
  return stride === 1 && cin === cout ? add(g, out, x) : out;
}

function mobilenetV3(blocks: Block[]): Exporter {
  return (g, x) => {
    let out = convNormActivation(g, "features.0", x, "hardswish", 2);
    blocks.forEach((b, i) => (out = invertedResidual(g, `features.${i + 1}`, out, b)));
    out = convNormActivation(g, `features.${blocks.length + 1}`, out, "hardswish");
    out = flatten(g, adaptiveAvgPool2d(g, out));
    // classifier: Linear, Hardswish, Dropout (the identity in eval mode), Linear.
    return linear(g, "classifier.3", hardswish(g, linear(g, "classifier.0", out)));
  };
}

const T = true;
const F = false;

export const EXPORTERS: Record<string, Exporter> = {
  mobilenet_v3_large: mobilenetV3([
    [16, 3, 16, 16, F, F, 1], [16, 3, 64, 24, F, F, 2], [24, 3, 72, 24, F, F, 1], [24, 5, 72, 40, T, F, 2],
    [40, 5, 120, 40, T, F, 1], [40, 5, 120, 40, T, F, 1], [40, 3, 240, 80, F, T, 2], [80, 3, 200, 80, F, T, 1],
    [80, 3, 184, 80, F, T, 1], [80, 3, 184, 80, F, T, 1], [80, 3, 480, 112, T, T, 1], [112, 3, 672, 112, T, T, 1],
    [112, 5, 672, 160, T, T, 2], [160, 5, 960, 160, T, T, 1], [160, 5, 960, 160, T, T, 1],
  ]),
  mobilenet_v3_small: mobilenetV3([
    [16, 3, 16, 16, T, F, 2], [16, 3, 72, 24, F, F, 2], [24, 3, 88, 24, F, F, 1], [24, 5, 96, 40, T, T, 2],
    [40, 5, 240, 40, T, T, 1], [40, 5, 240, 40, T, T, 1], [40, 5, 120, 48, T, T, 1], [48, 5, 144, 48, T, T, 1],
    [48, 5, 288, 96, T, T, 2], [96, 5, 576, 96, T, T, 1], [96, 5, 576, 96, T, T, 1],
  ]),
};
