// torchvision's VisionTransformer (vision_transformer.py) as an ONNX graph:
// patches by a strided convolution, the class token, pre-norm encoder blocks
// with nn.MultiheadAttention's packed projection, and the class token's
// encoding to the head. Dropout is the identity in eval mode.
import { Dim, Graph } from "./graph";
import { add, conv2d, gelu, layerNorm, linear, linearLastAxis, transpose } from "./layers";
import type { Exporter } from "./exporter";

const EPS = 1e-6;

function reshape(g: Graph, x: string, target: number[], shape: Dim[]): string {
  // In ONNX's Reshape a 0 keeps that input dimension: the batch stays whatever it is.
  return g.node("Reshape", [x, g.constantInt64("shape", target)], shape);
}

/** x[..., start:end] on the last axis. */
function sliceLast(g: Graph, x: string, start: number, end: number): string {
  const shape = g.shape(x);
  const axis = shape.length - 1;
  const inputs = [x, g.constantInt64("starts", [start]), g.constantInt64("ends", [end]), g.constantInt64("axes", [axis])];
  return g.node("Slice", inputs, [...shape.slice(0, -1), end - start]);
}

function selfAttention(g: Graph, p: string, x: string, heads: number): string {
  const [n, l, e] = g.shape(x);
  const dim = e as number;
  const d = dim / heads;
  // The packed in_proj as one Linear, then q, k and v as slices of its output (torch's chunk(3, -1)).
  const qkv = g.node("Add", [
    g.node("MatMul", [x, g.node("Transpose", [g.weight(`${p}.in_proj_weight`)], [dim, 3 * dim], { perm: [1, 0] }, `${p}.in_proj_weight_t`)], [n, l, 3 * dim]),
    g.weight(`${p}.in_proj_bias`),
  ], [n, l, 3 * dim], {}, `${p}.in_proj`);
  const headsOf = (t: string) => reshape(g, t, [0, 0, heads, d], [n, l, heads, d]);
  const q = g.node("Div", [transpose(g, headsOf(sliceLast(g, qkv, 0, dim)), [0, 2, 1, 3]), g.constant("sqrt_d", [], [Math.sqrt(d)])], [n, heads, l, d]);
  const kT = transpose(g, headsOf(sliceLast(g, qkv, dim, 2 * dim)), [0, 2, 3, 1]);
  const v = transpose(g, headsOf(sliceLast(g, qkv, 2 * dim, 3 * dim)), [0, 2, 1, 3]);
  const attention = g.node("Softmax", [g.node("MatMul", [q, kT], [n, heads, l, l])], [n, heads, l, l], { axis: -1 });
  const out = transpose(g, g.node("MatMul", [attention, v], [n, heads, l, d]), [0, 2, 1, 3]);
  return linearLastAxis(g, `${p}.out_proj`, reshape(g, out, [0, 0, dim], [n, l, dim]));
}

function encoderBlock(g: Graph, p: string, x: string, heads: number): string {
  const attended = add(g, selfAttention(g, `${p}.self_attention`, layerNorm(g, `${p}.ln_1`, x, EPS), heads), x);
  const mlp = linearLastAxis(g, `${p}.mlp.3`, gelu(g, linearLastAxis(g, `${p}.mlp.0`, layerNorm(g, `${p}.ln_2`, attended, EPS))));
  return add(g, attended, mlp);
}

function vit(heads: number): Exporter {
  return (g, x) => {
    const [dim, , patch] = g.dims("conv_proj.weight");
    const image = g.shape(x)[2] as number;
    const [, seqLength] = g.dims("encoder.pos_embedding");
    const cells = (image / patch) ** 2;
    if (image % patch !== 0 || cells + 1 !== seqLength) {
      throw new Error(`cannot export: this ViT takes ${Math.round(Math.sqrt(seqLength - 1)) * patch}x${Math.round(Math.sqrt(seqLength - 1)) * patch} images (its pos_embedding), not imageSize ${image}`);
    }
    const [n] = g.shape(x);
    const projected = conv2d(g, "conv_proj", x, { stride: patch, padding: 0 });
    const patches = transpose(g, reshape(g, projected, [0, dim, cells], [n, dim, cells]), [0, 2, 1]);
    // The class token, expanded to the batch (whatever it is) and put first.
    const batch = g.int64Node("Slice", [g.int64Node("Shape", [x], [4]), g.constantInt64("starts", [0]), g.constantInt64("ends", [1])], [1]);
    const target = g.int64Node("Concat", [batch, g.constantInt64("token_shape", [1, dim])], [3], { axis: 0 });
    const token = g.node("Expand", [g.weight("class_token"), target], [n, 1, dim], {}, "class_token_expanded");
    let out = g.node("Concat", [token, patches], [n, seqLength, dim], { axis: 1 });
    out = add(g, out, g.weight("encoder.pos_embedding"));
    for (let i = 0; g.has(`encoder.layers.encoder_layer_${i}.ln_1.weight`); i++) out = encoderBlock(g, `encoder.layers.encoder_layer_${i}`, out, heads);
    out = layerNorm(g, "encoder.ln", out, EPS);
    // The class token's encoding: x[:, 0].
    const first = g.node("Gather", [out, g.constantInt64("index", [0], true)], [n, dim], { axis: 1 });
    return linear(g, "heads.head", first);
  };
}

export const EXPORTERS: Record<string, Exporter> = {
  vit_b_16: vit(12),
};
