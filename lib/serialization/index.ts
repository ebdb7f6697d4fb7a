// Reading and writing state dicts: torch.save files and safetensors, both ways.
export { load } from "./torchLoad";
export type { LoadOptions } from "./mapLocation";
export { save } from "./save";
export type { SaveFormat, SaveOptions } from "./save";
export { loadSafetensors, loadSafetensorsMetadata } from "./safetensors";
export { unpickle } from "./pickle";
