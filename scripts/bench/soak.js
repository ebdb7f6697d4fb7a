// A long-running service stays flat: `calls` classify() calls (10,000 by
// default) on one Classifier, `concurrency` at a time, the way a server uses
// it. Every `window` calls it records the process's RSS, the JS heap, and that
// window's p50/p99 latency and rate, so growth in memory or latency over the
// run shows as a trend rather than hiding in one overall figure.
"use strict";
const os = require("os");
const path = require("path");
const { dist, now, runPart } = require("./common");

const tt = dist();
const { modelMetadata } = dist("train/checkpoint");

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] * 1000;

runPart(async (args) => {
  const { calls = 10000, window = 1000, concurrency = 8, maxBatch = 4 } = args;
  const images = new tt.datasets.ImageFolder(path.join(args.data, "val")).samples.map(([file]) => file);
  const checkpoint = path.join(args.dir, "soak-model.safetensors");
  const model = tt.models.resnet18({ numClasses: 2 });
  const settings = { mode: "finetune", arch: "resnet18", data: args.data, epochs: 1, batchSize: 4, lr: 0.001, momentum: 0.9, stepSize: 7, gamma: 0.1, weights: "none", seed: 0, device: "cpu" };
  await tt.save(model.stateDict(), checkpoint, modelMetadata({ classes: ["ants", "bees"], settings }));
  model.dispose();
  const classifier = await tt.loadClassifier(checkpoint, { maxBatch });
  for (let i = 0; i < concurrency; i++) await classifier.classify(images[i % images.length]); // warm-up
  const windows = [];
  let latencies = [];
  let next = 0;
  let done = 0;
  let windowStart = now();
  const all = [];
  const started = now();
  const mb = (b) => b / 2 ** 20;
  const sample = () => {
    const m = process.memoryUsage();
    latencies.sort((a, b) => a - b);
    windows.push({
      calls: done, rssMB: mb(m.rss), heapUsedMB: mb(m.heapUsed), externalMB: mb(m.external),
      imagesPerSecond: latencies.length / (now() - windowStart), p50ms: pct(latencies, 50), p99ms: pct(latencies, 99), loadAverage: os.loadavg()[0],
    });
    latencies = [];
    windowStart = now();
  };
  const rssAtStart = mb(process.memoryUsage().rss);
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < calls) {
      const image = images[next++ % images.length];
      const t = now();
      await classifier.classify(image);
      const dt = now() - t;
      latencies.push(dt);
      all.push(dt);
      if (++done % window === 0) sample();
    }
  }));
  if (latencies.length > 0) sample();
  classifier.dispose();
  all.sort((a, b) => a - b);
  const first = windows[0], last = windows[windows.length - 1];
  return {
    calls, concurrency, maxBatch, seconds: now() - started, rssAtStartMB: rssAtStart, windows,
    rssGrowthMB: last.rssMB - first.rssMB, p99FirstWindowMs: first.p99ms, p99LastWindowMs: last.p99ms,
    p50ms: pct(all, 50), p99ms: pct(all, 99),
  };
});
