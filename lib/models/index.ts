export { resnet18, ResNet } from "./resnet";
export type { ResNet18Options } from "./resnet";
