#!/usr/bin/env node
// npm run show-batch -- --data DIR: the tutorial's grid of one training batch, titled with its labels.
import * as path from "path";
import { setTransformSeed } from "../random";
import { tutorialData } from "../train/tutorial";
import { showBatch } from "../viz/showBatch";
import { CommandSpec, FlagTable, helpText, parseCommand } from "./flags";
import { intFlag, runMain, UsageError } from "./usage";
import * as fs from "fs";

const FLAGS = {
  data: { type: "string", value: "DIR", default: "data/hymenoptera_data", help: "an ImageFolder root holding train/ and val/" },
  out: { type: "string", value: "FILE.png", default: "batch.png", help: "where to write the grid" },
  "batch-size": { type: "string", value: "N", default: "4", help: "images in the batch" },
  seed: { type: "string", value: "N", help: "seed for the shuffle and augmentation (default: a random batch)" },
} as const satisfies FlagTable;

export const SPEC: CommandSpec<typeof FLAGS> = {
  name: "show-batch",
  summary: "Write one augmented training batch as a grid titled with its labels, as the tutorial's imshow does.",
  flags: FLAGS,
  examples: ["npm run show-batch", "npm run show-batch -- --data photos --batch-size 8 --seed 1 --out grid.png"],
};

export async function main(argv: string[]): Promise<number> {
  const { values: flags, help } = parseCommand(SPEC, argv);
  if (help) {
    process.stdout.write(helpText(SPEC));
    return 0;
  }
  const data = path.resolve(flags.data ?? path.join(__dirname, "..", "..", "data", "hymenoptera_data"));
  if (!fs.existsSync(data)) throw new UsageError(`--data: ${data} does not exist`);
  const batchSize = intFlag(flags["batch-size"], "batch-size", 4);
  const seed = flags.seed === undefined ? undefined : intFlag(flags.seed, "seed", 0, 0);
  if (seed !== undefined) setTransformSeed(seed);
  const out = path.resolve(flags.out ?? "batch.png");
  let loaded: ReturnType<typeof tutorialData>;
  try {
    loaded = tutorialData(data, { batchSize, seed });
  } catch (err) {
    throw new UsageError((err as Error).message); // the folder's layout: a usage error
  }
  const { dataloaders, classNames } = loaded;
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
