#!/usr/bin/env node
// npm run predict -- --model RUN IMAGE|DIR...: each image's label and probability.
import * as fs from "fs";
import { loadClassifier, Prediction } from "../classifier";
import { hasImageExtension } from "../datasets/imageFolder";
import { walkFiles } from "../datasets/walk";
import { writeFileAtomic } from "../viz/atomicWrite";
import { CommandSpec, FlagTable, helpText, parseCommand } from "./flags";
import { intFlag, runMain, UsageError } from "./usage";
import { deviceFlag, modelFlag } from "./modelFlags";

const FLAGS = {
  model: { type: "string", value: "RUN", help: "a run folder (its model.safetensors) or a model.safetensors file; required" },
  topk: { type: "string", value: "N", default: "1", help: "how many of the most likely classes to give per image" },
  device: { type: "string", value: "cpu|cuda|cuda:N", default: "cpu", help: "where the model runs" },
  csv: { type: "string", value: "FILE", help: "also write the predictions to FILE as CSV (image,label,probability[,label2,probability2...])" },
  json: { type: "boolean", help: "print one JSON line per image" },
  tta: { type: "boolean", help: "test-time augmentation: the mean of the probabilities over each image and its horizontal flip" },
} as const satisfies FlagTable;

export const SPEC: CommandSpec<typeof FLAGS> = {
  name: "predict",
  summary: "Classify images with a model saved by finetune or feature-extract; folders are searched for images recursively.",
  positionals: "IMAGE|DIR...",
  flags: FLAGS,
  examples: [
    "npm run predict -- --model runs/finetune photo.jpg",
    "npm run predict -- --model runs/finetune --topk 2 --csv predictions.csv data/hymenoptera_data/val",
  ],
};

export async function main(argv: string[]): Promise<number> {
  const { values: flags, positionals, help } = parseCommand(SPEC, argv);
  if (help) {
    process.stdout.write(helpText(SPEC));
    return 0;
  }
  if (!flags.model) throw new UsageError("--model is required (a run folder or its model.safetensors; see --help)");
  if (positionals.length === 0) throw new UsageError("give at least one image or folder (see --help)");
  const topk = intFlag(flags.topk, "topk", 1);
  const device = deviceFlag(flags.device ?? "cpu");
  const model = await modelFlag(flags.model);
  const images = positionals.flatMap(imagesOf);
  const classifier = await loadClassifier(model, { device });
  let failures = 0;
  // Decoding overlaps across images; the model takes them a batch at a time.
  const results = await Promise.allSettled(images.map((image) => classifier.classify(image, { topk, tta: !!flags.tta })));
  const rows: [string, Prediction[]][] = [];
  results.forEach((result, i) => {
    if (result.status === "rejected") {
      failures++;
      process.stderr.write(`predict: ${(result.reason as Error).message}\n`);
      return;
    }
    rows.push([images[i], result.value]);
    const [best] = result.value;
    if (flags.json) {
      process.stdout.write(JSON.stringify({ image: images[i], label: best.label, probability: best.probability, topk: result.value }) + "\n");
    } else {
      const rest = result.value.slice(1).map((p) => `${p.label} ${p.probability.toFixed(4)}`).join(", ");
      process.stdout.write(`${images[i]}: ${best.label} ${best.probability.toFixed(4)}${rest ? ` (then ${rest})` : ""}\n`);
    }
  });
  if (flags.csv) {
    await writeFileAtomic(flags.csv, toCsv(rows, Math.min(topk, classifier.classes.length)));
    if (!flags.json) process.stdout.write(`Wrote ${rows.length} predictions to ${flags.csv}\n`);
  }
  return failures ? 1 : 0;
}

/** An image stands for itself; a folder for the images under it, in torchvision's walk order. */
function imagesOf(arg: string): string[] {
  const stat = fs.statSync(arg, { throwIfNoEntry: false });
  if (!stat) throw new UsageError(`no such file: ${arg}`);
  if (!stat.isDirectory()) return [arg];
  const found = walkFiles(arg).filter(hasImageExtension);
  if (found.length === 0) throw new UsageError(`${arg} is a folder with no images in it (or its sub-folders)`);
  return found;
}

function toCsv(rows: [string, Prediction[]][], k: number): string {
  const head = ["image", "label", "probability"];
  for (let r = 2; r <= k; r++) head.push(`label${r}`, `probability${r}`);
  const lines = rows.map(([image, predictions]) => [image, ...predictions.flatMap((p) => [p.label, String(p.probability)])]);
  return [head, ...lines].map((cells) => cells.map(csvCell).join(",")).join("\n") + "\n";
}

function csvCell(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

if (require.main === module) runMain("predict", () => main(process.argv.slice(2)));
