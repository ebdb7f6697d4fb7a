// What a run leaves in its --out folder, each file written whole or not at all:
//   model.safetensors       the best weights, with class names and settings (for predict and services)
//   checkpoint.safetensors  the last whole epoch: weights, best weights, optimizer and scheduler state, history
//   history.json            one record per phase per epoch
import * as fs from "fs";
import * as path from "path";
import { StateDict } from "../nn/module";
import { LRSchedulerState } from "../optim/lrScheduler";
import { Optimizer, OptimizerStateDict } from "../optim/optimizer";
import { ReduceLROnPlateauState } from "../optim/reduceLROnPlateau";
import { Tensor } from "../tensor";
import type { Preprocessing } from "./preprocessing";
import { RngState } from "./rngState";
import type { GradScalerState } from "../amp/gradScaler";
import { EpochRecord } from "./trainModel";

export const MODEL_FILE = "model.safetensors";
export const CHECKPOINT_FILE = "checkpoint.safetensors";
export const HISTORY_FILE = "history.json";

export interface RunSettings {
  mode: string;
  /** torchvision's architecture name (resnet18, resnet50, ...): predict and loadClassifier rebuild it. */
  arch: string;
  data: string;
  epochs: number;
  batchSize: number;
  lr: number;
  momentum: number;
  stepSize: number;
  gamma: number;
  /** Absent in runs from before these options: sgd, step, 0 and 0. */
  optimizer?: "sgd" | "adamw";
  scheduler?: "step" | "cosine" | "onecycle";
  warmupEpochs?: number;
  weightDecay?: number;
  /** --early-stop's patience in epochs; 0 or absent: off. */
  earlyStop?: number;
  /** --freeze-epochs and --backbone-lr-mult (fastai's fine_tune); 0 or absent: off. */
  freezeEpochs?: number;
  backboneLrMult?: number;
  /** Absent in runs from before these options: tutorial, 0, 0, 0 and 0. */
  augment?: "tutorial" | "trivialaugment" | "randaugment";
  mixup?: number;
  cutmix?: number;
  labelSmoothing?: number;
  randomErase?: number;
  weights: string;
  /** The run's eval preset (resize, crop, filter, mean, std), its weights' own; absent in runs from before: the tutorial's. */
  preprocessing?: Preprocessing;
  seed: number;
  device: string;
  /** --val-split: the share of each class held out (the split itself is split.csv). */
  valSplit?: number;
  /** --labels: the CSV of paths and labels, resolved. */
  labels?: string;
  /** --class-weights as given (auto, or W1,W2,...), and the loss weights it gave. */
  classWeights?: string;
  lossWeight?: number[];
  /** --amp: float16 autocast with a GradScaler on CUDA, bfloat16 autocast on CPU (where it pays); absent: off. */
  amp?: boolean;
  /** --channels-last: the model laid out in torch.channels_last while it trains; absent: contiguous (NCHW). */
  channelsLast?: boolean;
}

export interface ModelMetadata {
  classes: string[];
  settings: RunSettings;
  bestValAcc?: number;
}

export function modelMetadata(meta: ModelMetadata): Record<string, string> {
  const out: Record<string, string> = {
    format: "torch-transfer/classifier-v1",
    arch: meta.settings.arch,
    classes: JSON.stringify(meta.classes),
    settings: JSON.stringify(meta.settings),
  };
  if (meta.bestValAcc !== undefined) out.bestValAcc = String(meta.bestValAcc);
  return out;
}

export function parseModelMetadata(file: string, raw: Record<string, string> | undefined): ModelMetadata {
  if (!raw || raw.format !== "torch-transfer/classifier-v1" || !raw.classes) {
    throw new Error(`${file} is not a torch-transfer classifier (its safetensors metadata has no class names)`);
  }
  const classes = JSON.parse(raw.classes) as unknown;
  if (!Array.isArray(classes) || !classes.every((c) => typeof c === "string")) throw new Error(`${file}: class names are not a list of strings`);
  const settings = raw.settings ? JSON.parse(raw.settings) : {};
  // Files written before the arch was recorded are all ResNet-18s.
  settings.arch = raw.arch ?? settings.arch ?? "resnet18";
  return { classes, settings, bestValAcc: raw.bestValAcc ? Number(raw.bestValAcc) : undefined };
}

export interface CheckpointState {
  epoch: number; // last whole epoch
  bestAcc: number;
  history: EpochRecord[];
  scheduler: LRSchedulerState | ReduceLROnPlateauState;
  classes: string[];
  settings: RunSettings;
  /** The optimizer's groups and its numeric state (step counts); its tensors are in the file. */
  optimizer?: { paramGroups: OptimizerStateDict["paramGroups"]; numbers: Record<string, Record<string, number>> };
  /** Absent in checkpoints written before resumes were exact, and in the one saved before any epoch. */
  rng?: RngState;
  /** --amp on CUDA: the GradScaler's scale and growth tracker, so a resumed run scales as the straight one. */
  gradScaler?: GradScalerState;
}

