// torchvision's ImageFolder: classes are the sorted sub-folders of root, each
// image file under a class folder is a sample labelled with its class index.
import * as fs from "fs";
import { checkOptions, checkString, invalid } from "../check";
import { RgbImage } from "../data/image";
import { LabelledImages, LabelledImagesOptions } from "./labelledImages";
import { compareCodePoints, pyJoin, walkFiles } from "./walk";

export const IMG_EXTENSIONS = [".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp"] as const;

export interface ImageFolderOptions<T = RgbImage> extends LabelledImagesOptions<T> {
  /** torchvision's is_valid_file: which files are samples, in place of the extension check. */
  isValidFile?: (path: string) => boolean;
}

export function hasImageExtension(file: string): boolean {
  const lower = file.toLowerCase();
  return IMG_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

export function findClasses(root: string): string[] {
  if (!fs.existsSync(root)) {
    throw Object.assign(new Error(`Couldn't find any class folder in ${root}: root ${root} does not exist`), { code: "ENOENT" });
  }
  const classes = fs.readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() || (e.isSymbolicLink() && isDir(pyJoin(root, e.name))))
    .map((e) => e.name)
    .sort(compareCodePoints);
  if (classes.length === 0) throw Object.assign(new Error(`Couldn't find any class folder in ${root}.`), { code: "ENOENT" });
  return classes;
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** torchvision's ImageFolder. `T`: what get() gives, the transform's output, or the decoded RgbImage without a transform. */
export class ImageFolder<T = RgbImage> extends LabelledImages<T> {
  readonly root: string;

  constructor(root: string, options: ImageFolderOptions<T> = {}) {
    const { transform, onError, isValidFile = hasImageExtension } = checkOptions(options, { transform: true, onError: true, isValidFile: true }, "ImageFolder");
    checkString(root, "root");
    if (typeof isValidFile !== "function") throw invalid("function (path) => boolean", "isValidFile", isValidFile);
    const classes = findClasses(root);
    const samples: [string, number][] = [];
    const empty: string[] = [];
    classes.forEach((cls, label) => {
      const files = walkFiles(pyJoin(root, cls)).filter((f) => isValidFile(f));
      if (files.length === 0) empty.push(cls);
      for (const file of files) samples.push([file, label]);
    });
    if (empty.length > 0) {
      throw Object.assign(
        new Error(`Found no valid file for the classes ${empty.sort(compareCodePoints).join(", ")}. Supported extensions are: ${IMG_EXTENSIONS.join(", ")}`),
        { code: "ENOENT" },
      );
    }
    super(classes, samples, { transform, onError });
    this.root = root;
  }

  toString(): string {
    return this.describe([]);
  }
}
