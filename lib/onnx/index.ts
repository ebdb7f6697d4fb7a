export { export, toOnnx, DEFAULT_OPSET, MIN_OPSET, MAX_OPSET } from "./export";
export type { OnnxExportOptions } from "./export";
export { exportableModels } from "./exporters";
