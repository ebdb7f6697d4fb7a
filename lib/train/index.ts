export { trainModel, evaluate, TrainingInterrupted } from "./trainModel";
export type { EpochRecord, TrainOptions, TrainResult, TrainState, BatchSource, Phase, OptimizerSwap } from "./trainModel";
export { cloneStateDict, disposeStateDict } from "./stateDicts";
