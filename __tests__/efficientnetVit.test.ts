// What EfficientNet and the ViT add beyond modelZoo's parity: the head where
// each keeps it, the ViT's image size (an option, and fixed by named weights
// as torchvision's builder fixes it), and the errors for wrong sizes.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tt from "../lib";
import { tutorialModel } from "../lib/train/tutorial";

// Values need not be random for these checks, only the shapes matter.
const input = (shape: number[]) => tt.tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i)), shape);

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tt-effvit-"));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

test("feature extraction freezes everything but the head: classifier.1 for EfficientNet, heads.head for the ViT", async () => {
  for (const [arch, head, inFeatures] of [["efficientnet_b0", "classifier.1", 1280], ["vit_b_16", "heads.head", 768]] as const) {
    const { model, trainable } = await tutorialModel("feature-extract", 3, null, arch);
    const names = model.namedParameters().filter(([, p]) => p.requiresGrad).map(([n]) => n);
    expect(names).toEqual([`${head}.weight`, `${head}.bias`]);
    expect(trainable.map((t) => t.shape)).toEqual([[3, inFeatures], [3]]);
    model.dispose();
  }
});

test("a replaced head is the one that runs: EfficientNet-B1 and a 32x32 ViT give one logit per new class", async () => {
  for (const model of [tt.models.efficientnet_b1(), tt.models.vit_b_16({ imageSize: 32 })]) {
    tt.models.replaceHead(model, 3);
    model.eval();
    const x = input([2, 3, 32, 32]);
    const y = await tt.noGrad(() => model.forward(x));
    expect(y.shape).toEqual([2, 3]);
    for (const t of [x, y]) t.dispose();
    model.dispose();
  }
});

test("the ViT rejects images of another size than its imageSize, naming both", async () => {
  const model = tt.models.vit_b_16({ imageSize: 32 });
  const x = input([1, 3, 48, 48]);
  await expect(tt.noGrad(() => model.forward(x))).rejects.toThrow(/expected \(batch, 3, 32, 32\) images; got \(1, 3, 48, 48\)/);
  x.dispose();
  model.dispose();
  expect(() => tt.models.vit_b_16({ imageSize: 40 })).toThrow(/imageSize 40 is not a multiple of the patch size 16/);
  expect(() => tt.models.vit_b_16({ imageSize: 0 })).toThrow(/Expected positive integer for imageSize but received 0/);
  expect(() => tt.models.vit_b_16({ image_size: 32 } as never)).toThrow(/Unknown option "image_size" for vit_b_16; did you mean "imageSize"\?/);
});

test("named ViT weights fix imageSize to theirs, as torchvision's min_size does, and say so when given another", () => {
  expect(() => tt.models.vit_b_16({ weights: "IMAGENET1K_SWAG_E2E_V1", imageSize: 224 })).toThrow(
    /'imageSize' expected value 384 but got 224 instead \(ViT_B_16_Weights.IMAGENET1K_SWAG_E2E_V1 takes 384x384 images\)/,
  );
  expect(() => tt.models.vit_b_16({ weights: "IMAGENET1K_SWAG_LINEAR_V1", numClasses: 10 })).toThrow(/'numClasses' expected value 1000 but got 10/);
  expect(() => tt.models.vit_b_16({ weights: "IMAGENET1K_V2" })).toThrow(
    /vit_b_16 has no weights named IMAGENET1K_V2 \(it has: DEFAULT, IMAGENET1K_V1, IMAGENET1K_SWAG_E2E_V1, IMAGENET1K_SWAG_LINEAR_V1\)/,
  );
  expect(() => tt.models.efficientnet_b0({ weights: tt.models.EfficientNet_B1_Weights.IMAGENET1K_V2 })).toThrow(
    /Expected weights of EfficientNet_B0_Weights for efficientnet_b0 but received EfficientNet_B1_Weights.IMAGENET1K_V2/,
  );
});

test("IMAGENET1K_SWAG_E2E_V1 from torch.hub's cache builds a 384x384 ViT (577 positions) and loads the file", async () => {
  const home = path.join(tmp, "torch-home");
  const cache = path.join(home, "hub", "checkpoints");
  fs.mkdirSync(cache, { recursive: true });
  tt.manualSeed(7);
  const source = tt.models.vit_b_16({ imageSize: 384 });
  // The reader tells formats apart by their first bytes, so a safetensors file stands in for the .pth.
  await tt.save(source.stateDict(), path.join(cache, tt.models.ViT_B_16_Weights.IMAGENET1K_SWAG_E2E_V1.fileName));
  const previous = process.env.TORCH_HOME;
  process.env.TORCH_HOME = home;
  try {
    const model = await tt.models.vit_b_16({ weights: "IMAGENET1K_SWAG_E2E_V1" });
    const pos = model.stateDict().get("encoder.pos_embedding")!;
    expect(pos.shape).toEqual([1, 577, 768]);
    expect(await pos.data()).toEqual(await source.stateDict().get("encoder.pos_embedding")!.data());
    model.dispose();
  } finally {
    if (previous === undefined) delete process.env.TORCH_HOME;
    else process.env.TORCH_HOME = previous;
    source.dispose();
  }
}, 120_000);
