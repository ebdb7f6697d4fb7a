// What ImageFolder and CsvImageDataset share once their samples are listed:
// decoding, the transform, and skipping files that do not decode.
import { checkInteger, checkOptions, invalid } from "../check";
import { RgbImage } from "../data/image";
import { decodeImage } from "../data/decode";
import { defaultGenerator, Generator } from "../random";
import { Transform } from "../transforms/transform";

export interface LabelledImagesOptions<T = RgbImage> {
  /** Applied to each decoded image; get() gives what it returns (without one, the RgbImage). */
  transform?: Transform<RgbImage, T>;
  /** "raise" (default): a file that cannot be decoded rejects get(). "skip": see get(). */
  onError?: "raise" | "skip";
}

/** `T`: what get() gives, the transform's output (a Tensor after ToTensor), or the decoded RgbImage without a transform. */
export abstract class LabelledImages<T = RgbImage> {
  abstract readonly root: string;
  readonly classes: string[];
  readonly classToIdx: Record<string, number>;
  /** [file, class index] in the dataset's order. */
  readonly samples: [string, number][];
  readonly targets: number[];
  readonly transform: Transform<RgbImage, T> | undefined;
  readonly onError: "raise" | "skip";
  private readonly broken = new Set<number>();

  protected constructor(classes: string[], samples: [string, number][], { transform, onError = "raise" }: LabelledImagesOptions<T>) {
    if (transform !== undefined && (transform === null || typeof transform.forward !== "function")) {
      throw invalid("transform (an object with forward())", "transform", transform);
    }
    if (onError !== "raise" && onError !== "skip") throw invalid('"raise" or "skip"', "onError", onError);
    this.transform = transform;
    this.onError = onError;
    this.classes = classes;
    this.classToIdx = Object.fromEntries(classes.map((c, i) => [c, i]));
    this.samples = samples;
    this.targets = samples.map(([, label]) => label);
  }

  get length(): number {
    return this.samples.length;
  }

  /** With onError "skip": the files skipped so far, in sample order. */
  get skippedFiles(): string[] {
    return [...this.broken].sort((a, b) => a - b).map((i) => this.samples[i][0]);
  }

  /**
   * The transformed image and label of sample i. With onError "skip", a file
   * that cannot be decoded is reported once (console.warn) and remembered, and
   * the next decodable sample in order (wrapping round) is returned instead,
   * so that a batch keeps its size; if none can be decoded, get() rejects.
   */
  async get(i: number, options: { generator?: Generator } = {}): Promise<[T, number]> {
    const { generator = defaultGenerator } = checkOptions(options, { generator: true }, `${this.constructor.name}.get`);
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
        console.warn(`${this.constructor.name}: skipping ${file}: ${(err as Error).message}`);
        continue;
      }
      // Without a transform T is RgbImage (the class's default), so the image is what was promised.
      return [this.transform ? await this.transform.forward(image, generator) : (image as T), label];
    }
    throw new Error(`${this.constructor.name}: no sample in ${this.root} could be decoded`);
  }

  protected describe(extra: string[]): string {
    const lines = [`Dataset ${this.constructor.name}`, `    Number of datapoints: ${this.length}`, `    Root location: ${this.root}`, ...extra];
    if (this.transform) lines.push(`    StandardTransform`, `Transform: ${String(this.transform).split("\n").join("\n           ")}`);
    return lines.join("\n");
  }
}
