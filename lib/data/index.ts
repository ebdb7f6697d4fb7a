// The data pipeline: images, decoding and batching.
export { DataLoader } from "./dataLoader";
export type { Dataset, DataLoaderOptions, Sampler, Batch } from "./dataLoader";
export { decodeImage } from "./decode";
export type { RgbImage } from "./image";
