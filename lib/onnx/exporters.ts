// Every architecture's ONNX exporter by torchvision's name, as models/registry.ts
// has their builders. Adding a model's export is its file here and a line below.
import * as convnext from "./convnext";
import * as efficientnet from "./efficientnet";
import type { Exporter } from "./exporter";
import * as mobilenetv3 from "./mobilenetv3";
import * as resnet from "./resnet";
import * as vit from "./vit";

const EXPORTERS: Record<string, Exporter> = {
  ...resnet.EXPORTERS,
  ...mobilenetv3.EXPORTERS,
  ...convnext.EXPORTERS,
  ...efficientnet.EXPORTERS,
  ...vit.EXPORTERS,
};

/** The architectures that export to ONNX, sorted. */
export function exportableModels(): string[] {
  return Object.keys(EXPORTERS).sort();
}

export function exporterFor(arch: string): Exporter | undefined {
  return Object.prototype.hasOwnProperty.call(EXPORTERS, arch) ? EXPORTERS[arch] : undefined;
}
