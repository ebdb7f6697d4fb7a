// torchvision's ImageFolder: classes are the sorted sub-folders of root, each
// image file under a class folder is a sample labelled with its class index.
import * as fs from "fs";
import { checkInteger, checkOptions, checkString, invalid } from "../check";
import { RgbImage } from "../data/image";
import { decodeImage } from "../data/decode";
import { defaultGenerator, Generator } from "../random";
import { Transform } from "../transforms/transform";
import { compareCodePoints, pyJoin, walkFiles } from "./walk";

export const IMG_EXTENSIONS = [".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp"] as const;

export interface ImageFolderOptions<T = RgbImage> {
  /** Applied to each decoded image; get() gives what it returns (without one, the RgbImage). */
  transform?: Transform<RgbImage, T>;
  /** "raise" (default): a file that cannot be decoded rejects get(). "skip": see ImageFolder.get. */
  onError?: "raise" | "skip";
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

/** `T`: what get() gives, the transform's output (a Tensor after ToTensor), or the decoded RgbImage without a transform. */
export class ImageFolder<T = RgbImage> {
  readonly root: string;
  readonly classes: string[];
  readonly classToIdx: Record<string, number>;
  readonly samples: [string, number][];
  readonly targets: number[];
  readonly transform: Transform<RgbImage, T> | undefined;
  readonly onError: "raise" | "skip";
  private readonly broken = new Set<number>();

  constructor(root: string, options: ImageFolderOptions<T> = {}) {
    const { transform, onError = "raise" } = checkOptions(options, { transform: true, onError: true }, "ImageFolder");
    this.root = checkString(root, "root");
    if (transform !== undefined && (transform === null || typeof transform.forward !== "function")) {
      throw invalid("transform (an object with forward())", "transform", transform);
    }
    if (onError !== "raise" && onError !== "skip") throw invalid('"raise" or "skip"', "onError", onError);
    this.transform = transform;
    this.onError = onError;
    this.classes = findClasses(root);
    this.classToIdx = Object.fromEntries(this.classes.map((c, i) => [c, i]));
    this.samples = [];
    const empty: string[] = [];
    this.classes.forEach((cls, label) => {
      const files = walkFiles(pyJoin(root, cls)).filter(hasImageExtension);
      if (files.length === 0) empty.push(cls);
      for (const file of files) this.samples.push([file, label]);
    });
    if (empty.length > 0) {
      throw Object.assign(
        new Error(`Found no valid file for the classes ${empty.sort(compareCodePoints).join(", ")}. Supported extensions are: ${IMG_EXTENSIONS.join(", ")}`),
        { code: "ENOENT" },
      );
    }
    this.targets = this.samples.map(([, label]) => label);
  }

  get length(): number {
    return this.samples.length;
  }

  /**
   * The transformed image and label of sample i. With onError "skip", a file
   * that cannot be decoded is reported once (console.warn) and remembered, and
   * the next decodable sample in order (wrapping round) is returned instead,
   * so that a batch keeps its size; if none can be decoded, get() rejects.
   */
  async get(i: number, options: { generator?: Generator } = {}): Promise<[T, number]> {
    const { generator = defaultGenerator } = checkOptions(options, { generator: true }, "ImageFolder.get");
    checkInteger(i, "index", 0);
    if (i >= this.samples.length) throw new RangeError(`index ${i} is out of range for a dataset of ${this.samples.length} samples`);
    for (let k = 0; k < this.samples.length; k++) {
      const index = (i + k) % this.samples.length;
      if (this.broken.has(index)) continue;
      const [file, label] = this.samples[index];
      let image;
      try {
        image = await decodeImage(file);
      } catch (err) {
        if (this.onError === "raise") throw err;
        this.broken.add(index);
        console.warn(`ImageFolder: skipping ${file}: ${(err as Error).message}`);
        continue;
      }
      // Without a transform T is RgbImage (the class's default), so the image is what was promised.
      return [this.transform ? await this.transform.forward(image, generator) : (image as T), label];
    }
    throw new Error(`ImageFolder: no sample in ${this.root} could be decoded`);
  }

  toString(): string {
    const lines = [`Dataset ImageFolder`, `    Number of datapoints: ${this.length}`, `    Root location: ${this.root}`];
    if (this.transform) lines.push(`    StandardTransform`, `Transform: ${String(this.transform).split("\n").join("\n           ")}`);
    return lines.join("\n");
  }
}
