// torchvision's ResNet family (resnet.py) as an ONNX graph, block for block.
import { Graph } from "./graph";
import { adaptiveAvgPool2d, add, batchNorm2d, conv2d, flatten, linear, maxPool2d, relu } from "./layers";
import type { Exporter } from "./exporter";

const EPS = 1e-5;

function basicBlock(g: Graph, p: string, x: string, stride: number): string {
  let out = relu(g, batchNorm2d(g, `${p}.bn1`, conv2d(g, `${p}.conv1`, x, { stride }), EPS));
  out = batchNorm2d(g, `${p}.bn2`, conv2d(g, `${p}.conv2`, out), EPS);
  return relu(g, add(g, out, shortcut(g, p, x, stride)));
}

// The stride sits on the 3x3 convolution (conv2), as in torchvision ("ResNet V1.5").
function bottleneck(g: Graph, p: string, x: string, stride: number, groups: number): string {
  let out = relu(g, batchNorm2d(g, `${p}.bn1`, conv2d(g, `${p}.conv1`, x), EPS));
  out = relu(g, batchNorm2d(g, `${p}.bn2`, conv2d(g, `${p}.conv2`, out, { stride, groups }), EPS));
  out = batchNorm2d(g, `${p}.bn3`, conv2d(g, `${p}.conv3`, out), EPS);
  return relu(g, add(g, out, shortcut(g, p, x, stride)));
}

function shortcut(g: Graph, p: string, x: string, stride: number): string {
  if (!g.has(`${p}.downsample.0.weight`)) return x;
  return batchNorm2d(g, `${p}.downsample.1`, conv2d(g, `${p}.downsample.0`, x, { stride, padding: 0 }), EPS);
}

function resnet(block: "basic" | "bottleneck", layers: number[], groups = 1): Exporter {
  return (g, x) => {
    let out = relu(g, batchNorm2d(g, "bn1", conv2d(g, "conv1", x, { stride: 2, padding: 3 }), EPS));
    out = maxPool2d(g, out, 3, 2, 1);
    layers.forEach((blocks, stage) => {
      for (let i = 0; i < blocks; i++) {
        const stride = stage > 0 && i === 0 ? 2 : 1;
        const p = `layer${stage + 1}.${i}`;
        out = block === "basic" ? basicBlock(g, p, out, stride) : bottleneck(g, p, out, stride, groups);
      }
    });
    return linear(g, "fc", flatten(g, adaptiveAvgPool2d(g, out)));
  };
}

export const EXPORTERS: Record<string, Exporter> = {
  resnet18: resnet("basic", [2, 2, 2, 2]),
  resnet34: resnet("basic", [3, 4, 6, 3]),
  resnet50: resnet("bottleneck", [3, 4, 6, 3]),
  resnet101: resnet("bottleneck", [3, 4, 23, 3]),
  resnet152: resnet("bottleneck", [3, 8, 36, 3]),
  resnext50_32x4d: resnet("bottleneck", [3, 4, 6, 3], 32),
  wide_resnet50_2: resnet("bottleneck", [3, 4, 6, 3]),
};
