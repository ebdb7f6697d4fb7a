// torchvision.datasets: the one the tutorial uses.
export { ImageFolder, IMG_EXTENSIONS, findClasses, hasImageExtension } from "./imageFolder";
export type { ImageFolderOptions } from "./imageFolder";
