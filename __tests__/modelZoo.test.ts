// Every registered architecture against torchvision itself, computed at test time: module
// tree, state-dict keys, parameter counts, logits in eval and train mode, and
// the weights enums' facts.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tt from "../lib";
import { runPython } from "./helpers/python";
import { maxAbsDiff, PY_WRITE_RAW, readRaw } from "./helpers/rawStateDict";

// The bar: within 1e-4 of the largest logit. Logits are sums of 10^4-10^5
// float32 products through 18 to 152 layers; ours and Python's run the same
// libtorch kernels, so they differ only where the summation order does, a few
// 1e-6 relative to the largest logit.
const RELATIVE_TOLERANCE = 1e-4;

const ARCHS = [
  "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d", "wide_resnet50_2", "mobilenet_v3_large", "mobilenet_v3_small",
  "convnext_tiny", "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3", "vit_b_16",
] as const;
// Models with dropout or stochastic depth: train-mode logits are compared with
// both set to 0 on both sides, which leaves what train mode changes in BatchNorm
// (batch statistics). Eval mode ignores both, so one model serves both comparisons.
const RANDOM_IN_TRAINING: Record<string, Record<string, number>> = {
  mobilenet_v3_large: { dropout: 0 },
  mobilenet_v3_small: { dropout: 0 },
  convnext_tiny: { stochasticDepthProb: 0 },
  efficientnet_b0: { dropout: 0, stochasticDepthProb: 0 },
  efficientnet_b1: { dropout: 0, stochasticDepthProb: 0 },
  efficientnet_b2: { dropout: 0, stochasticDepthProb: 0 },
  efficientnet_b3: { dropout: 0, stochasticDepthProb: 0 },
};
// The ViT runs at 32x32 (4 patches and the class token) to stay fast; its
// blocks are the same at any size, only the position embedding is shorter.
const SMALL: Record<string, Record<string, number>> = { vit_b_16: { imageSize: 32 } };
const options = (arch: string) => ({ numClasses: 10, ...RANDOM_IN_TRAINING[arch], ...SMALL[arch] });

let dir: string;
let facts: Record<string, {
  keys: string[]; modules: [string, string][]; numParams: number; default: string;
  weights: Record<string, { url: string; crop: number; resize: number; interpolation: string; numParams: number }>;
}>;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tt-zoo-"));
  const out = runPython(
    PY_WRITE_RAW +
      `
import sys, json, torch, torchvision
from torchvision.models import get_model, get_model_weights
folder = sys.argv[1]
facts = {}
for i, name in enumerate(sys.argv[2:]):
    torch.manual_seed(i)
    extra = {"dropout": 0.0} if name.startswith("mobilenet") else {"stochastic_depth_prob": 0.0} if name.startswith("convnext") else {}
    if name.startswith("efficientnet"):  # 0.14's builders fix the dropout; it is set on the module below
        extra = {"stochastic_depth_prob": 0.0}
    size = 32 if name.startswith("vit") else 64
    if name.startswith("vit"):
        extra = {"image_size": size}
    m = get_model(name, num_classes=10, **extra)
    if name.startswith("efficientnet"):
        m.classifier[0].p = 0.0
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.2, 0.2); mod.running_var.uniform_(0.5, 1.5)
                mod.weight.uniform_(0.5, 1.5); mod.bias.uniform_(-0.2, 0.2)
            if isinstance(mod, torch.nn.Linear):  # torchvision's N(0, 0.01) heads would give logits near 0
                mod.weight.normal_(0, 0.1); mod.bias.uniform_(-0.1, 0.1)
            if isinstance(mod, torch.nn.LayerNorm):  # off their 1 and 0 too
                mod.weight.uniform_(0.5, 1.5); mod.bias.uniform_(-0.2, 0.2)
        for n, p in m.named_parameters():
            if n.endswith("layer_scale"):  # 1e-6 would hide every ConvNeXt block
                p.uniform_(0.5, 1.0)
    write_raw(folder, name + "-weights", m.state_dict())
    x = torch.randn(2, 3, size, size)
    m.eval()
    with torch.no_grad():
        e = m(x)
    m.train()
    with torch.no_grad():
        t = m(x)
    write_raw(folder, name + "-io", {"input": x, "eval": e, "train": t})
    enum = get_model_weights(name)
    facts[name] = {
        "keys": list(m.state_dict().keys()),
        "modules": [[n, type(mod).__name__] for n, mod in m.named_modules()],
        "numParams": sum(p.numel() for p in get_model(name).parameters()),
        "weights": {w.name: {"url": w.url, "crop": w.transforms().crop_size[0], "resize": w.transforms().resize_size[0], "interpolation": w.transforms().interpolation.value, "numParams": w.meta["num_params"]} for w in enum},
        "default": enum.DEFAULT.name,
    }
print(json.dumps(facts))
`,
    [dir, ...ARCHS],
  );
  facts = JSON.parse(out);
}, 600_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function relativeDiff(a: Float32Array, b: Float32Array): number {
  return maxAbsDiff(a, b) / Math.max(...Array.from(b, Math.abs));
}

