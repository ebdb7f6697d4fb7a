// Serving: our loadClassifier(...).classify under `concurrency` concurrent
// requests, beside the same weights exported to ONNX (by tools.py weights)
// and served by onnxruntime-node with the same preprocessing (our decoder and
// val transform, then the tensor's data). Throughput, p50/p99 latency, and the
// event loop's worst delay meanwhile.
"use strict";
const fs = require("fs");
const path = require("path");
const { monitorEventLoopDelay } = require("perf_hooks");
const { dist, now, runPart } = require("./common");

const tt = dist();
const { modelMetadata } = dist("train/checkpoint");

async function harness(classify, images, { requests, concurrency }) {
  for (let i = 0; i < concurrency; i++) await classify(images[i % images.length]); // warm-up
  const latencies = [];
  let next = 0;
  const eld = monitorEventLoopDelay({ resolution: 5 });
  eld.enable();
  const started = now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < requests) {
      const image = images[next++ % images.length];
      const t = now();
      await classify(image);
      latencies.push(now() - t);
    }
  }));
  const seconds = now() - started;
  eld.disable();
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] * 1000;
  return { requests, concurrency, seconds, imagesPerSecond: requests / seconds, p50ms: pct(50), p99ms: pct(99), maxEventLoopDelayMs: eld.max / 1e6 };
}

const maxDiff = (a, b) => Math.max(...a.map((v, i) => Math.abs(v - b[i])));

function softmax(row) {
  const m = Math.max(...row);
  const e = row.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

runPart(async (args) => {
  const classes = ["ants", "bees"];
  const images = new tt.datasets.ImageFolder(path.join(args.data, "val")).samples.map(([file]) => file);
  const checkInput = new Float32Array(fs.readFileSync(path.join(args.dir, "check-input.f32")).buffer.slice(0));
  const expected = args.checkLogits.flat();
  const out = {};

  // Ours: a checkpoint made on the fly from Python's weights, as `npm run finetune` writes one.
  const loaded = await tt.load(path.join(args.dir, "resnet18-2.pth"));
  const model = tt.models.resnet18();
  model.fc = new tt.nn.Linear(512, 2);
  model.loadStateDict(loaded);
  for (const t of loaded.values()) t.dispose();
  const checkpoint = path.join(args.dir, "model.safetensors");
  const settings = { mode: "finetune", arch: "resnet18", data: args.data, epochs: 1, batchSize: 4, lr: 0.001, momentum: 0.9, stepSize: 7, gamma: 0.1, weights: "none", seed: 0, device: "cpu" };
  await tt.save(model.stateDict(), checkpoint, modelMetadata({ classes, settings }));
  for (const maxBatch of args.maxBatches || [1]) {
    const classifier = await tt.loadClassifier(checkpoint, { maxBatch });
    const logits = await tt.noGrad(() => classifier.model.forward(tt.tensor(checkInput, [2, 3, 224, 224])));
    const key = maxBatch === 1 ? "ours" : `oursMaxBatch${maxBatch}`;
    out[key] = { maxBatch, maxLogitDiffVsPython: maxDiff(Array.from(await logits.data()), expected) };
    Object.assign(out[key], await harness((image) => classifier.classify(image), images, args));
  }
  if (args.skipOnnx) return out;

  // onnxruntime-node on the same weights, fed by our decoder and transform.
  let ort;
  try {
    ort = require("onnxruntime-node");
  } catch (err) {
    out.onnxruntime = { error: `onnxruntime-node is not installed (${err.message.split("\n")[0]})` };
    return out;
  }
  const session = await ort.InferenceSession.create(path.join(args.dir, "resnet18-2.onnx"), {
    intraOpNumThreads: args.threads, interOpNumThreads: 1, executionProviders: ["cpu"],
  });
  const check = await session.run({ input: new ort.Tensor("float32", checkInput, [2, 3, 224, 224]) });
  out.onnxruntime = { version: require("onnxruntime-node/package.json").version, maxLogitDiffVsPython: maxDiff(Array.from(check.logits.data), expected) };
  const transform = tt.dataTransforms.val();
  const ortClassify = async (image) => {
    const x = await transform.forward(await tt.decodeImage(image));
    const data = await x.data();
    x.dispose();
    const r = await session.run({ input: new ort.Tensor("float32", data, [1, 3, 224, 224]) });
    const probs = softmax(Array.from(r.logits.data));
    return probs.map((probability, i) => ({ label: classes[i], probability })).sort((a, b) => b.probability - a.probability);
  };
  Object.assign(out.onnxruntime, await harness(ortClassify, images, args));
  return out;
});
