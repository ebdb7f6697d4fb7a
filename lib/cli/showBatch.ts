#!/usr/bin/env node
// npm run show-batch -- --data DIR: the tutorial's grid of one training batch, titled with its labels.
import * as path from "path";
import { setTransformSeed } from "../random";
import { tutorialData } from "../train/tutorial";
import { showBatch } from "../viz/showBatch";
import { intFlag, parseFlags, runMain, UsageError } from "./usage";
import * as fs from "fs";

const FLAGS = {
  data: { type: "string" },
  out: { type: "string" },
  "batch-size": { type: "string" },
  seed: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const USAGE = "usage: npm run show-batch -- [--data DIR] [--out FILE.png] [--batch-size N] [--seed N]";

export async function main(argv: string[]): Promise<number> {
  const { values: flags } = parseFlags(argv, FLAGS);
  if (flags.help) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  const data = path.resolve(flags.data ?? path.join(__dirname, "..", "..", "data", "hymenoptera_data"));
  if (!fs.existsSync(data)) throw new UsageError(`--data: ${data} does not exist`);
  const batchSize = intFlag(flags["batch-size"], "batch-size", 4);
  const seed = flags.seed === undefined ? undefined : intFlag(flags.seed, "seed", 0, 0);
  if (seed !== undefined) setTransformSeed(seed);
  const out = path.resolve(flags.out ?? "batch.png");
  const { dataloaders, classNames } = tutorialData(data, { batchSize, seed });
  for await (const [inputs, labels] of dataloaders.train) {
    const ids = Array.from((await labels.data()) as BigInt64Array, Number);
    const result = await showBatch(inputs, ids, classNames, out);
    inputs.dispose();
    labels.dispose();
    process.stdout.write(`${result.file}: ${result.title}\n`);
    break;
  }
  return 0;
}

if (require.main === module) runMain("show-batch", () => main(process.argv.slice(2)));
