// The tutorial's visualize_model: a few validation images, two per row, each
// titled with the model's prediction; wrong predictions in red, with the truth.
import sharp from "sharp";
import { checkInteger, checkOptions, checkString, invalid } from "../check";
import { BatchSource } from "../train/trainModel";
import { writeFileAtomic } from "./atomicWrite";
import { makeGridPlanar } from "./grid";
import { checkUnnormalize, toRGB8, Unnormalize } from "./pixels";
import { checkBatchSource, checkModelLike, ModelLike, inEvalMode, predictBatches, resolveDevice } from "./predict";
import { checkImageShape, readPlanar } from "./saveImage";
import { overlaySvg, Rect, TextLine } from "./svgText";

export interface VisualizeOptions {
  /** How many images (default 6, as in the tutorial). */
  numImages?: number;
  /** The PNG to write (default "predictions.png"). */
  out?: string;
  /** Class names by label (default: the label numbers). */
  classNames?: string[];
  /** Where the model runs (default: "cuda:0" when available, else "cpu"). */
  device?: string;
  /** How the inputs were normalized (default "imagenet", the tutorial's transforms). */
  unnormalize?: Unnormalize;
}

const VISUALIZE_MODEL_OPTIONS: Record<keyof VisualizeOptions, true> = { numImages: true, out: true, classNames: true, device: true, unnormalize: true };

export interface PredictedSample {
  predicted: string;
  actual: string;
  predictedIndex: number;
  actualIndex: number;
  correct: boolean;
  /** The title drawn above the image. */
  title: string;
}

export interface Cell {
  /** Where the image lies in the picture. */
  image: { left: number; top: number; width: number; height: number };
  /** The band holding its title. */
  title: { left: number; top: number; width: number; height: number };
}

export interface VisualizeResult {
  file: string;
  width: number;
  height: number;
  predictions: PredictedSample[];
  /** Where each image and title lies, in the order of predictions. */
  layout: Cell[];
  /** The SVG overlay with the titles, as rendered onto the picture. */
  overlay: string;
}

const COLUMNS = 2;
const MARGIN = 10;
const TITLE_HEIGHT = 40;
const BORDER = 4;
const MIN_CELL_WIDTH = 200;
const WRONG = "#d62728";
const RIGHT = "#1a1a1a";

interface Sample {
  rgb: { pixels: Buffer; width: number; height: number };
  predictedIndex: number;
  actualIndex: number;
}

