// Ours: tt.load of a ResNet-18 state dict written by Python's torch.save (zip format).
"use strict";
const fs = require("fs");
const { dist, now, runPart } = require("./common");

const tt = dist();

runPart(async (args) => {
  const bytes = fs.statSync(args.file).size;
  const runs = [];
  for (let i = 0; i < (args.repeats || 3); i++) {
    const started = now();
    const sd = await tt.load(args.file);
    runs.push(now() - started);
    if (sd.size !== 122) throw new Error(`expected 122 entries in a ResNet-18 state dict, got ${sd.size}`);
    for (const t of sd.values()) t.dispose();
  }
  return { bytes, firstSeconds: runs[0], bestSeconds: Math.min(...runs), runs };
});
