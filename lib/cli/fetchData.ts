// `npm run fetch-data -- [--dest DIR] [--url URL]`: the tutorial's ants-and-bees images.
import { fetchData } from "../hub/fetchData";
import { CommandSpec, FlagTable, helpText, parseCommand } from "./flags";
import { statusOf } from "./usage";

const FLAGS = {
  dest: { type: "string", value: "DIR", default: "data", help: "folder to unpack hymenoptera_data/ into" },
  url: { type: "string", value: "URL", default: "download.pytorch.org's hymenoptera_data.zip", help: "where to download the zip from" },
} as const satisfies FlagTable;

export const SPEC: CommandSpec<typeof FLAGS> = {
  name: "fetch-data",
  summary: "Download and unpack the tutorial's ants-vs-bees images (hymenoptera_data), unless they are already there.",
  flags: FLAGS,
  examples: ["npm run fetch-data", "npm run fetch-data -- --dest /tmp/data"],
};

/** Runs the command; resolves to the exit status (0 ok, 1 failure, 2 usage error). */
export function main(argv: string[]): Promise<number> {
  return statusOf("fetch-data", () => run(argv));
}

async function run(argv: string[]): Promise<number> {
  const { values: flags, help } = parseCommand(SPEC, argv);
  if (help) {
    process.stdout.write(helpText(SPEC));
    return 0;
  }
  const folder = await fetchData({ dest: flags.dest, url: flags.url });
  process.stdout.write(`${folder}\n`);
  return 0;
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
