// loadClassifier(...).classify under concurrent requests: the same answers as
// one request at a time, with and without dynamic batching.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tt from "../lib";
import { modelMetadata, RunSettings } from "../lib/train/checkpoint";

const DATA = path.resolve(__dirname, "../../shared/data/hymenoptera_data");
const settings: RunSettings = {
  mode: "finetune", arch: "resnet18", data: DATA, epochs: 1, batchSize: 4, lr: 0.001, momentum: 0.9,
  stepSize: 7, gamma: 0.1, weights: "none", seed: 0, device: "cpu",
};

let tmp: string;
let checkpoint: string;
let images: string[];

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tt-classifier-"));
  checkpoint = path.join(tmp, "model.safetensors");
  tt.manualSeed(3);
  const model = tt.models.resnet18();
  model.fc = new tt.nn.Linear(model.fc.inFeatures, 2);
  await tt.save(model.stateDict(), checkpoint, modelMetadata({ classes: ["ants", "bees"], settings }));
  const folder = new tt.datasets.ImageFolder(path.join(DATA, "val"));
  // a few of each class, spread over the set
  images = Array.from({ length: 10 }, (_, i) => folder.samples[Math.floor((i * folder.length) / 10)][0]);
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const asMap = (p: tt.Prediction[]) => Object.fromEntries(p.map((x) => [x.label, x.probability]));

describe("classify", () => {
  let sequential: Record<string, number>[];

  beforeAll(async () => {
    const classifier = await tt.loadClassifier(checkpoint);
    sequential = [];
    for (const image of images) sequential.push(asMap(await classifier.classify(image)));
  });

  test.each([1, 4, 8])("concurrent requests with maxBatch %i give the sequential results", async (maxBatch) => {
    const classifier = await tt.loadClassifier(checkpoint, { maxBatch });
    expect(classifier.maxBatch).toBe(maxBatch);
    // twice over, so that batches mix the same image at different rows
    const all = [...images, ...images.slice().reverse()];
    // The model is kept busy with the first request until every other request waits
    // (the gate opens on the last arrival, not after a delay): then the batches are
    // [1], then maxBatch at a time, whatever order the images finish decoding in.
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const waiting = classifier["waiting"];
    const push = waiting.push.bind(waiting);
    waiting.push = (...items) => {
      const n = push(...items);
      if (n === all.length - 1) open();
      return n;
    };
    const batchSizes: number[] = [];
    // The classifier runs the model's fused eval form (inferenceForward).
    const forward = classifier.model.inferenceForward.bind(classifier.model);
    jest.spyOn(classifier.model, "inferenceForward").mockImplementation(async (x, options) => {
      batchSizes.push(x.shape[0]);
      if (batchSizes.length === 1) await gate;
      return forward(x, options);
    });
    const results = await Promise.all(all.map((image) => classifier.classify(image)));
    const rest = all.length - 1;
    const expectedSizes = [1, ...Array.from({ length: Math.ceil(rest / maxBatch) }, (_, i) => Math.min(maxBatch, rest - i * maxBatch))];
    expect(batchSizes).toEqual(expectedSizes);
    results.forEach((r, i) => {
      const expected = sequential[images.indexOf(all[i])];
      expect(r.map((p) => p.label).sort()).toEqual(["ants", "bees"]);
      expect(r[0].probability).toBeGreaterThanOrEqual(r[1].probability);
      // a batch may sum in another order than a single image: float32 rounding only
      for (const p of r) expect(Math.abs(p.probability - expected[p.label])).toBeLessThan(1e-4);
    });
  });

  test("a bad image rejects its own request only; topk still applies", async () => {
    const classifier = await tt.loadClassifier(checkpoint, { maxBatch: 4 });
    const results = await Promise.allSettled([
      classifier.classify(images[0], { topk: 1 }),
      classifier.classify(Buffer.from("not an image")),
      classifier.classify(images[1]),
    ]);
    expect(results[0].status).toBe("fulfilled");
    expect((results[0] as PromiseFulfilledResult<tt.Prediction[]>).value).toHaveLength(1);
    expect(results[1].status).toBe("rejected");
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/Could not decode image bytes/);
    expect(results[2].status).toBe("fulfilled");
    expect(asMap((results[2] as PromiseFulfilledResult<tt.Prediction[]>).value).ants).toBeCloseTo(sequential[1].ants, 4);
  });

  test("refuses a maxBatch that is not a positive integer", async () => {
    await expect(tt.loadClassifier(checkpoint, { maxBatch: 0 })).rejects.toThrow(/maxBatch/);
    await expect(tt.loadClassifier(checkpoint, { maxBatch: 1.5 })).rejects.toThrow(/maxBatch/);
  });
});
