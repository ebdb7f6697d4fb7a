// Pictures and reports: make_grid, imshow, visualize_model, curves, confusion matrix, report.html.
export { makeGrid } from "./grid";
export type { MakeGridOptions } from "./grid";
export { saveImage } from "./saveImage";
export type { SaveImageOptions } from "./saveImage";
export { IMAGENET } from "./pixels";
export type { MeanStd, Unnormalize } from "./pixels";
export { visualizeModel } from "./visualizeModel";
export type { VisualizeOptions, VisualizeResult, PredictedSample, Cell } from "./visualizeModel";
export type { ModelLike } from "./predict";
export { confusionMatrix } from "./confusion";
export type { ConfusionMatrix, ConfusionOptions } from "./confusion";
export { curvesSpec, confusionSpec, curvesSvg, confusionSvg, svgToPng, plotTrainingCurves, plotConfusionMatrix } from "./charts";
export { showBatch } from "./showBatch";
export type { ShowBatchResult } from "./showBatch";
export { writeReport, epochRows } from "./report";
export type { ReportOptions, ReportResult, EpochRow } from "./report";
