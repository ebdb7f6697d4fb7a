import { StepLR } from "./stepLR";

export { SGD } from "./sgd";
export type { SGDOptions, ParamGroup } from "./sgd";
export type { StepLROptions } from "./stepLR";
export const lrScheduler = { StepLR };
export { StepLR };
