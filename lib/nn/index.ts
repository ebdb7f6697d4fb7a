export { Module } from "./module";
export type { StateDict, LoadResult } from "./module";
export { Linear } from "./linear";
export { CrossEntropyLoss } from "./loss";
export type { CrossEntropyLossOptions, Reduction } from "./loss";
