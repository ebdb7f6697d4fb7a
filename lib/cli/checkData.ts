#!/usr/bin/env node
// npm run check-data -- DIR: decodes every image under DIR once, lists each one
// that fails with its reason; exit status 1 when any does.
import * as fs from "fs";
import * as path from "path";
import { checkImages } from "../data/checkImages";
import { hasImageExtension } from "../datasets/imageFolder";
import { walkFiles } from "../datasets/walk";
import { intFlag, parseFlags, runMain, UsageError } from "./usage";

const FLAGS = {
  workers: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const USAGE = "usage: npm run check-data -- [--workers N] [--json] DIR...";

export async function main(argv: string[]): Promise<number> {
  const { values: flags, positionals: dirs } = parseFlags(argv, FLAGS, true);
  if (flags.help) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  if (dirs.length === 0) throw new UsageError(`give a folder to check\n${USAGE}`);
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
