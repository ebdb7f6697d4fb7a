// Where a `weights` spec leads: a named torchvision weight set (downloaded into
// the package's weights/ cache on first use) or a file of the user's.
import * as fs from "fs";
import * as path from "path";
import { checkOptions, checkString } from "../check";
import { download } from "./download";

export const RESNET18_FILE = "resnet18-f37072fd.pth";
export const DEFAULT_WEIGHTS_BASE_URL = "https://download.pytorch.org/models";

const IMAGENET_NAMES = new Set(["imagenet", "imagenet1k_v1", "default", "resnet18_weights.imagenet1k_v1"]);

/** The package root, both from lib/hub (ts-jest) and from dist/hub (compiled). */
export const PACKAGE_ROOT = path.resolve(__dirname, "../..");

export interface ResolveOptions {
  /** The cache folder; default `$TORCH_TRANSFER_WEIGHTS_DIR`, else `<package root>/weights`. */
  dir?: string;
  progress?: boolean;
}

const RESOLVE_WEIGHTS_OPTIONS: Record<keyof ResolveOptions, true> = { dir: true, progress: true };

/**
 * The weights cache: TORCH_TRANSFER_WEIGHTS_DIR (like torch.hub's TORCH_HOME:
 * one cache for several projects, or a writable one when the package's folder
 * is not), else the package's weights/ folder.
 */
export function weightsDir(): string {
  return process.env.TORCH_TRANSFER_WEIGHTS_DIR || path.join(PACKAGE_ROOT, "weights");
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
    const file = path.join(options.dir ?? weightsDir(), RESNET18_FILE);
    if (!fs.existsSync(file)) await download(weightsUrl(RESNET18_FILE), file, { progress: options.progress });
    return file;
  }
  const file = path.resolve(spec);
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(file);
  } catch {
    throw new Error(`weights file ${spec} does not exist (use "imagenet" for torchvision's ImageNet weights)`);
  }
  if (!stat.isFile()) throw new Error(`weights file ${spec} is not a file`);
  return file;
}
