// tt.load's mapLocation, as torch.load's map_location with a device string:
// where the loaded tensors go. A file records no device (tensors are written
// from host memory, whichever device they were on), so a checkpoint saved from
// CUDA loads on a CPU-only machine as it is, and onto any GPU with this.
import { checkOptions, invalid } from "../check";
import { checkDevice } from "../device";
import { Tensor } from "../tensor";

export interface LoadOptions {
  /** "cpu" (the default), "cuda" or "cuda:N": the device every tensor is moved to. */
  mapLocation?: string;
}

export function checkLoadOptions(options: LoadOptions | undefined): LoadOptions {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null) throw invalid("options object ({ mapLocation })", "options", options);
  const { mapLocation } = checkOptions(options, { mapLocation: true }, "load");
  if (mapLocation !== undefined) checkDevice(mapLocation, "mapLocation");
  return { mapLocation };
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
