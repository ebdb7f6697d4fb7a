// One batch as a grid with its class names as the title: the tutorial's
// imshow(torchvision.utils.make_grid(inputs), title=[class_names[x] for x in classes]).
import sharp from "sharp";
import { checkString, invalid } from "../check";
import { checkTensor, Tensor } from "../tensor";
import { writeFileAtomic } from "./atomicWrite";
import { makeGridPlanar } from "./grid";
import { IMAGENET, toRGB8 } from "./pixels";
import { checkImageShape, readPlanar } from "./saveImage";
import { overlaySvg, TextLine } from "./svgText";

const NROW = 8;
const LINE_HEIGHT = 20;

export interface ShowBatchResult {
  file: string;
  /** The title, one line per row of the grid. */
  title: string[];
  width: number;
  height: number;
}

/** Writes the grid of one normalized batch ([B, 3, H, W]) with its labels' class names above it, as a PNG. */
export async function showBatch(inputs: Tensor, labels: number[], classNames: string[], out: string): Promise<ShowBatchResult> {
  checkTensor(inputs, "inputs");
  checkImageShape(inputs.shape, "inputs");
  if (inputs.shape.length !== 4) throw new RangeError(`inputs must have shape [B, 3, H, W], but has shape [${inputs.shape.join(", ")}]`);
  if (!Array.isArray(labels) || !labels.every((l) => Number.isInteger(l) && l >= 0)) throw invalid("array of class indices", "labels", labels);
  if (labels.length !== inputs.shape[0]) throw new RangeError(`labels has ${labels.length} entries but the batch has ${inputs.shape[0]} images`);
  if (!Array.isArray(classNames) || !classNames.every((c) => typeof c === "string")) throw invalid("array of strings", "classNames", classNames);
  checkString(out, "out");

  const names = labels.map((l) => classNames[l] ?? String(l));
  const title: string[] = [];
  for (let i = 0; i < names.length; i += NROW) title.push(names.slice(i, i + NROW).join(", "));

  const grid = toRGB8(makeGridPlanar(await readPlanar(inputs, "inputs"), { nrow: NROW, padding: 2 }), IMAGENET);
  const band = title.length * LINE_HEIGHT + 10;
  const width = grid.width;
  const height = grid.height + band;
  const lines: TextLine[] = title.map((text, i) => ({ text, x: width / 2, y: 6 + (i + 1) * LINE_HEIGHT - 5, maxWidth: width - 8, fontSize: 15 }));
  const png = await sharp({ create: { width, height, channels: 3, background: "#ffffff" } })
    .composite([
      { input: grid.pixels, raw: { width: grid.width, height: grid.height, channels: 3 }, left: 0, top: band },
      { input: Buffer.from(overlaySvg(width, band, lines)), left: 0, top: 0 },
    ])
    .removeAlpha()
    .png()
    .toBuffer();
  await writeFileAtomic(out, png);
  return { file: out, title, width, height };
}
