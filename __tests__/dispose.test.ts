// dispose() on modules and classifiers: the native module is let go of at
// once, later use says so, and work already queued still finishes.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tt from "../lib";
import { modelMetadata, RunSettings } from "../lib/train/checkpoint";

const DATA = path.resolve(__dirname, "../../shared/data/hymenoptera_data");

test("a disposed module says so on use; a forward queued before dispose() still gives its result", async () => {
  const model = tt.models.resnet18({ numClasses: 2 }).eval();
  const x = tt.tensor(new Float32Array(3 * 64 * 64), [1, 3, 64, 64]);
  const pending = tt.noGrad(() => model.forward(x));
  expect(model.isDisposed).toBe(false);
  model.dispose();
  expect(model.isDisposed).toBe(true);
  const out = await pending;
  expect(out.shape).toEqual([1, 2]);
  out.dispose();
  expect(() => model.train()).toThrow("Module has been disposed");
  expect(() => model.parameters()).toThrow("Module has been disposed");
  await expect((async () => model.forward(x))()).rejects.toThrow("Module has been disposed");
  model.dispose(); // a second dispose() does nothing
  x.dispose();
});

test("a disposed Linear cannot become a ResNet's fc", () => {
  const model = tt.models.resnet18({ numClasses: 2 });
  const fc = new tt.nn.Linear(512, 3);
  fc.dispose();
  expect(() => (model.fc = fc)).toThrow("Module has been disposed");
  model.dispose();
});

test("a disposed classifier rejects classify(), naming why", async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tt-dispose-"));
  try {
    const model = tt.models.resnet18();
    model.fc = new tt.nn.Linear(512, 2);
    const file = path.join(tmp, "model.safetensors");
    await tt.save(model.stateDict(), file, modelMetadata({ classes: ["ants", "bees"], settings: { mode: "finetune", arch: "resnet18" } as unknown as RunSettings }));
    model.dispose();
    const classifier = await tt.loadClassifier(tmp);
    const image = path.join(DATA, "val", "ants", fs.readdirSync(path.join(DATA, "val", "ants")).sort()[0]);
    expect((await classifier.classify(image)).map((p) => p.label).sort()).toEqual(["ants", "bees"]);
    classifier.dispose();
    expect(classifier.isDisposed).toBe(true);
    expect(classifier.model.isDisposed).toBe(true);
    await expect(classifier.classify(image)).rejects.toThrow("Classifier has been disposed");
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
