import { StepLR } from "./stepLR";

export { SGD } from "./sgd";
export type { SGDOptions, ParamGroup } from "./sgd";
export const lrScheduler = { StepLR };
export { StepLR };
