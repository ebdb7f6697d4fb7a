#!/usr/bin/env node
// npm run lr-find: fastai's learning-rate range test on the training data, with
// the model and optimizer a training run would use; a plot and a suggestion.
import * as fs from "fs";
import * as path from "path";
import { defaultDevice } from "../device";
import { CrossEntropyLoss } from "../nn/loss";
import { listModels } from "../models/registry";
import { setTransformSeed } from "../random";
import { manualSeed } from "../runtime";
import { writeJsonAtomic } from "../train/checkpoint";
import { lrFind } from "../train/lrFind";
import { defaultWeightDecay, OPTIMIZERS, OptimizerName, recipeOptimizer, RecipeSettings } from "../train/recipe";
import { Mode, tutorialData, tutorialModel } from "../train/tutorial";
import { preprocessingFor } from "../train/preprocessing";
import { CommandSpec, FlagTable, helpText, parseCommand } from "./flags";
import { deviceFlag } from "./modelFlags";
import { intFlag, numberFlag, runMain, UsageError } from "./usage";

const ROOT = path.resolve(__dirname, "..", "..");

const FLAGS = {
  mode: { type: "string", value: "finetune|feature-extract", default: "finetune", help: "which parameters train: all of them, or the new head only" },
  arch: { type: "string", value: "NAME", default: "resnet18", help: "the architecture, by torchvision's name" },
  data: { type: "string", value: "DIR", default: "data/hymenoptera_data", help: "an ImageFolder root holding train/ (and val/)" },
  weights: { type: "string", value: "imagenet|none|FILE", default: "imagenet", help: "starting weights" },
  "batch-size": { type: "string", value: "N", default: "4", help: "images per step" },
  optimizer: { type: "string", value: "sgd|adamw", default: "sgd", help: "the optimizer the run will use" },
  momentum: { type: "string", value: "X", default: "0.9", help: "SGD's momentum" },
  "weight-decay": { type: "string", value: "X", default: "0 for sgd, 0.01 for adamw", help: "weight decay" },
  "start-lr": { type: "string", value: "X", default: "1e-7", help: "the first learning rate" },
  "end-lr": { type: "string", value: "X", default: "10", help: "the last learning rate" },
  "num-it": { type: "string", value: "N", default: "100", help: "steps from start-lr to end-lr (fewer if the loss diverges)" },
  out: { type: "string", value: "DIR", default: "runs/lr-find", help: "folder for lr_find.svg, lr_find.png and lr_find.json" },
  device: { type: "string", value: "cpu|cuda|cuda:N", default: "cuda:0 when there is one, else cpu", help: "where the model runs" },
  workers: { type: "string", value: "N", default: "the number of cores, at least 2", help: "images decoded at once" },
  seed: { type: "string", value: "N", default: "0", help: "seed for weights, shuffling and augmentation" },
  json: { type: "boolean", help: "print the result as one JSON line" },
} as const satisfies FlagTable;

export const SPEC: CommandSpec<typeof FLAGS> = {
  name: "lr-find",
  summary:
    "fastai's learning-rate range test: train with the learning rate rising exponentially, plot the smoothed loss, suggest a rate " +
    "(fastai's valley, 2/3 down the longest descent; its steepest point is given too). The model is not changed.",
  flags: FLAGS,
  examples: ["npm run lr-find", "npm run lr-find -- --optimizer adamw --data photos --out runs/photos-lr"],
};

export async function main(argv: string[]): Promise<number> {
  const { values: flags, help } = parseCommand(SPEC, argv);
  if (help) {
    process.stdout.write(helpText(SPEC));
    return 0;
  }
  const mode = (flags.mode ?? "finetune") as Mode;
  if (mode !== "finetune" && mode !== "feature-extract") throw new UsageError(`--mode expects finetune or feature-extract, got "${flags.mode}"`);
  const optimizer = (flags.optimizer ?? "sgd") as OptimizerName;
  if (!OPTIMIZERS.includes(optimizer)) throw new UsageError(`--optimizer expects one of ${OPTIMIZERS.join(", ")}, got "${flags.optimizer}"`);
  const arch = flags.arch ?? "resnet18";
  if (!listModels().includes(arch)) throw new UsageError(`--arch: unknown architecture ${arch} (one of ${listModels().join(", ")})`);
  const data = path.resolve(flags.data ?? path.join(ROOT, "data", "hymenoptera_data"));
  if (!fs.existsSync(data)) throw new UsageError(`--data: ${data} does not exist`);
  const weights = flags.weights ?? "imagenet";
  const seed = intFlag(flags.seed, "seed", 0, 0);
  const device = deviceFlag(flags.device ?? defaultDevice());
  const startLr = numberFlag(flags["start-lr"], "start-lr", 1e-7, { min: 0, exclusiveMin: true });
  const endLr = numberFlag(flags["end-lr"], "end-lr", 10, { min: 0, exclusiveMin: true });
  if (endLr <= startLr) throw new UsageError(`--end-lr must be above --start-lr (${startLr}), got ${endLr}`);
  const settings = {
    optimizer, lr: startLr, momentum: numberFlag(flags.momentum, "momentum", 0.9, { min: 0 }),
    weightDecay: numberFlag(flags["weight-decay"], "weight-decay", defaultWeightDecay(optimizer), { min: 0 }),
  } as RecipeSettings;
  const out = path.resolve(flags.out ?? path.join(ROOT, "runs", "lr-find"));
  manualSeed(seed);
  setTransformSeed(seed);
  let loaders;
  try {
    loaders = tutorialData(data, { batchSize: intFlag(flags["batch-size"], "batch-size", 4), numWorkers: intFlag(flags.workers, "workers", Math.max(2, require("os").availableParallelism())), seed, preprocessing: preprocessingFor(arch, weights) });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { model, trainable } = await tutorialModel(mode, loaders.classNames.length, weights === "none" ? null : weights, arch);
  model.to(device);
  const result = await lrFind(model, new CrossEntropyLoss(), recipeOptimizer(settings, trainable), loaders.dataloaders.train, {
    startLr, endLr, numIt: intFlag(flags["num-it"], "num-it", 100), device,
  });
  fs.mkdirSync(out, { recursive: true });
  const { plotLrFind } = await import("../viz/lrFindPlot");
  const plot = await plotLrFind(result, path.join(out, "lr_find.svg"));
  await writeJsonAtomic(path.join(out, "lr_find.json"), { ...result, settings: { mode, arch, data, weights, optimizer, seed } });
  if (flags.json) {
    process.stdout.write(JSON.stringify({ suggestion: result.suggestion, steps: result.lrs.length, plot: plot.svg }) + "\n");
  } else if (result.suggestion) {
    const { valley, steep } = result.suggestion;
    process.stdout.write(`Suggested learning rate: ${valley.toExponential(2)} (fastai's valley; steepest descent at ${steep.toExponential(2)})\n`);
    process.stdout.write(`${result.lrs.length} steps; plot: ${plot.png}\n`);
  } else {
    process.stdout.write(`Too few steps (${result.lrs.length}) before the loss diverged to suggest a rate; try a lower --end-lr. Plot: ${plot.png}\n`);
  }
  return 0;
}

if (require.main === module) runMain("lr-find", () => main(process.argv.slice(2)));
