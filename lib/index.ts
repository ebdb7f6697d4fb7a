// torch-transfer: PyTorch's transfer-learning tutorial for Node.js.
export { tensor, stack, isTensor, Tensor } from "./tensor";
export type { DtypeName, TypedArray } from "./native";
export { cuda, setNumThreads, getNumThreads, manualSeed, libtorchVersion } from "./runtime";
export { noGrad, withGradEnabled, isGradEnabled, setGradEnabled } from "./grad";
export { load, save, loadSafetensors, loadSafetensorsMetadata } from "./serialization";
export { download, resolveWeights, fetchData } from "./hub";
export * as transforms from "./transforms";
export * as datasets from "./datasets";
export { DataLoader, decodeImage } from "./data";
export type { RgbImage, Dataset, DataLoaderOptions } from "./data";
export { Generator, setTransformSeed } from "./random";
export * as models from "./models";
export * as nn from "./nn";
export * as optim from "./optim";
export { trainModel, evaluate, TrainingInterrupted, cloneStateDict } from "./train";
export type { EpochRecord, TrainOptions, TrainResult } from "./train";
export * as utils from "./viz";
export { visualizeModel, writeReport } from "./viz";
// [training exports]
