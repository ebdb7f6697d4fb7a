// Ours: decode-and-transform throughput, ImageFolder.get over the whole train
// and val sets with the tutorial's transforms, `workers` images at a time (as
// the DataLoader does). Wall and CPU seconds, so per-core rates can be given.
// The second pass over the set is the one timed, on both sides (tools.py):
// training reads the set 25 times, and the first pass also pays for the
// JIT, the allocator's first pages and the page cache.
"use strict";
const path = require("path");
const { dist, subset, now, cpuSeconds, runPart } = require("./common");

const tt = dist();

async function throughput(dataset, workers) {
  let next = 0;
  const worker = async () => {
    while (next < dataset.length) {
      const [x] = await dataset.get(next++);
      x.dispose();
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  next = 0;
  const cpu0 = cpuSeconds();
  const started = now();
  await Promise.all(Array.from({ length: workers }, worker));
  return { images: dataset.length, seconds: now() - started, cpuSeconds: cpuSeconds() - cpu0 };
}

runPart(async (args) => {
  if (args.sharpConcurrency) require("sharp").concurrency(args.sharpConcurrency);
  const limit = args.limit || {};
  const result = { workers: args.workers, uvThreadpool: Number(process.env.UV_THREADPOOL_SIZE) || 4, sharpConcurrency: require("sharp").concurrency() };
  for (const phase of ["train", "val"]) {
    const ds = new tt.datasets.ImageFolder(path.join(args.data, phase), { transform: tt.dataTransforms[phase]() });
    result[phase] = await throughput(subset(ds, limit[phase]), args.workers);
  }
  return result;
});
