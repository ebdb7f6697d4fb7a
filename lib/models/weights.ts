// Where a model's `weights` option leads: a weights enum member (torch.hub's
// cache) or a file. Loaded lazily: a model without weights needs neither the
// readers nor the downloader.
import type { StateDict } from "../nn/module";
import type { Weights } from "./weightsEnum";

export async function loadWeights(spec: Weights | string, { progress }: { progress?: boolean } = {}): Promise<StateDict> {
  const { cachedWeightsFile, resolveWeights } = await import("../hub");
  const { load } = await import("../serialization");
  return load(typeof spec === "string" ? await resolveWeights(spec, { progress }) : await cachedWeightsFile(spec, { progress }));
}
