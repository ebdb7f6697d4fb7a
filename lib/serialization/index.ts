// Reading and writing state dicts: torch.save files (read) and safetensors (read and write).
export { load } from "./torchLoad";
export { save, loadSafetensors, loadSafetensorsMetadata } from "./safetensors";
export { unpickle } from "./pickle";
