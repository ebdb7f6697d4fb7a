// The one table scripts/gpu-check.sh prints: the build, the GPU tests, and the
// 25-epoch fine-tune, ours against the Python tutorial on the same GPU.
// Usage: node scripts/bench/gpuTable.js OUT_DIR "TORCH_FACTS"
"use strict";
const fs = require("fs");
const path = require("path");

const [out, torchFacts = ""] = process.argv.slice(2);
const read = (file) => {
  try {
    return fs.readFileSync(path.join(out, file), "utf8");
  } catch {
    return null;
  }
};
const json = (file) => {
  const text = read(file);
  try {
    return text === null ? null : JSON.parse(text);
  } catch {
    return null;
  }
};

/** Our --json run: one line per phase and a last line with bestValAcc and seconds. */
function ours(name) {
  const text = read(`bench/${name}.json`);
  if (!text) return null;
  const lines = text.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
  const phases = lines.filter((l) => l.phase);
  const sum = (phase) => phases.filter((l) => l.phase === phase).reduce((s, l) => s + l.seconds, 0);
  const last = lines[lines.length - 1];
  return { train: sum("train"), val: sum("val"), bestAcc: last.bestValAcc, wall: (json(`bench/${name}.wall.json`) || {}).wallMs / 1000 };
}

/** The Python tutorial's one JSON object (scripts/bench/tutorial.py). */
function python(name) {
  const r = json(`bench/${name}.json`);
  const mode = r && r.modes && r.modes.finetune;
  if (!mode) return null;
  const sum = (phase) => mode.records.filter((x) => x.phase === phase).reduce((s, x) => s + x.seconds, 0);
  return { train: sum("train"), val: sum("val"), bestAcc: mode.bestAcc, wall: (json(`bench/${name}.wall.json`) || {}).wallMs / 1000 };
}

const facts = json("facts.json") || {};
const jest = json("jest.json");
const rows = [];
rows.push(`GPU check: ${torchFacts}; torch-transfer's libtorch ${facts.libtorch ?? "?"}, ${facts.devices ?? "?"} device(s), NCCL ${facts.nccl ?? "?"}`);
rows.push("");
if (jest) {
  rows.push(`npm run test:gpu: ${jest.numPassedTests} passed, ${jest.numFailedTests} failed (${jest.numTotalTests} tests)`);
  for (const file of jest.testResults) {
    for (const t of file.assertionResults) {
      if (t.status !== "passed") rows.push(`  FAILED ${path.basename(file.name)}: ${t.title}: ${(t.failureMessages[0] || "").split("\n")[0]}`);
    }
  }
} else {
  rows.push("npm run test:gpu: did not run (see jest.log)");
}
rows.push("");
const fmt = (x, d = 1) => (typeof x === "number" && Number.isFinite(x) ? x.toFixed(d) : "-");
rows.push("| fine-tune, batch 4, random start | Python tutorial | ours | ratio (Python / ours) |");
rows.push("|---|---:|---:|---:|");
for (const amp of [false, true]) {
  const p = python(`python-amp-${amp}`);
  const o = ours(`ours-amp-${amp}`);
  const label = amp ? "amp (float16 autocast, GradScaler)" : "float32";
  for (const [what, key, d] of [["train phases (s)", "train", 1], ["val phases (s)", "val", 1], ["whole run, wall (s)", "wall", 1], ["best val acc", "bestAcc", 4]]) {
    const ratio = key === "bestAcc" || !p || !o ? "" : fmt(p[key] / o[key], 2);
    rows.push(`| ${label}: ${what} | ${fmt(p && p[key], d)} | ${fmt(o && o[key], d)} | ${ratio} |`);
  }
}
console.log(rows.join("\n"));
