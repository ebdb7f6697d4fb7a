#!/usr/bin/env node
// npm run check-data -- DIR: decodes every image under DIR once, lists each one
// that fails with its reason; exit status 1 when any does.
import * as fs from "fs";
import * as path from "path";
import { checkImages } from "../data/checkImages";
import { hasImageExtension } from "../datasets/imageFolder";
import { walkFiles } from "../datasets/walk";
import { CommandSpec, FlagTable, helpText, parseCommand } from "./flags";
import { intFlag, runMain, UsageError } from "./usage";

const FLAGS = {
  workers: { type: "string", value: "N", default: "the number of cores, at least 4", help: "images decoded at once" },
  json: { type: "boolean", help: "print one JSON line: the count, every bad file with its reason, the files ignored" },
} as const satisfies FlagTable;

export const SPEC: CommandSpec<typeof FLAGS> = {
  name: "check-data",
  summary: "Decode every image under the folders once and list each one that cannot be decoded, with why; exit status 1 when any cannot.",
  positionals: "DIR...",
  flags: FLAGS,
  examples: ["npm run check-data -- data/hymenoptera_data", "npm run check-data -- --json photos/train photos/val"],
};

export async function main(argv: string[]): Promise<number> {
  const { values: flags, positionals: dirs, help } = parseCommand(SPEC, argv);
  if (help) {
    process.stdout.write(helpText(SPEC));
    return 0;
  }
  if (dirs.length === 0) throw new UsageError("give a folder to check (see --help)");
  for (const dir of dirs) if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UsageError(`${dir} is not a folder`);
  const workers = flags.workers === undefined ? undefined : intFlag(flags.workers, "workers", 1);
  const all = dirs.flatMap((dir) => walkFiles(path.resolve(dir)));
  // The files an ImageFolder would load; it ignores the others, so they cannot stop a run.
  const files = all.filter(hasImageExtension);
  const started = process.hrtime.bigint();
  const bad = await checkImages(files, { concurrency: workers });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (flags.json) {
    process.stdout.write(JSON.stringify({ images: files.length, bad, ignored: all.length - files.length, seconds: Number(seconds.toFixed(3)) }) + "\n");
  } else {
    for (const b of bad) process.stdout.write(`${b.file}: ${b.reason}\n`);
    const ignored = all.length - files.length;
    process.stdout.write(
      (bad.length ? `${bad.length} of ${files.length} images cannot be decoded` : `all ${files.length} images decode`) +
        (ignored ? `; ${ignored} other file(s) ignored (no image extension)` : "") + "\n",
    );
  }
  return bad.length ? 1 : 0;
}

if (require.main === module) runMain("check-data", () => main(process.argv.slice(2)));
