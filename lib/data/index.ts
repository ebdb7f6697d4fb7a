// The data pipeline: images, decoding and batching.
export { DataLoader } from "./dataLoader";
export type { Dataset, DataLoaderOptions, Sampler, Batch } from "./dataLoader";
export { decodeImage } from "./decode";
export { checkImages } from "./checkImages";
export type { BadImage, CheckImagesOptions } from "./checkImages";
export type { RgbImage } from "./image";