export async function saveCheckpoint(
  dir: string,
  state: CheckpointState,
  model: StateDict,
  best: StateDict,
  optimizer: Optimizer,
): Promise<string> {
  const { save } = await import("../serialization");
  const tensors = new Map<string, Tensor>();
  for (const [k, t] of model) tensors.set(`model.${k}`, t);
  for (const [k, t] of best) tensors.set(`best.${k}`, t);
  const sd = optimizer.stateDict();
  const numbers: Record<string, Record<string, number>> = {};
  for (const [i, entry] of Object.entries(sd.state)) {
    for (const [k, v] of Object.entries(entry)) {
      if (typeof v === "number") (numbers[i] ??= {})[k] = v;
      else tensors.set(`optimizer.${i}.${k}`, v);
    }
  }
  const file = path.join(dir, CHECKPOINT_FILE);
  const full: CheckpointState = { ...state, optimizer: { paramGroups: sd.paramGroups, numbers } };
  await save(tensors, file, { format: "torch-transfer/checkpoint-v1", state: JSON.stringify(full) });
  return file;
}

/**
 * A checkpoint's optimizer state for `optimizer`: the saved groups' options
 * and every parameter's state. Checkpoints from before parameter groups held
 * momentum buffers only; the optimizer keeps its own options for them.
 */
export function checkpointOptimizerState(saved: { state: CheckpointState; optimizerTensors: Map<string, Tensor> }, optimizer: Optimizer): OptimizerStateDict {
  const state: OptimizerStateDict["state"] = {};
  for (const [i, entry] of Object.entries(saved.state.optimizer?.numbers ?? {})) state[Number(i)] = { ...entry };
  for (const [key, t] of saved.optimizerTensors) {
    const [i, name] = key.split(".");
    (state[Number(i)] ??= {})[name] = t;
  }
  return { state, paramGroups: saved.state.optimizer?.paramGroups ?? optimizer.stateDict().paramGroups };
}

export async function loadCheckpoint(dir: string): Promise<{ state: CheckpointState; model: StateDict; best: StateDict; optimizerTensors: Map<string, Tensor> }> {
  const file = path.join(dir, CHECKPOINT_FILE);
  if (!fs.existsSync(file)) throw new Error(`no checkpoint to resume in ${dir} (expected ${file})`);
  const { load, loadSafetensorsMetadata } = await import("../serialization");
  const meta = await loadSafetensorsMetadata(file);
  if (!meta || meta.format !== "torch-transfer/checkpoint-v1" || !meta.state) throw new Error(`${file} is not a torch-transfer checkpoint`);
  const tensors = await load(file);
  const model: StateDict = new Map();
  const best: StateDict = new Map();
  // "<parameter>.<state name>"; older files have "momentum.<parameter>".
  const optimizerTensors = new Map<string, Tensor>();
  for (const [k, t] of tensors) {
    if (k.startsWith("model.")) model.set(k.slice(6), t);
    else if (k.startsWith("best.")) best.set(k.slice(5), t);
    else if (k.startsWith("optimizer.")) optimizerTensors.set(k.slice(10), t);
    else if (k.startsWith("momentum.")) optimizerTensors.set(`${k.slice(9)}.momentumBuffer`, t);
  }
  return { state: JSON.parse(meta.state) as CheckpointState, model, best, optimizerTensors };
}

/**
 * What an --out folder holds: "empty"; "no-epoch", a run that stopped before
 * its first epoch ended (only the starting weights, which this package wrote
 * with a best accuracy of 0, and at most the starting point's checkpoint; no
 * history); or "kept", anything else (whole epochs, a model from elsewhere).
 */
export async function runFolderState(dir: string): Promise<"empty" | "no-epoch" | "kept"> {
  const has = (name: string) => fs.existsSync(path.join(dir, name));
  if (!has(MODEL_FILE) && !has(CHECKPOINT_FILE)) return "empty";
  // A --cache-features run keeps no checkpoint, but its history says it finished.
  if (has(HISTORY_FILE)) return "kept";
  const { loadSafetensorsMetadata } = await import("../serialization");
  const metadata = async (name: string) => (has(name) ? loadSafetensorsMetadata(path.join(dir, name)).catch(() => null) : undefined);
  const [model, checkpoint] = [await metadata(MODEL_FILE), await metadata(CHECKPOINT_FILE)];
  const startingModel = model === undefined || (model?.format === "torch-transfer/classifier-v1" && model.bestValAcc === "0");
  const startingCheckpoint = checkpoint === undefined || (checkpoint?.format === "torch-transfer/checkpoint-v1" && !!checkpoint.state && (JSON.parse(checkpoint.state) as CheckpointState).epoch < 0);
  return startingModel && startingCheckpoint ? "no-epoch" : "kept";
}

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    await fs.promises.writeFile(tmp, JSON.stringify(value, null, 2) + "\n");
    await fs.promises.rename(tmp, file);
  } catch (err) {
    // A full disk must not leave half a file behind, nor a message without the file's name.
    await fs.promises.rm(tmp, { force: true });
    throw new Error(`cannot write ${file}: ${(err as Error).message}`);
  }
}

/**
 * The model file a user means: a run folder stands for its model.safetensors.
 * A path that is not there says "no such file", not a decoder's complaint.
 */
export async function modelFileOf(fileOrRunDir: string): Promise<string> {
  const stat = await fs.promises.stat(fileOrRunDir).catch(() => null);
  if (!stat) throw Object.assign(new Error(`no such file: ${fileOrRunDir}`), { code: "ENOENT" });
  if (!stat.isDirectory()) return fileOrRunDir;
  const file = path.join(fileOrRunDir, MODEL_FILE);
  if (!fs.existsSync(file)) {
    throw Object.assign(new Error(`${fileOrRunDir} is a folder without ${MODEL_FILE}: not a finished run of npm run finetune or feature-extract`), { code: "ENOENT" });
  }
  return file;
}
