#!/usr/bin/env node
// npm run recipe-report -- [--data DIR]... [--epochs N] [--seed N]... [--weights W]
//                          [--recipe "NAME=FLAGS"]... [--out DIR] [--extra "FLAGS"]
//
// Issue 18, item 7: trains the tutorial's recipe and a modern one on each data
// folder, in the same run, with the seeds named, and writes a table of best val
// accuracy and time (recipe-report.md and .json in --out). The recipes are
// finetune's own flags, so a recipe names whatever the command accepts; one the
// command does not know yet (--augment before it lands) fails alone, its row
// saying why. Without pretrained weights (--weights none) the accuracies are from
// random initialisation, and the table says so.
// Defaults: --data data/hymenoptera_data, --epochs 25, --seed 0, --weights imagenet, recipes
//   tutorial = (no flags: SGD 0.001 momentum 0.9, StepLR(7, 0.1), crop and flip)
//   modern   = --optimizer adamw --scheduler cosine --augment trivialaugment --label-smoothing 0.1
"use strict";
const { spawnSync } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { parseArgs } = require("util");

const ROOT = path.resolve(__dirname, "..");
const DEFAULT_RECIPES = [
  "tutorial=",
  "modern=--optimizer adamw --scheduler cosine --augment trivialaugment --label-smoothing 0.1",
];

const { values: flags } = parseArgs({
  options: {
    data: { type: "string", multiple: true },
    epochs: { type: "string" },
    seed: { type: "string", multiple: true },
    weights: { type: "string" },
    recipe: { type: "string", multiple: true },
    extra: { type: "string" },
    out: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (flags.help) {
  process.stdout.write(fs.readFileSync(__filename, "utf8").split("\n").slice(1, 15).map((l) => l.replace(/^\/\/ ?/, "")).join("\n") + "\n");
  process.exit(0);
}

function fail(message) {
  process.stderr.write(`recipe-report: ${message}\n`);
  process.exit(2);
}

const datas = (flags.data ?? [path.join(ROOT, "data", "hymenoptera_data")]).map((d) => path.resolve(d));
for (const d of datas) if (!fs.existsSync(path.join(d, "train")) || !fs.existsSync(path.join(d, "val"))) fail(`--data ${d} needs train/ and val/ folders`);
const epochs = flags.epochs ?? "25";
if (!/^\d+$/.test(epochs) || Number(epochs) < 1) fail(`--epochs expects a positive integer, got "${epochs}"`);
const seeds = flags.seed ?? ["0"];
for (const s of seeds) if (!/^\d+$/.test(s)) fail(`--seed expects a non-negative integer, got "${s}"`);
const weights = flags.weights ?? "imagenet";
const recipes = (flags.recipe ?? DEFAULT_RECIPES).map((r) => {
  const at = r.indexOf("=");
  if (at <= 0) fail(`--recipe expects NAME=FLAGS, got "${r}"`);
  return { name: r.slice(0, at), flags: r.slice(at + 1).split(/\s+/).filter(Boolean) };
});
const extra = (flags.extra ?? "").split(/\s+/).filter(Boolean);
const out = path.resolve(flags.out ?? path.join(ROOT, "runs", "recipe-report"));
fs.mkdirSync(out, { recursive: true });
const cli = path.join(ROOT, "dist", "cli", "finetune.js");
if (!fs.existsSync(cli)) fail(`${cli} is missing: run npm run build first`);

const rows = [];
for (const data of datas) {
  for (const seed of seeds) {
    for (const recipe of recipes) {
      const runDir = path.join(out, `${path.basename(data)}-${recipe.name}-seed${seed}`);
      fs.rmSync(runDir, { recursive: true, force: true });
      const args = [cli, "--data", data, "--epochs", epochs, "--seed", seed, "--weights", weights, "--out", runDir, "--json", "--no-report", ...recipe.flags, ...extra];
      process.stderr.write(`recipe-report: ${path.basename(data)}, ${recipe.name}, seed ${seed}\n`);
      const r = spawnSync(process.execPath, args, { encoding: "utf8", maxBuffer: 64 << 20 });
      const lines = (r.stdout ?? "").trim().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
      const last = lines.find((l) => "bestValAcc" in l);
      const row = { data, recipe: recipe.name, flags: recipe.flags.join(" "), seed: Number(seed), epochs: Number(epochs), weights };
      if (r.status === 0 && last) rows.push({ ...row, bestValAcc: last.bestValAcc, seconds: last.seconds, stoppedEarly: lines.find((l) => l.stoppedEarly)?.stoppedEarly ?? null });
      else rows.push({ ...row, error: (r.stderr || `exit status ${r.status}`).trim().split("\n").pop() });
    }
  }
}

const cpu = os.cpus()[0]?.model ?? "unknown CPU";
const header = [
  `# Recipes compared (${new Date().toISOString().slice(0, 10)})`,
  "",
  `${epochs} epochs each; seeds ${seeds.join(", ")}; weights ${weights}; ${cpu}, ${os.cpus().length} cores.`,
  ...(weights === "none" ? ["Weights: none, so every accuracy below is from random initialisation, not from ImageNet features."] : []),
  ...recipes.map((r) => `- ${r.name}: ${r.flags.length ? r.flags.join(" ") : "the tutorial's defaults (SGD lr 0.001 momentum 0.9, StepLR(7, 0.1), crop and flip)"}`),
  "",
  "| data | recipe | seed | best val acc | seconds |",
  "| --- | --- | --- | --- | --- |",
];
const table = rows.map((r) =>
  `| ${path.basename(r.data)} | ${r.recipe} | ${r.seed} | ${r.error ? `failed: ${r.error.replace(/\|/g, "\\|")}` : r.bestValAcc.toFixed(4)} | ${r.error ? "" : r.seconds.toFixed(1)} |`,
);
const md = [...header, ...table, ""].join("\n");
fs.writeFileSync(path.join(out, "recipe-report.md"), md);
fs.writeFileSync(path.join(out, "recipe-report.json"), JSON.stringify({ cpu, epochs: Number(epochs), seeds: seeds.map(Number), weights, recipes, rows }, null, 2) + "\n");
process.stdout.write(md);
process.exit(rows.some((r) => r.error) ? 1 : 0);
