// Module.inferenceForward, the fused eval form (native/inference.h): for every
// registered architecture with Conv2d + BatchNorm2d pairs, in each layout, its
// logits equal the plain eval forward's, every BatchNorm is folded, and after
// the weights or running statistics change it is rebuilt and still agrees.
import * as tt from "../lib";
import { probeLayouts } from "../lib/layoutProbe";
import { compare, perturbBatchNorms, testInput } from "./helpers/onnx";

// Folding rescales each convolution's weights (worked in double, rounded once
// to float32) and the fast layouts sum in oneDNN's own order, so the logits
// differ from the plain model's by float32 rounding that grows with depth:
// about 1e-6 of the largest |logit| was measured here (ResNet-152 included).
// 1e-4 leaves that a 100x margin, while a BatchNorm folded without its mean,
// its epsilon or its scale, or one left unfolded and also skipped, moves the
// logits by 1e-2 or more (perturbed statistics: var in [0.5, 1.5]).
const RELATIVE_TOLERANCE = 1e-4;

// 64x64 keeps the deep models short on two cores; every CNN here pools globally.
const SIZE = 64;
const LAYOUTS: tt.InferenceLayout[] = ["contiguous", "channels_last", "mkldnn"];
// ConvNeXt and the ViT normalise with LayerNorm: nothing to fold.
const UNFOLDED = new Set(["convnext_tiny", "vit_b_16"]);
const FOLDED = tt.models.listModels().filter((name) => !UNFOLDED.has(name));

async function logits(run: () => Promise<tt.Tensor>): Promise<Float32Array> {
  const out = await run();
  try {
    return (await out.data()) as Float32Array;
  } finally {
    out.dispose();
  }
}

function batchNormCount(model: tt.nn.Module): number {
  return [...model.stateDict().keys()].filter((k) => k.endsWith(".running_var")).length;
}

async function expectClose(model: tt.nn.Module, x: tt.Tensor, layout: tt.InferenceLayout): Promise<number> {
  const plain = await logits(() => tt.noGrad(() => model.forward(x)));
  const fast = await logits(() => model.inferenceForward(x, { layout }));
  const { diff, scale } = compare(fast, plain);
  expect(scale).toBeGreaterThan(0);
  expect(diff).toBeLessThanOrEqual(RELATIVE_TOLERANCE * scale);
  return diff / scale;
}

// Which layouts run right here (on libtorch 2.x, child processes find out), and so which one each request gets.
let inEffect: (wanted: tt.InferenceLayout, resnet: boolean) => tt.InferenceLayout;
beforeAll(async () => {
  const probes = await probeLayouts();
  const channelsLast = probes.channels_last.usable ? "channels_last" : "contiguous";
  inEffect = (wanted, resnet) =>
    wanted === "contiguous" ? wanted : wanted === "channels_last" || !resnet || !probes.mkldnn.usable ? channelsLast : "mkldnn";
});

describe.each(FOLDED)("%s", (name) => {
  test("fast form logits equal the plain eval model's in every layout, with every BatchNorm folded", async () => {
    const model = (await tt.models.getModel(name, { numClasses: 7 })) as tt.nn.Module;
    try {
      await perturbBatchNorms(model);
      model.eval();
      const x = tt.tensor(testInput([2, 3, SIZE, SIZE]), [2, 3, SIZE, SIZE]);
      const expectedFolds = batchNormCount(model);
      expect(expectedFolds).toBeGreaterThan(0);
      for (const layout of LAYOUTS) {
        await expectClose(model, x, layout);
        const info = await model.inferenceInfo();
        expect(info.folded).toBe(expectedFolds);
        // Only the ResNet family's layers run on oneDNN tensors; the others, and layouts the probe refused, fall back.
        expect(info.layout).toBe(inEffect(layout, name.startsWith("res") || name.startsWith("wide_res")));
      }
      x.dispose();
    } finally {
      model.dispose();
    }
  });
});

describe("rebuilt when what it was made from changes", () => {
  let model: tt.nn.Module;
  let x: tt.Tensor;
  beforeEach(async () => {
    model = tt.models.resnet18({ numClasses: 3 });
    await perturbBatchNorms(model);
    model.eval();
    x = tt.tensor(testInput([2, 3, SIZE, SIZE]), [2, 3, SIZE, SIZE]);
  });
  afterEach(() => {
    x.dispose();
    model.dispose();
  });

  test("built once while nothing changes", async () => {
    await expectClose(model, x, "channels_last");
    await expectClose(model, x, "channels_last");
    expect((await model.inferenceInfo()).builds).toBe(1);
  });

  test("after loadStateDict", async () => {
    await expectClose(model, x, "channels_last");
    const sd = model.stateDict();
    const conv = sd.get("layer2.0.conv1.weight")!;
    const scaled = tt.tensor(Float32Array.from((await conv.data()) as Float32Array, (v) => -2 * v), conv.shape);
    const bnMean = sd.get("layer3.1.bn2.running_mean")!;
    const shifted = tt.tensor(Float32Array.from((await bnMean.data()) as Float32Array, (v) => v + 0.5), bnMean.shape);
    model.loadStateDict(new Map([...sd, ["layer2.0.conv1.weight", scaled], ["layer3.1.bn2.running_mean", shifted]]));
    await expectClose(model, x, "channels_last");
    expect((await model.inferenceInfo()).builds).toBe(2);
    for (const t of sd.values()) t.dispose();
    scaled.dispose();
    shifted.dispose();
  });

  test("after an optimizer step", async () => {
    await expectClose(model, x, "mkldnn");
    model.train();
    const optimizer = new tt.optim.SGD(model.parameters(), { lr: 0.5, momentum: 0.9 });
    const criterion = new tt.nn.CrossEntropyLoss();
    const labels = tt.tensor(new BigInt64Array([0n, 2n]), [2]);
    const out = await model.forward(x);
    const loss = await criterion.forward(out, labels);
    await loss.backward();
    await optimizer.step();
    model.eval();
    await expectClose(model, x, "mkldnn");
    expect((await model.inferenceInfo()).builds).toBe(2);
    for (const t of [out, loss, labels]) t.dispose();
  });

  test("after a train-mode forward moves the running statistics (which bumps no version)", async () => {
    // One layout throughout: a change of layout is a rebuild of its own.
    const before = await logits(() => model.inferenceForward(x, { layout: "channels_last" }));
    model.train();
    // In train mode it is the plain forward: batch statistics, and the running ones updated.
    const trainPlain = await logits(() => tt.noGrad(() => model.forward(x)));
    const trainFast = await logits(() => model.inferenceForward(x));
    const { diff, scale } = compare(trainFast, trainPlain);
    expect(diff).toBeLessThanOrEqual(RELATIVE_TOLERANCE * scale);
    model.eval();
    await expectClose(model, x, "channels_last");
    const after = await logits(() => model.inferenceForward(x, { layout: "channels_last" }));
    const moved = compare(after, before);
    expect(moved.diff).toBeGreaterThan(10 * RELATIVE_TOLERANCE * moved.scale);
    expect((await model.inferenceInfo()).builds).toBe(2);
  });

  test("after a layer is replaced", async () => {
    await expectClose(model, x, "contiguous");
    model.setSubmodule("fc", new tt.nn.Linear(512, 4));
    const out = await logits(() => model.inferenceForward(x, { layout: "contiguous" }));
    expect(out.length).toBe(8);
    await expectClose(model, x, "contiguous");
  });

  test("a bad layout is an error naming it", () => {
    expect(() => model.inferenceForward(x, { layout: "nhwc" as tt.InferenceLayout })).toThrow(/layout.*nhwc/s);
  });
});
