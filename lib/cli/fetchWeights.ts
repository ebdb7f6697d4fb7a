// `npm run fetch-weights -- [--dir DIR]`: torchvision's ResNet-18 ImageNet weights into the cache.
import { resolveWeights } from "../hub/weights";
import { CommandSpec, FlagTable, helpText, parseCommand } from "./flags";
import { statusOf } from "./usage";

const FLAGS = {
  dir: { type: "string", value: "DIR", default: "$TORCH_TRANSFER_WEIGHTS_DIR, else the package's weights/", help: "the weights cache folder" },
} as const satisfies FlagTable;

export const SPEC: CommandSpec<typeof FLAGS> = {
  name: "fetch-weights",
  summary: "Download torchvision's ResNet-18 ImageNet weights (resnet18-f37072fd.pth) into the cache, checking their hash.",
  flags: FLAGS,
  examples: ["npm run fetch-weights", "npm run fetch-weights -- --dir /srv/weights"],
};

/** Runs the command; resolves to the exit status (0 ok, 1 failure, 2 usage error). */
export function main(argv: string[]): Promise<number> {
  return statusOf("fetch-weights", () => run(argv));
}

async function run(argv: string[]): Promise<number> {
  const { values: flags, help } = parseCommand(SPEC, argv);
  if (help) {
    process.stdout.write(helpText(SPEC));
    return 0;
  }
  process.stdout.write(`${await resolveWeights("IMAGENET1K_V1", { dir: flags.dir })}\n`);
  return 0;
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
