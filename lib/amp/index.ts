// torch.amp: GradScaler, and what amp means on each device.
export { GradScaler } from "./gradScaler";
export type { GradScalerOptions, GradScalerState } from "./gradScaler";
export { cpuBf16Flags, cpuBf16Enabled } from "./cpuBf16";
export { ampPlan } from "./plan";
export type { AmpPlan } from "./plan";
export { autocast } from "./autocast";
export type { AutocastOptions } from "./autocast";
