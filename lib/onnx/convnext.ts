// torchvision's ConvNeXt (convnext.py) as an ONNX graph; stochastic depth is
// the identity in eval mode, so a block is x + layer_scale * block(x).
import { Graph } from "./graph";
import { adaptiveAvgPool2d, add, conv2d, flatten, gelu, layerNorm, layerNorm2d, linear, linearLastAxis, mul, transpose } from "./layers";
import type { Exporter } from "./exporter";

const EPS = 1e-6;

function cnBlock(g: Graph, p: string, x: string): string {
  const channels = g.shape(x)[1] as number;
  let out = conv2d(g, `${p}.block.0`, x, { groups: channels });
  out = transpose(g, out, [0, 2, 3, 1]);
  out = layerNorm(g, `${p}.block.2`, out, EPS);
  out = linearLastAxis(g, `${p}.block.5`, gelu(g, linearLastAxis(g, `${p}.block.3`, out)));
  out = transpose(g, out, [0, 3, 1, 2]);
  return add(g, mul(g, g.weight(`${p}.layer_scale`), out), x);
}

/** Stages as [blocks, downsampled after]: the features Sequential alternates stages and downsampling layers. */
function convnext(stages: [number, boolean][]): Exporter {
  return (g, x) => {
    let out = layerNorm2d(g, "features.0.1", conv2d(g, "features.0.0", x, { stride: 4, padding: 0 }), EPS);
    let index = 1;
    for (const [blocks, downsample] of stages) {
      for (let i = 0; i < blocks; i++) out = cnBlock(g, `features.${index}.${i}`, out);
      index++;
      if (downsample) {
        out = conv2d(g, `features.${index}.1`, layerNorm2d(g, `features.${index}.0`, out, EPS), { stride: 2, padding: 0 });
        index++;
      }
    }
    // classifier: LayerNorm2d, Flatten, Linear.
    return linear(g, "classifier.2", flatten(g, layerNorm2d(g, "classifier.0", adaptiveAvgPool2d(g, out), EPS)));
  };
}

export const EXPORTERS: Record<string, Exporter> = {
  convnext_tiny: convnext([[3, true], [3, true], [9, true], [3, false]]),
};
