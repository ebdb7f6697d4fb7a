// Serving: our loadClassifier(...).classify under `concurrency` concurrent
// requests, at each maxBatch, for three ways of running the same weights:
// the plain eval model (forward under noGrad), the fast form loadClassifier
// uses (Module.inferenceForward: BatchNorm folded, oneDNN layout,
// InferenceMode), and onnxruntime-node (loadClassifier's "onnxruntime"
// engine: the checkpoint exported by our exporter, dynamic batch), each fed by
// our decoder and the same dynamic batching. Throughput, p50/p99 latency, and
// the event loop's worst delay meanwhile; the load average beside each.
// Also the model alone (no decoding) at batch 1 and 4: plain, the fast form in
// each layout, and onnxruntime, in interleaved rounds so that all meet the same
// load; this is where the fast form's default layout was chosen.
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

const LAYOUTS = ["contiguous", "channels_last", "mkldnn"];
const maxDiff = (a, b) => Math.max(...a.map((v, i) => Math.abs(v - b[i])));

function softmax(row) {
  const m = Math.max(...row);
  const e = row.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** A Classifier backend running the plain eval model: forward under noGrad, as before the fast form. */
function plainBackend(model, classCount) {
  return {
    engine: "libtorch",
    async run(inputs) {
      const batch = tt.stack(inputs);
      const logits = await tt.noGrad(() => model.forward(batch));
      const values = Array.from(await logits.data());
      for (const t of [batch, logits]) t.dispose();
      return inputs.map((_, i) => Float32Array.from(softmax(values.slice(i * classCount, (i + 1) * classCount))));
    },
    dispose: () => model.dispose(),
  };
}

/** images/s of `run` over `iterations` calls on a batch of `batch`, per round; the median round. */
async function modelOnly(variants, batch, { rounds, iterations }) {
  const perRound = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (const run of Object.values(variants)) await run(); // warm-up (and the fast form's build)
  for (let r = 0; r < rounds; r++) {
    for (const [name, run] of Object.entries(variants)) {
      const t = now();
      for (let i = 0; i < iterations; i++) await run();
      perRound[name].push((iterations * batch) / (now() - t));
    }
  }
  const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return Object.fromEntries(Object.entries(perRound).map(([k, xs]) => [k, { imagesPerSecond: median(xs), rounds: xs }]));
}

runPart(async (args) => {
  const classes = ["ants", "bees"];
  const images = new tt.datasets.ImageFolder(path.join(args.data, "val")).samples.map(([file]) => file);
  const checkInput = new Float32Array(fs.readFileSync(path.join(args.dir, "check-input.f32")).buffer.slice(0));
  const expected = args.checkLogits.flat();
  const out = {};
  const os = require("os");

  // Ours: a checkpoint made on the fly from Python's weights, as `npm run finetune` writes one.
  const loaded = await tt.load(path.join(args.dir, "resnet18-2.pth"));
  const model = tt.models.resnet18();
  model.fc = new tt.nn.Linear(512, 2);
  model.loadStateDict(loaded);
  for (const t of loaded.values()) t.dispose();
  model.eval();
  const checkpoint = path.join(args.dir, "model.safetensors");
  const settings = { mode: "finetune", arch: "resnet18", data: args.data, epochs: 1, batchSize: 4, lr: 0.001, momentum: 0.9, stepSize: 7, gamma: 0.1, weights: "none", seed: 0, device: "cpu" };
  await tt.save(model.stateDict(), checkpoint, modelMetadata({ classes, settings }));

  let ort = null;
  try {
    ort = require("onnxruntime-node");
    out.onnxruntimeVersion = require("onnxruntime-node/package.json").version;
  } catch (err) {
    out.onnxruntimeError = `onnxruntime-node is not installed (${err.message.split("\n")[0]})`;
  }
  if (args.skipOnnx) ort = null;

  // The model alone: our exporter's file (dynamic batch) for onnxruntime, the same weights.
  const check = tt.tensor(checkInput, [2, 3, 224, 224]);
  const logitsOf = async (t) => { const v = Array.from(await t.data()); t.dispose(); return v; };
  out.maxLogitDiffVsPython = {
    plain: maxDiff(await logitsOf(await tt.noGrad(() => model.forward(check))), expected),
  };
  for (const layout of LAYOUTS) out.maxLogitDiffVsPython[`fast ${layout}`] = maxDiff(await logitsOf(await model.inferenceForward(check, { layout })), expected);
  let session = null;
  if (ort) {
    const onnxFile = path.join(args.dir, "resnet18-2-ours.onnx");
    await tt.onnx.export(model, onnxFile, { dynamicBatch: true });
    session = await ort.InferenceSession.create(onnxFile, { intraOpNumThreads: args.threads, interOpNumThreads: 1, executionProviders: ["cpu"] });
    const r = await session.run({ input: new ort.Tensor("float32", checkInput, [2, 3, 224, 224]) });
    out.maxLogitDiffVsPython.onnxruntime = maxDiff(Array.from(r.logits.data), expected);
  }
  check.dispose();
  out.modelOnly = {};
  for (const batch of [1, 4]) {
    const data = checkInput.length >= batch * 3 * 224 * 224 ? checkInput.slice(0, batch * 3 * 224 * 224) : Float32Array.from({ length: batch * 3 * 224 * 224 }, (_, i) => checkInput[i % checkInput.length]);
    const x = tt.tensor(data, [batch, 3, 224, 224]);
    const variants = {
      plain: async () => (await tt.noGrad(() => model.forward(x))).dispose(),
    };
    for (const layout of LAYOUTS) variants[`fast ${layout}`] = async () => (await model.inferenceForward(x, { layout })).dispose();
    if (session) {
      const input = new ort.Tensor("float32", data, [batch, 3, 224, 224]);
      variants.onnxruntime = async () => (await session.run({ input })).logits.dispose();
    }
    const loadBefore = os.loadavg()[0];
    out.modelOnly[`batch${batch}`] = await modelOnly(variants, batch, { rounds: args.rounds || 3, iterations: batch === 1 ? 8 : 3 });
    out.modelOnly[`batch${batch}`].loadAverage = [loadBefore, os.loadavg()[0]];
    x.dispose();
  }
  if (session) await session.release();
  model.dispose();

  // classify: each engine behind our decoder and batching, at each maxBatch.
  out.classify = [];
  for (const maxBatch of args.maxBatches || [1]) {
    const engines = {
      plain: async () => {
        const m = tt.models.resnet18({ numClasses: 2 });
        const sd = await tt.load(checkpoint);
        m.loadStateDict(sd);
        for (const t of sd.values()) t.dispose();
        m.eval();
        return new tt.Classifier(plainBackend(m, 2), classes, "cpu", { maxBatch });
      },
      fast: () => tt.loadClassifier(checkpoint, { maxBatch, engine: "libtorch" }),
    };
    if (ort) engines.onnxruntime = () => tt.loadClassifier(checkpoint, { maxBatch, engine: "onnxruntime" });
    for (const [engine, make] of Object.entries(engines)) {
      const classifier = await make();
      const loadBefore = os.loadavg()[0];
      const r = await harness((image) => classifier.classify(image), images, args);
      out.classify.push({ engine, maxBatch, ...r, loadAverage: [loadBefore, os.loadavg()[0]] });
      classifier.dispose();
    }
  }
  return out;
});
