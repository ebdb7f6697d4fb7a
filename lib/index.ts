// torch-transfer: PyTorch's transfer-learning tutorial for Node.js.
export { tensor, stack, isTensor, Tensor } from "./tensor";
export type { DtypeName, TypedArray } from "./native";
export { cuda, setNumThreads, getNumThreads, manualSeed, libtorchVersion } from "./runtime";
export { noGrad, withGradEnabled, isGradEnabled, setGradEnabled } from "./grad";
export { load, save, loadSafetensors, loadSafetensorsMetadata } from "./serialization";
export { download, resolveWeights, fetchData } from "./hub";
// [data exports]
export * as models from "./models";
export * as nn from "./nn";
export * as optim from "./optim";
export { trainModel, evaluate, TrainingInterrupted, cloneStateDict } from "./train";
export type { EpochRecord, TrainOptions, TrainResult } from "./train";
// [training exports]
