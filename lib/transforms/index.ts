// torchvision.transforms, for the tutorial's pipelines.
export { Compose } from "./compose";
export { RandomResizedCrop } from "./randomResizedCrop";
export type { CropParams } from "./randomResizedCrop";
export { RandomHorizontalFlip } from "./randomHorizontalFlip";
export { Resize } from "./resize";
export { CenterCrop } from "./centerCrop";
export { ToTensor } from "./toTensor";
export { Normalize } from "./normalize";
export type { Transform } from "./transform";
export type { InterpolationMode } from "./functional";
export * from "./augment";
export * as functional from "./augment/functional";
