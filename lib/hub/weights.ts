// Where a `weights` spec leads: a named torchvision weight set (downloaded into
// torch.hub's cache on first use, so files Python downloaded are reused) or a file of the user's.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkOptions, checkString } from "../check";
import { download } from "./download";

export const RESNET18_FILE = "resnet18-f37072fd.pth";
export const DEFAULT_WEIGHTS_BASE_URL = "https://download.pytorch.org/models";

const IMAGENET_NAMES = new Set(["imagenet", "imagenet1k_v1", "default", "resnet18_weights.imagenet1k_v1"]);

/** The package root, both from lib/hub (ts-jest) and from dist/hub (compiled). */
export const PACKAGE_ROOT = path.resolve(__dirname, "../..");

/** torch.hub's checkpoint cache: $TORCH_HOME/hub/checkpoints, else $XDG_CACHE_HOME/torch/..., else ~/.cache/torch/... */
export function hubCheckpointsDir(): string {
  const torchHome = process.env.TORCH_HOME || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "torch");
  return path.join(torchHome, "hub", "checkpoints");
}

/** A named weights file (a weights enum member) in the cache, downloaded and hash-checked when not there yet. */
export async function cachedWeightsFile(entry: { url: string; fileName: string; formerFileNames?: string[] }, options: ResolveOptions = {}): Promise<string> {
  const dir = options.dir ?? weightsDir();
  const file = path.join(dir, entry.fileName);
  // Files earlier versions cached in the package's own weights/ folder are still used.
  const legacy = path.join(PACKAGE_ROOT, "weights", entry.fileName);
  if (dir === hubCheckpointsDir() && !fs.existsSync(file) && fs.existsSync(legacy)) return legacy;
  // The same weights as an earlier torchvision published them, cached by that torchvision.
  if (!fs.existsSync(file)) {
    const former = (entry.formerFileNames ?? []).map((name) => path.join(dir, name)).find((f) => fs.existsSync(f));
    if (former) return former;
  }
  if (!fs.existsSync(file)) {
    const url = process.env.TORCH_TRANSFER_WEIGHTS_URL ? weightsUrl(entry.fileName) : entry.url;
    await download(url, file, { progress: options.progress });
  }
  return file;
}

export interface ResolveOptions {
  /** The cache folder; default `$TORCH_TRANSFER_WEIGHTS_DIR`, else torch.hub's (hubCheckpointsDir()). */
  dir?: string;
  progress?: boolean;
}

const RESOLVE_WEIGHTS_OPTIONS: Record<keyof ResolveOptions, true> = { dir: true, progress: true };

/**
 * The weights cache: TORCH_TRANSFER_WEIGHTS_DIR (one cache for several
 * projects, or a writable one), else torch.hub's, so files Python downloaded are reused.
 */
export function weightsDir(): string {
  return process.env.TORCH_TRANSFER_WEIGHTS_DIR || hubCheckpointsDir();
}

export function weightsUrl(file: string): string {
  const base = process.env.TORCH_TRANSFER_WEIGHTS_URL || DEFAULT_WEIGHTS_BASE_URL;
  return `${base.replace(/\/+$/, "")}/${file}`;
}

/**
 * A weights file path for `spec`: "IMAGENET1K_V1" or "imagenet" give torchvision's
 * ResNet-18 ImageNet weights (downloaded and hash-checked when not cached yet);
 * anything else is a path to a file that must exist.
 */
export async function resolveWeights(spec: string, options: ResolveOptions = {}): Promise<string> {
  checkOptions(options, RESOLVE_WEIGHTS_OPTIONS, "resolveWeights");
  checkString(spec, "weights");
  if (IMAGENET_NAMES.has(spec.toLowerCase())) {
    return cachedWeightsFile({ url: `${DEFAULT_WEIGHTS_BASE_URL}/${RESNET18_FILE}`, fileName: RESNET18_FILE }, options);
  }
  const file = path.resolve(spec);
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(file);
  } catch {
    throw new Error(`weights file ${spec} does not exist (use IMAGENET1K_V1, IMAGENET1K_V2 or DEFAULT for torchvision's ImageNet weights)`);
  }
  if (!stat.isFile()) throw new Error(`weights file ${spec} is not a file`);
  return file;
}
