// Where a model's `weights` option leads: a named torchvision weight set or a file.
// Loaded lazily: a model without weights needs neither the readers nor the downloader.
import type { StateDict } from "../nn/module";

export async function loadWeights(spec: string): Promise<StateDict> {
  const { resolveWeights } = await import("../hub");
  const { load } = await import("../serialization");
  return load(await resolveWeights(spec));
}
