// Ours: `npm run check-data`'s work, checkImages over every image of the train
// and val sets, `workers` files at a time, decoding only (no transform). The
// second pass is timed, as for the decode part: the first also pays for the
// page cache and the JIT.
"use strict";
const path = require("path");
const { dist, now, cpuSeconds, runPart } = require("./common");

const tt = dist();

runPart(async (args) => {
  const files = ["train", "val"].flatMap((phase) => new tt.datasets.ImageFolder(path.join(args.data, phase)).samples.map(([f]) => f));
  const limited = args.limit ? files.filter((_, i) => i % Math.ceil(files.length / (args.limit.train + args.limit.val)) === 0) : files;
  await tt.checkImages(limited, { concurrency: args.workers });
  const cpu0 = cpuSeconds();
  const started = now();
  const bad = await tt.checkImages(limited, { concurrency: args.workers });
  return { images: limited.length, bad: bad.length, seconds: now() - started, cpuSeconds: cpuSeconds() - cpu0, workers: args.workers };
});
