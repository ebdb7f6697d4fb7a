// tt.load's options. mapLocation, as torch.load's map_location with a device string:
// where the loaded tensors go. A file records no device (tensors are written
// from host memory, whichever device they were on), so a checkpoint saved from
// CUDA loads on a CPU-only machine as it is, and onto any GPU with this.
import { checkBoolean, checkOptions, invalid } from "../check";
import { checkDevice } from "../device";
import { Tensor } from "../tensor";

export interface LoadOptions {
  /** "cpu" (the default), "cuda" or "cuda:N": the device every tensor is moved to. */
  mapLocation?: string;
  /**
   * Map the file and make its stored storages tensors over the mapping, without
   * copying them (torch.load's `mmap=True`); default true. The tensors stay
   * valid after the file is deleted or renamed over; a file cut short in place
   * while they live is not supported (as with torch.load). Where the file
   * cannot be mapped, it is read into memory instead.
   */
  mmap?: boolean;
}

export function checkLoadOptions(options: LoadOptions | undefined): LoadOptions {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null) throw invalid("options object ({ mapLocation, mmap })", "options", options);
  const { mapLocation, mmap } = checkOptions(options, { mapLocation: true, mmap: true }, "load");
  if (mapLocation !== undefined) checkDevice(mapLocation, "mapLocation");
  if (mmap !== undefined) checkBoolean(mmap, "mmap");
  return { mapLocation, mmap };
}

/** Every tensor of `sd` on `device`; the host copies are freed. */
export function moveStateDict(sd: Map<string, Tensor>, device: string): Map<string, Tensor> {
  if (device === "cpu") return sd;
  const out = new Map<string, Tensor>();
  try {
    for (const [name, t] of sd) out.set(name, t.to(device));
  } catch (err) {
    for (const t of out.values()) t.dispose();
    throw err;
  } finally {
    for (const t of sd.values()) t.dispose();
  }
  return out;
}
