// After training: per-class figures, the worst mistakes, where the model looked.
export { classificationReport, countPairs } from "./metrics";
export type { ClassificationReport, ClassMetrics } from "./metrics";
export { predictDataset, topLosses } from "./predictDataset";
export type { PredictDatasetOptions, SamplePrediction } from "./predictDataset";
export { gradCam, upsampleBilinear } from "./gradCam";
export type { GradCamOptions, GradCamResult } from "./gradCam";
export { hflip, softmaxRows } from "./tta";
