// torchvision.datasets: the one the tutorial uses, and images listed in a CSV file.
export { ImageFolder, IMG_EXTENSIONS, findClasses, hasImageExtension } from "./imageFolder";
export type { ImageFolderOptions } from "./imageFolder";
export { CsvImageDataset } from "./csvImageDataset";
export type { CsvImageDatasetOptions } from "./csvImageDataset";
export { LabelledImages } from "./labelledImages";
export type { LabelledImagesOptions } from "./labelledImages";
