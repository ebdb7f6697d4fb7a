// --arch and named weights end to end: the architecture chosen at training is
// written into the model file, and predict and loadClassifier rebuild it; the
// weights cache is torch.hub's.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tt from "../lib";
import { modelMetadata, RunSettings } from "../lib/train/checkpoint";
import { tutorialModel } from "../lib/train/tutorial";

const ROOT = path.resolve(__dirname, "..");
const DATA = path.resolve(ROOT, "../shared/data/hymenoptera_data");
const CLI = (name: string) => path.join(ROOT, "dist", "cli", `${name}.js`);

let tmp: string;

function run(name: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI(name), ...args], { encoding: "utf8", timeout: 600_000, env: { ...process.env, FORCE_COLOR: "0", ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function subset(dir: string, n: number) {
  for (const phase of ["train", "val"]) {
    for (const cls of ["ants", "bees"]) {
      const src = path.join(DATA, phase, cls);
      const dst = path.join(dir, phase, cls);
      fs.mkdirSync(dst, { recursive: true });
      for (const f of fs.readdirSync(src).filter((f) => f.endsWith(".jpg")).sort().slice(0, n)) fs.symlinkSync(path.join(src, f), path.join(dst, f));
    }
  }
  return dir;
}

beforeAll(() => {
  expect(fs.existsSync(CLI("featureExtract"))).toBe(true); // built by `npm run build`
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tt-arch-"));
  subset(path.join(tmp, "data"), 2);
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

test("feature-extract --arch mobilenet_v3_small writes the arch into the model file, and predict rebuilds that model", async () => {
  const data = path.join(tmp, "data");
  const out = path.join(tmp, "run");
  const r = run("featureExtract", ["--arch", "mobilenet_v3_small", "--data", data, "--epochs", "1", "--weights", "none", "--out", out, "--json", "--batch-size", "2", "--no-report"]);
  expect(r.stderr).toBe("");
  expect(r.status === 0 ? 0 : `exit status ${r.status}, stderr: ${r.stderr}`).toBe(0);  // a failure shows its stderr
  const file = path.join(out, "model.safetensors");
  const meta = await tt.loadSafetensorsMetadata(file);
  expect(meta!.arch).toBe("mobilenet_v3_small");
  expect(JSON.parse(meta!.settings).arch).toBe("mobilenet_v3_small");
  const saved = await tt.load(file);
  expect(saved.get("classifier.3.weight")!.shape).toEqual([2, 1024]);
  const image = path.join(DATA, "val", "bees", fs.readdirSync(path.join(DATA, "val", "bees")).sort()[0]);
  const p = run("predict", ["--model", file, "--json", image]);
  expect(p.stderr).toBe("");
  expect(["ants", "bees"]).toContain(JSON.parse(p.stdout.trim()).label);
});

test.each([
  [["--arch", "resnet19"], /--arch: unknown architecture resnet19 \(one of .*mobilenet_v3_small.*resnet18/],
  [["--arch", "resnet18", "--weights", "IMAGENET1K_V2"], /--weights: resnet18 has no IMAGENET1K_V2 weights \(it has DEFAULT, IMAGENET1K_V1\)/],
])("finetune %j is a usage error naming the flag", (args, message) => {
  const r = run("finetune", [...args, "--data", path.join(tmp, "data")]);
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(message);
});

test("feature extraction freezes everything but the head, wherever the architecture keeps it", async () => {
  for (const [arch, head] of [["resnet50", "fc"], ["mobilenet_v3_large", "classifier.3"]]) {
    const { model, trainable } = await tutorialModel("feature-extract", 3, null, arch);
    const names = model.namedParameters().filter(([, p]) => p.requiresGrad).map(([n]) => n);
    expect(names).toEqual([`${head}.weight`, `${head}.bias`]);
    expect(trainable.map((t) => t.shape)).toEqual([[3, tt.models.getHead(model).inFeatures], [3]]);
  }
});

test("loadClassifier rebuilds the architecture its metadata names", async () => {
  const model = tt.models.resnet34();
  tt.models.replaceHead(model, 2);
  const file = path.join(tmp, "r34.safetensors");
  const settings = { mode: "finetune", arch: "resnet34" } as unknown as RunSettings;
  await tt.save(model.stateDict(), file, modelMetadata({ classes: ["a", "b"], settings }));
  const classifier = await tt.loadClassifier(file);
  expect(classifier.model.stateDict().has("layer3.5.conv2.weight")).toBe(true); // resnet34 has 6 blocks in layer3
  const expected = (await model.stateDict().get("layer3.5.conv2.weight")!.data()) as Float32Array;
  expect(await classifier.model.stateDict().get("layer3.5.conv2.weight")!.data()).toEqual(expected);
});

test("named weights come from torch.hub's cache ($TORCH_HOME/hub/checkpoints) when the file is there", async () => {
  const home = path.join(tmp, "torch-home");
  const cache = path.join(home, "hub", "checkpoints");
  fs.mkdirSync(cache, { recursive: true });
  tt.manualSeed(5);
  const source = tt.models.resnet18();
  // The reader tells formats apart by their first bytes, so a safetensors file stands in for the .pth.
  await tt.save(source.stateDict(), path.join(cache, "resnet18-f37072fd.pth"));
  const previous = process.env.TORCH_HOME;
  process.env.TORCH_HOME = home;
  try {
    expect(tt.models.ResNet18_Weights.DEFAULT.fileName).toBe("resnet18-f37072fd.pth");
    const model = await tt.models.resnet18({ weights: "DEFAULT" });
    expect(await model.stateDict().get("layer1.0.conv1.weight")!.data()).toEqual(await source.stateDict().get("layer1.0.conv1.weight")!.data());
    const same = await tt.models.resnet18({ weights: tt.models.ResNet18_Weights.IMAGENET1K_V1 });
    expect(await same.stateDict().get("fc.bias")!.data()).toEqual(await source.stateDict().get("fc.bias")!.data());
  } finally {
    if (previous === undefined) delete process.env.TORCH_HOME;
    else process.env.TORCH_HOME = previous;
  }
});
