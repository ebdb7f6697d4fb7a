#!/usr/bin/env node
// npm run export -- --model RUN --format pth|onnx [--out FILE]: a saved run for where people run models.
import * as path from "path";
import { load, loadSafetensorsMetadata, save } from "../serialization";
import { parseModelMetadata } from "../train/checkpoint";
import { IMAGENET_MEAN, IMAGENET_STD } from "../train/tutorial";
import { writeFileAtomic } from "../viz/atomicWrite";
import { CommandSpec, FlagTable, helpText, parseCommand } from "./flags";
import { runMain, UsageError } from "./usage";
import { modelFlag } from "./modelFlags";

const FLAGS = {
  model: { type: "string", value: "RUN", help: "a run folder (its model.safetensors) or a model.safetensors file; required" },
  format: { type: "string", value: "pth|onnx", help: "pth: torch.save's zip format, for torch.load(f, weights_only=True), with a sidecar JSON; required" },
  out: { type: "string", value: "FILE", default: "beside the model: model.pth", help: "where to write (the sidecar goes beside it, as FILE without its extension + .json)" },
} as const satisfies FlagTable;

export const SPEC: CommandSpec<typeof FLAGS> = {
  name: "export",
  summary: "Write a model saved by finetune or feature-extract in another format, with its class names and preprocessing.",
  flags: FLAGS,
  examples: [
    "npm run export -- --model runs/finetune --format pth",
    "npm run export -- --model runs/finetune/model.safetensors --format pth --out ants-bees.pth",
  ],
};

/** What a user of the .pth needs besides the weights: the classes in fc's order and the val transform. */
export interface PthSidecar {
  format: "torch-transfer/pth-sidecar-v1";
  weights: string;
  arch: string;
  classes: string[];
  preprocessing: { resize: number; crop: number; mean: number[]; std: number[]; interpolation: "bilinear" };
}

export async function main(argv: string[]): Promise<number> {
  const { values: flags, help } = parseCommand(SPEC, argv);
  if (help) {
    process.stdout.write(helpText(SPEC));
    return 0;
  }
  if (!flags.model) throw new UsageError("--model is required (a run folder or its model.safetensors; see --help)");
  if (flags.format === "onnx") throw new UsageError("--format onnx: ONNX export is not available yet; --format pth is");
  if (flags.format !== "pth") throw new UsageError(`--format expects pth or onnx, got ${flags.format === undefined ? "nothing" : `"${flags.format}"`}`);
  const checkpoint = await modelFlag(flags.model);
  const meta = parseModelMetadata(checkpoint, await loadSafetensorsMetadata(checkpoint));
  const out = flags.out ?? path.join(path.dirname(checkpoint), "model.pth");
  if (path.resolve(out) === path.resolve(checkpoint)) throw new UsageError(`--out ${out} is the model itself; choose another file`);
  const sidecarFile = path.join(path.dirname(out), `${path.basename(out, path.extname(out))}.json`);
  const stateDict = await load(checkpoint);
  try {
    await save(stateDict, out, undefined, { format: "pth" });
  } finally {
    for (const t of stateDict.values()) t.dispose();
  }
  const sidecar: PthSidecar = {
    format: "torch-transfer/pth-sidecar-v1",
    weights: path.basename(out),
    arch: meta.settings.arch ?? "resnet18",
    classes: meta.classes,
    // dataTransforms.val(): Resize(256), CenterCrop(224), ToTensor, Normalize(ImageNet's mean and std).
    preprocessing: { resize: 256, crop: 224, mean: IMAGENET_MEAN, std: IMAGENET_STD, interpolation: "bilinear" },
  };
  await writeFileAtomic(sidecarFile, JSON.stringify(sidecar, null, 2) + "\n");
  process.stdout.write(`Wrote ${out} and ${sidecarFile}\n`);
  return 0;
}

if (require.main === module) runMain("export", () => main(process.argv.slice(2)));
