// tt.save: one entry point for both file formats, chosen by the `format`
// option or else by the file's extension (.pth/.pt: torch.save's zip format;
// anything else: safetensors, the format torch-transfer has always written).
import * as nodePath from "path";
import { checkOptions, checkString, invalid } from "../check";
import { checkTensor, Tensor } from "../tensor";
import { saveSafetensors } from "./safetensors";
import { savePth } from "./torchSave";

export type SaveFormat = "pth" | "safetensors";

export interface SaveOptions {
  /** Overrides the extension: "pth" (torch.save's zip format) or "safetensors". */
  format?: SaveFormat;
}

function formatOf(path: string, options: SaveOptions | undefined): SaveFormat {
  const { format } = checkOptions(options, { format: true }, "save");
  if (format !== undefined) {
    if (format !== "pth" && format !== "safetensors") throw invalid('"pth" or "safetensors"', "options.format", format);
    return format;
  }
  return [".pth", ".pt"].includes(nodePath.extname(path).toLowerCase()) ? "pth" : "safetensors";
}

/**
 * Writes a state dict to `path`, whole or not at all. safetensors keeps
 * `metadata` in its header; a .pth file (read by Python's
 * torch.load(f, weights_only=True)) has no place for it.
 */
export async function save(
  stateDict: Map<string, Tensor> | Record<string, Tensor>,
  path: string,
  metadata?: Record<string, string>,
  options?: SaveOptions,
): Promise<void> {
  checkString(path, "path");
  const format = formatOf(path, options);
  if (format === "safetensors") return saveSafetensors(stateDict, path, metadata);
  if (metadata !== undefined) throw invalid("no metadata (a .pth file has no place for it; use .safetensors)", "metadata", metadata);
  const isRecord = typeof stateDict === "object" && stateDict !== null && Object.getPrototypeOf(stateDict) === Object.prototype;
  if (!(stateDict instanceof Map) && !isRecord) throw invalid("Map or record of Tensors", "stateDict", stateDict);
  const items = stateDict instanceof Map ? [...stateDict] : Object.entries(stateDict);
  for (const [key, value] of items) {
    if (typeof key !== "string" || key === "") throw invalid("tensor name", "stateDict key", key);
    checkTensor(value, `stateDict[${JSON.stringify(key)}]`);
  }
  return savePth(items, path);
}