export async function visualizeModel(model: ModelLike, dataloader: BatchSource, options: VisualizeOptions = {}): Promise<VisualizeResult> {
  checkOptions(options, VISUALIZE_MODEL_OPTIONS, "visualizeModel");
  checkModelLike(model);
  checkBatchSource(dataloader, "dataloader");
  if (typeof options !== "object" || options === null) throw invalid("options object", "options", options);
  const { numImages = 6, out = "predictions.png", unnormalize = "imagenet" } = options;
  checkInteger(numImages, "numImages", 1);
  checkString(out, "out");
  // Like the tutorial's class_names: by default, the classes of the loader's ImageFolder.
  const classNames = checkClassNames(options.classNames) ?? datasetClasses(dataloader);
  const mean = checkUnnormalize(unnormalize);
  const device = resolveDevice(options.device);

  const samples: Sample[] = [];
  await inEvalMode(model, async () => {
    for await (const batch of predictBatches(model, dataloader, device)) {
      checkImageShape(batch.inputs.shape, "the inputs of a batch");
      if (batch.inputs.shape.length !== 4) throw new RangeError(`a batch must have shape [B, 3, H, W], not [${batch.inputs.shape.join(", ")}]`);
      const planar = await readPlanar(batch.inputs, "inputs");
      const [, c, h, w] = planar.shape;
      const size = c * h * w;
      for (let j = 0; j < batch.labels.length && samples.length < numImages; j++) {
        const image = makeGridPlanar({ data: planar.data.subarray(j * size, (j + 1) * size), shape: [c, h, w] });
        samples.push({ rgb: toRGB8(image, mean), predictedIndex: batch.predicted[j], actualIndex: batch.labels[j] });
      }
      if (samples.length >= numImages) break;
    }
  });
  if (samples.length === 0) throw new Error("visualizeModel: the data loader gave no images");

  const name = (i: number) => (classNames && i < classNames.length ? classNames[i] : String(i));
  const predictions: PredictedSample[] = samples.map((s) => {
    const correct = s.predictedIndex === s.actualIndex;
    const predicted = name(s.predictedIndex);
    const actual = name(s.actualIndex);
    return {
      predicted,
      actual,
      predictedIndex: s.predictedIndex,
      actualIndex: s.actualIndex,
      correct,
      title: correct ? `predicted: ${predicted}` : `predicted: ${predicted} (true: ${actual})`,
    };
  });

  // Two images per row, each cell as wide as the widest image, a title band above each.
  const cellW = Math.max(MIN_CELL_WIDTH, ...samples.map((s) => s.rgb.width + 2 * BORDER));
  const cellH = Math.max(...samples.map((s) => s.rgb.height)) + 2 * BORDER;
  const rows = Math.ceil(samples.length / COLUMNS);
  const columns = Math.min(COLUMNS, samples.length);
  const width = MARGIN + columns * (cellW + MARGIN);
  const height = MARGIN + rows * (TITLE_HEIGHT + cellH + MARGIN);

  const layout: Cell[] = [];
  const lines: TextLine[] = [];
  const rects: Rect[] = [];
  const composites: sharp.OverlayOptions[] = [];
  samples.forEach((s, i) => {
    const left = MARGIN + (i % COLUMNS) * (cellW + MARGIN);
    const top = MARGIN + Math.floor(i / COLUMNS) * (TITLE_HEIGHT + cellH + MARGIN);
    const p = predictions[i];
    const color = p.correct ? RIGHT : WRONG;
    const image = {
      left: left + BORDER + Math.floor((cellW - 2 * BORDER - s.rgb.width) / 2),
      top: top + TITLE_HEIGHT + BORDER,
      width: s.rgb.width,
      height: s.rgb.height,
    };
    layout.push({ image, title: { left, top, width: cellW, height: TITLE_HEIGHT } });
    composites.push({ input: s.rgb.pixels, raw: { width: s.rgb.width, height: s.rgb.height, channels: 3 }, left: image.left, top: image.top });
    const centre = left + cellW / 2;
    if (p.correct) {
      lines.push({ text: `predicted: ${p.predicted}`, x: centre, y: top + 26, maxWidth: cellW, fontSize: 15, color });
    } else {
      lines.push({ text: `predicted: ${p.predicted}`, x: centre, y: top + 17, maxWidth: cellW, fontSize: 15, color, bold: true });
      lines.push({ text: `(true: ${p.actual})`, x: centre, y: top + 35, maxWidth: cellW, fontSize: 13, color });
      rects.push({ x: image.left - BORDER, y: image.top - BORDER, width: image.width + 2 * BORDER, height: image.height + 2 * BORDER, stroke: WRONG, strokeWidth: BORDER });
    }
  });
  const overlay = overlaySvg(width, height, lines, rects);
  composites.push({ input: Buffer.from(overlay), left: 0, top: 0 });

  const png = await sharp({ create: { width, height, channels: 3, background: "#ffffff" } })
    .composite(composites)
    .removeAlpha()
    .png()
    .toBuffer();
  await writeFileAtomic(out, png);
  return { file: out, width, height, predictions, layout, overlay };
}

function datasetClasses(loader: BatchSource): string[] | undefined {
  const classes = (loader as { dataset?: { classes?: unknown } }).dataset?.classes;
  return Array.isArray(classes) && classes.every((c) => typeof c === "string") ? classes : undefined;
}

export function checkClassNames(classNames: unknown, name = "classNames"): string[] | undefined {
  if (classNames === undefined) return undefined;
  if (!Array.isArray(classNames) || !classNames.every((c) => typeof c === "string")) throw invalid("array of strings", name, classNames);
  return classNames;
}
