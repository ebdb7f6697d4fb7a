#!/usr/bin/env node
// npm run export -- --model RUN --format pth|onnx [--out FILE]: a saved run for where people run models.
import * as path from "path";
import { MAX_OPSET, MIN_OPSET, DEFAULT_OPSET, export as exportOnnx } from "../onnx";
import { load, loadSafetensorsMetadata, save } from "../serialization";
import { parseModelMetadata } from "../train/checkpoint";
import { loadTrainedModel } from "../train/loadTrained";
import { Preprocessing, savedPreprocessing } from "../train/preprocessing";

export type { Preprocessing } from "../train/preprocessing";
import { writeFileAtomic } from "../viz/atomicWrite";
import { CommandSpec, FlagTable, helpText, parseCommand } from "./flags";
import { runMain, UsageError } from "./usage";
import { modelFlag } from "./modelFlags";

const FLAGS = {
  model: { type: "string", value: "RUN", help: "a run folder (its model.safetensors) or a model.safetensors file; required" },
  format: {
    type: "string", value: "pth|onnx",
    help: "pth: torch.save's zip format, for torch.load(f, weights_only=True), with a sidecar JSON; onnx: an ONNX model with the classes and preprocessing in its metadata_props; required",
  },
  out: { type: "string", value: "FILE", default: "beside the model: model.pth or model.onnx", help: "where to write (a .pth's sidecar goes beside it, as FILE without its extension + .json)" },
  opset: { type: "string", value: "N", default: String(DEFAULT_OPSET), help: `onnx only: the ONNX opset, ${MIN_OPSET} to ${MAX_OPSET}` },
  "dynamic-batch": { type: "boolean", help: "onnx only: a symbolic batch dimension (\"batch\") instead of 1" },
} as const satisfies FlagTable;

export const SPEC: CommandSpec<typeof FLAGS> = {
  name: "export",
  summary: "Write a model saved by finetune or feature-extract in another format, with its class names and preprocessing.",
  flags: FLAGS,
  examples: [
    "npm run export -- --model runs/finetune --format pth",
    "npm run export -- --model runs/finetune/model.safetensors --format pth --out ants-bees.pth",
    "npm run export -- --model runs/finetune --format onnx --dynamic-batch --out ants-bees.onnx",
  ],
};

/** What a user of the .pth needs besides the weights: the classes in fc's order and the val transform. */
export interface PthSidecar {
  format: "torch-transfer/pth-sidecar-v1";
  weights: string;
  arch: string;
  classes: string[];
  preprocessing: Preprocessing;
}

/** The .onnx file's metadata_props, each value a string (JSON for the list and the object). */
export const ONNX_FORMAT = "torch-transfer/onnx-v1";

async function exportPth(checkpoint: string, out: string): Promise<void> {
  const meta = parseModelMetadata(checkpoint, await loadSafetensorsMetadata(checkpoint));
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
    preprocessing: savedPreprocessing(meta.settings),
  };
  await writeFileAtomic(sidecarFile, JSON.stringify(sidecar, null, 2) + "\n");
  process.stdout.write(`Wrote ${out} and ${sidecarFile}\n`);
}

async function exportOnnxFile(checkpoint: string, out: string, opset: number, dynamicBatch: boolean): Promise<void> {
  const { model, meta } = await loadTrainedModel(checkpoint);
  const preprocessing = savedPreprocessing(meta.settings);
  try {
    await exportOnnx(model, out, {
      opset,
      dynamicBatch,
      imageSize: preprocessing.crop,
      metadata: {
        format: ONNX_FORMAT,
        arch: meta.settings.arch,
        classes: JSON.stringify(meta.classes),
        preprocessing: JSON.stringify(preprocessing),
      },
    });
  } finally {
    model.dispose();
  }
  process.stdout.write(`Wrote ${out} (opset ${opset}, input "input" [${dynamicBatch ? "batch" : 1}, 3, ${preprocessing.crop}, ${preprocessing.crop}], output "logits")\n`);
}

export async function main(argv: string[]): Promise<number> {
  const { values: flags, help } = parseCommand(SPEC, argv);
  if (help) {
    process.stdout.write(helpText(SPEC));
    return 0;
  }
  if (!flags.model) throw new UsageError("--model is required (a run folder or its model.safetensors; see --help)");
  if (flags.format !== "pth" && flags.format !== "onnx") {
    throw new UsageError(`--format expects pth or onnx, got ${flags.format === undefined ? "nothing" : `"${flags.format}"`}`);
  }
  const onnx = flags.format === "onnx";
  if (!onnx && flags.opset !== undefined) throw new UsageError("--opset applies to --format onnx only");
  if (!onnx && flags["dynamic-batch"]) throw new UsageError("--dynamic-batch applies to --format onnx only");
  const opset = flags.opset === undefined ? DEFAULT_OPSET : Number(flags.opset);
  if (flags.opset !== undefined && (!/^\d+$/.test(flags.opset.trim()) || opset < MIN_OPSET || opset > MAX_OPSET)) throw new UsageError(`--opset expects an integer from ${MIN_OPSET} to ${MAX_OPSET}, got "${flags.opset}"`);
  const checkpoint = await modelFlag(flags.model);
  const out = flags.out ?? path.join(path.dirname(checkpoint), onnx ? "model.onnx" : "model.pth");
  if (path.resolve(out) === path.resolve(checkpoint)) throw new UsageError(`--out ${out} is the model itself; choose another file`);
  if (onnx) await exportOnnxFile(checkpoint, out, opset, flags["dynamic-batch"] ?? false);
  else await exportPth(checkpoint, out);
  return 0;
}

if (require.main === module) runMain("export", () => main(process.argv.slice(2)));