describe.each(ARCHS)("%s", (arch) => {
  test("has torchvision's module tree, state-dict keys in order, and parameter count", () => {
    const model = tt.models.getModel(arch, { numClasses: 10 }) as tt.nn.Module;
    expect([...model.stateDict().keys()]).toEqual(facts[arch].keys);
    expect(model.namedModules().map(([name, m]) => [name, m.kind])).toEqual(facts[arch].modules);
    const full = tt.models.getModel(arch) as tt.nn.Module;
    expect(full.parameters().reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0)).toBe(facts[arch].numParams);
  });

  test("gives torchvision's logits in eval and train mode from torchvision's weights (BatchNorm statistics off their defaults)", async () => {
    const model = tt.models.getModel(arch, options(arch)) as tt.nn.Module;
    const weights = readRaw(dir, `${arch}-weights`);
    model.loadStateDict(weights);
    const io = readRaw(dir, `${arch}-io`);
    model.eval();
    const e = await tt.noGrad(() => model.forward(io.get("input")!));
    expect(e.shape).toEqual([2, 10]);
    expect(relativeDiff((await e.data()) as Float32Array, (await io.get("eval")!.data()) as Float32Array)).toBeLessThan(RELATIVE_TOLERANCE);
    model.train();
    const t = await tt.noGrad(() => model.forward(io.get("input")!));
    expect(relativeDiff((await t.data()) as Float32Array, (await io.get("train")!.data()) as Float32Array)).toBeLessThan(RELATIVE_TOLERANCE);
    for (const x of [...weights.values(), ...io.values(), e, t]) x.dispose();
  });

  test("its weights enum has torchvision's URLs, SHA-256 prefixes, eval presets, parameter counts and DEFAULT", () => {
    const weights = tt.models.getModelWeights(arch);
    const expected = facts[arch].weights;
    expect(weights.members().map((w) => w.name)).toEqual(Object.keys(expected));
    for (const w of weights.members()) {
      // torchvision's URL is ours, or, for weights a later torchvision republished (EfficientNet's
      // ported ones, from 0.15), one of the former files ours still reads from the cache.
      if (w.url !== expected[w.name].url) expect(w.formerUrls).toContain(expected[w.name].url);
      expect(w.url).toContain(`-${w.sha256Prefix}.`);
      expect([w.resizeSize, w.cropSize, w.interpolation]).toEqual([expected[w.name].resize, expected[w.name].crop, expected[w.name].interpolation]);
      expect(w.meta.numParams).toBe(expected[w.name].numParams);
      expect(w.transforms().toString()).toContain(`Resize(size=${expected[w.name].resize}, interpolation=${expected[w.name].interpolation}`);
    }
    expect(weights.DEFAULT.name).toBe(facts[arch].default);
  });
});

test("getModel rejects an unknown architecture, listing the known ones", () => {
  expect(() => tt.models.getModel("resnet19")).toThrow(/Expected one of .*resnet18.*resnet50.* for arch but received "resnet19"/);
  expect(tt.models.listModels()).toEqual([...ARCHS].sort());
});

test("builders reject unknown and snake_case options by name", () => {
  expect(() => tt.models.resnet50({ num_classes: 3 } as never)).toThrow(/^Unknown option "num_classes" for resnet50; did you mean "numClasses"\?/);
  expect(() => tt.models.convnext_tiny({ stochastic_depth_prob: 0 } as never)).toThrow(/did you mean "stochasticDepthProb"\?/);
  expect(() => tt.models.resnet50({ numClasses: 0 })).toThrow(/Expected positive integer for numClasses but received 0/);
});

test("named weights fix numClasses to theirs, and an architecture without such weights says which it has", () => {
  expect(() => tt.models.resnet50({ numClasses: 10, weights: "IMAGENET1K_V2" })).toThrow(/'numClasses' expected value 1000 but got 10/);
  expect(() => tt.models.resnet18({ weights: "IMAGENET1K_V2" })).toThrow(/resnet18 has no weights named IMAGENET1K_V2 \(it has: DEFAULT, IMAGENET1K_V1\)/);
  expect(() => tt.models.resnet18({ weights: tt.models.ResNet50_Weights.IMAGENET1K_V1 })).toThrow(
    /Expected weights of ResNet18_Weights for resnet18 but received ResNet50_Weights.IMAGENET1K_V1/,
  );
});

test("zeroInitResidual starts every Bottleneck's bn3 at zero, as torchvision's zero_init_residual does", async () => {
  const sd = tt.models.resnet50({ zeroInitResidual: true }).stateDict();
  const w = (await sd.get("layer2.3.bn3.weight")!.data()) as Float32Array;
  expect(w.every((v) => v === 0)).toBe(true);
  expect(((await sd.get("layer2.3.bn2.weight")!.data()) as Float32Array).every((v) => v === 1)).toBe(true);
});
