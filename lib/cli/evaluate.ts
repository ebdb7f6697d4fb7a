#!/usr/bin/env node
// npm run evaluate -- --model RUN --data DIR: accuracy, per-class figures,
// the confusion matrix, the highest-loss images and Grad-CAM, as a report.
import * as fs from "fs";
import * as path from "path";
import { loadClassifier } from "../classifier";
import { ImageFolder } from "../datasets/imageFolder";
import { Tensor } from "../tensor";
import { dataTransforms } from "../train/tutorial";
import { CommandSpec, FlagTable, helpText, parseCommand } from "./flags";
import { deviceFlag, modelFlag } from "./modelFlags";
import { intFlag, runMain, UsageError } from "./usage";

const ROOT = path.resolve(__dirname, "..", "..");

const FLAGS = {
  model: { type: "string", value: "RUN", help: "a run folder (its model.safetensors) or a model.safetensors file; required" },
  data: { type: "string", value: "DIR", default: "data/hymenoptera_data", help: "an image folder, one sub-folder per class; a training root (with val/) means its val/" },
  tta: { type: "boolean", help: "test-time augmentation: the mean of the probabilities over each image and its horizontal flip" },
  out: { type: "string", value: "DIR", default: "runs/evaluate", help: "folder for report.html, metrics.json and the pictures" },
  device: { type: "string", value: "cpu|cuda|cuda:N", default: "cpu", help: "where the model runs" },
  "batch-size": { type: "string", value: "N", default: "16", help: "images per forward pass" },
  workers: { type: "string", value: "N", default: "the number of cores, at least 2", help: "images decoded at once" },
  "top-losses": { type: "string", value: "N", default: "9", help: "images in the highest-loss grid" },
  "grad-cam": { type: "string", value: "N", default: "4", help: "highest-loss images shown with Grad-CAM heatmaps (0: none)" },
  json: { type: "boolean", help: "print the metrics as one JSON line" },
} as const satisfies FlagTable;

export const SPEC: CommandSpec<typeof FLAGS> = {
  name: "evaluate",
  summary: "Evaluate a model saved by finetune or feature-extract on a labelled image folder: accuracy, per-class precision, recall and F1, the confusion matrix, the highest-loss images and Grad-CAM heatmaps, in a report.",
  flags: FLAGS,
  examples: [
    "npm run evaluate -- --model runs/finetune",
    "npm run evaluate -- --model runs/finetune --data photos/test --tta --out runs/test-report",
  ],
};

export async function main(argv: string[]): Promise<number> {
  const { values: flags, help } = parseCommand(SPEC, argv);
  if (help) {
    process.stdout.write(helpText(SPEC));
    return 0;
  }
  if (!flags.model) throw new UsageError("--model is required (a run folder or its model.safetensors; see --help)");
  const device = deviceFlag(flags.device ?? "cpu");
  const batchSize = intFlag(flags["batch-size"], "batch-size", 16);
  const numWorkers = intFlag(flags.workers, "workers", Math.max(2, require("os").availableParallelism()));
  const numTopLosses = intFlag(flags["top-losses"], "top-losses", 9);
  const numGradCam = intFlag(flags["grad-cam"], "grad-cam", 4, 0);
  const model = await modelFlag(flags.model);
  const data = dataFolder(flags.data ?? path.join(ROOT, "data", "hymenoptera_data"));
  const out = path.resolve(flags.out ?? path.join(ROOT, "runs", "evaluate"));
  const classifier = await loadClassifier(model, { device });
  let dataset: ImageFolder<Tensor>;
  try {
    dataset = new ImageFolder(data, { transform: dataTransforms.val(classifier.preprocessing) });
  } catch (err) {
    throw new UsageError(`--data: ${(err as Error).message}`);
  }
  if (dataset.classes.join("\n") !== classifier.classes.join("\n")) {
    throw new UsageError(`--data: ${data} has classes [${dataset.classes.join(", ")}] but ${model} was trained on [${classifier.classes.join(", ")}]`);
  }
  const { writeEvaluationReport } = await import("../viz/evaluationReport");
  try {
    const result = await writeEvaluationReport(classifier.model, dataset, {
      outDir: out, classNames: classifier.classes, device, tta: !!flags.tta, batchSize, numWorkers, numTopLosses, numGradCam, settings: { model },
    });
    const r = result.report;
    if (flags.json) {
      process.stdout.write(JSON.stringify({ accuracy: r.accuracy, total: r.total, correct: r.correct, classes: r.classes, macro: r.macro, confusion: result.confusion, report: result.files.report }) + "\n");
    } else {
      const width = Math.max(5, ...r.classes.map((c) => c.name.length));
      const lines = [
        `accuracy ${r.accuracy.toFixed(4)} (${r.correct} of ${r.total} images${flags.tta ? ", with TTA" : ""})`,
        `${"class".padEnd(width)}  precision  recall  f1      images`,
        ...r.classes.map((c) => `${c.name.padEnd(width)}  ${c.precision.toFixed(4).padEnd(9)}  ${c.recall.toFixed(4)}  ${c.f1.toFixed(4)}  ${c.support}`),
        `Report: ${result.files.report}`,
      ];
      process.stdout.write(lines.join("\n") + "\n");
    }
  } finally {
    classifier.dispose();
  }
  return 0;
}

/** A training root (train/ and val/) stands for its val/ folder. */
function dataFolder(dir: string): string {
  const resolved = path.resolve(dir);
  if (!fs.existsSync(resolved) || !fs.statSync(resolved).isDirectory()) throw new UsageError(`--data: ${resolved} is not a folder`);
  const val = path.join(resolved, "val");
  return fs.existsSync(path.join(resolved, "train")) && fs.existsSync(val) ? val : resolved;
}

if (require.main === module) runMain("evaluate", () => main(process.argv.slice(2)));
