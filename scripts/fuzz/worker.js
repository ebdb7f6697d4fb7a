// One fuzzing process, forked by scripts/fuzz.js: runs batches of cases until
// its deadline, reporting each batch; before each case it writes which case it
// is to a file, so that if a case kills the process the parent can name it.
"use strict";
const fs = require("fs");
const path = require("path");
const { makeSeeds } = require("./seeds");
const { runCases } = require("./run");

const [seed, from, deadline, work, dataRoot] = process.argv.slice(2);
const dist = path.resolve(__dirname, "..", "..", "dist");
const lib = {
  ...require(path.join(dist, "serialization")),
  decodeImage: require(path.join(dist, "data", "decode")).decodeImage,
  MAX_IMAGE_PIXELS: require(path.join(dist, "data", "image")).MAX_IMAGE_PIXELS,
  MAX_OVERLAPPING_NUMEL: require(path.join(dist, "serialization", "storage")).MAX_OVERLAPPING_NUMEL,
};
const BATCH = 200;

(async () => {
  const seedDir = fs.mkdtempSync(path.join(work, "seeds-"));
  const seeds = await makeSeeds(lib, seedDir, dataRoot);
  const current = path.join(work, "current.json");
  for (let start = Number(from); Date.now() < Number(deadline); start += BATCH) {
    const stats = await runCases({
      lib, seeds, seed: Number(seed), from: start, count: BATCH, dir: work,
      beforeCase: (info) => fs.writeFileSync(current, JSON.stringify(info)),
    });
    process.send({ next: start + BATCH, stats });
  }
  process.disconnect();
})().catch((err) => {
  console.error(err);
  process.exit(2);
});
