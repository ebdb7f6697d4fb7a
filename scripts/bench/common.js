// Shared by the bench's Node parts: the compiled library, subsets, timing.
"use strict";
const path = require("path");

const ROOT = path.resolve(__dirname, "..", "..");
const dist = (p = "index") => require(path.join(ROOT, "dist", p));

/** Evenly spaced samples, the same ones tutorial.py and tools.py take. */
function subset(dataset, limit) {
  if (!limit || limit >= dataset.length) return dataset;
  const idx = Array.from({ length: limit }, (_, i) => Math.floor((i * dataset.length) / limit));
  return { length: limit, get: (i, options) => dataset.get(idx[i], options), classes: dataset.classes };
}

const now = () => Number(process.hrtime.bigint()) / 1e9;
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** Runs `main(args)` with the JSON argument in argv[2] and prints its result as one JSON line. */
function runPart(main) {
  main(JSON.parse(process.argv[2] ?? "{}")).then(
    (result) => process.stdout.write(JSON.stringify(result) + "\n"),
    (err) => {
      process.stderr.write(`${err && err.stack ? err.stack : err}\n`);
      process.exit(1);
    },
  );
}

module.exports = { ROOT, dist, subset, now, cpuSeconds, runPart };
