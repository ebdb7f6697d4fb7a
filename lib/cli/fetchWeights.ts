// `npm run fetch-weights -- [--arch NAME] [--weights NAME] [--dir DIR]`: a
// torchvision weights file into the cache (ResNet-18's ImageNet weights by default).
import { cachedWeightsFile } from "../hub/weights";
import { getModelWeights, getWeight, listModels } from "../models/registry";
import { CommandSpec, FlagTable, helpText, parseCommand } from "./flags";
import { statusOf, UsageError } from "./usage";

const FLAGS = {
  arch: { type: "string", value: "NAME", default: "resnet18", help: "the architecture, by torchvision's name (resnet50, efficientnet_b0, vit_b_16, ...)" },
  weights: { type: "string", value: "NAME", default: "DEFAULT", help: "the weights enum member (IMAGENET1K_V1, IMAGENET1K_V2, IMAGENET1K_SWAG_E2E_V1, ...; imagenet means DEFAULT)" },
  dir: { type: "string", value: "DIR", default: "$TORCH_TRANSFER_WEIGHTS_DIR, else torch.hub's ~/.cache/torch/hub/checkpoints", help: "the weights cache folder" },
} as const satisfies FlagTable;

export const SPEC: CommandSpec<typeof FLAGS> = {
  name: "fetch-weights",
  summary: "Download a torchvision weights file (ResNet-18's ImageNet weights, resnet18-f37072fd.pth, unless --arch/--weights say otherwise) into the cache, checking its hash.",
  flags: FLAGS,
  examples: ["npm run fetch-weights", "npm run fetch-weights -- --arch efficientnet_b0", "npm run fetch-weights -- --arch resnet50 --weights IMAGENET1K_V1 --dir /srv/weights"],
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
  const arch = flags.arch ?? "resnet18";
  if (!listModels().includes(arch)) throw new UsageError(`--arch: unknown architecture ${arch} (one of ${listModels().join(", ")})`);
  const name = flags.weights === undefined || flags.weights.toLowerCase() === "imagenet" ? "DEFAULT" : flags.weights;
  const weights = getWeight(arch, name);
  if (!weights) {
    throw new UsageError(`--weights: ${arch} has no ${name} weights (it has DEFAULT, ${getModelWeights(arch).members().map((w) => w.name).join(", ")})`);
  }
  process.stdout.write(`${await cachedWeightsFile(weights, { dir: flags.dir })}\n`);
  return 0;
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
