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
  // The copying path (mmap: false), and a load with its first use: a mapped
  // load reads the pages then, so this times both, copying the weights into a model.
  const copied = [];
  const into = [];
  const model = tt.models.resnet18();
  const last = model.parameters().at(-1); // fc.bias
  for (let i = 0; i < (args.repeats || 3); i++) {
    let started = now();
    const sd = await tt.load(args.file, { mmap: false });
    copied.push(now() - started);
    for (const t of sd.values()) t.dispose();
    started = now();
    const mapped = await tt.load(args.file);
    model.loadStateDict(mapped);
    await last.data(); // queued after the copies on the compute queue
    into.push(now() - started);
    for (const t of mapped.values()) t.dispose();
  }
  return { bytes, firstSeconds: runs[0], bestSeconds: Math.min(...runs), runs, copiedBestSeconds: Math.min(...copied), intoModelBestSeconds: Math.min(...into) };
});
