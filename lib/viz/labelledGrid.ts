// A picture of images in a grid, each with a few lines of text above it and,
// when marked, a red frame: the layout visualizeModel draws, for any captions
// (top losses, Grad-CAM).
import sharp from "sharp";
import { writeFileAtomic } from "./atomicWrite";
import { overlaySvg, Rect, TextLine } from "./svgText";

export interface GridCell {
  rgb: { pixels: Buffer; width: number; height: number };
  /** Lines above the image, top first. */
  lines: string[];
  /** Drawn in red, in a red frame. */
  marked?: boolean;
}

const MARGIN = 10;
const LINE_HEIGHT = 17;
const BORDER = 4;
const RED = "#d62728";
const INK = "#1a1a1a";

/** Writes the cells as one PNG, `columns` per row; returns its size. */
export async function writeLabelledGrid(cells: GridCell[], out: string, columns = 3): Promise<{ width: number; height: number }> {
  if (cells.length === 0) throw new RangeError("writeLabelledGrid: no images to draw");
  const titleH = Math.max(...cells.map((c) => c.lines.length)) * LINE_HEIGHT + 6;
  const cellW = Math.max(...cells.map((c) => c.rgb.width)) + 2 * BORDER;
  const cellH = Math.max(...cells.map((c) => c.rgb.height)) + 2 * BORDER;
  const cols = Math.min(columns, cells.length);
  const width = MARGIN + cols * (cellW + MARGIN);
  const height = MARGIN + Math.ceil(cells.length / cols) * (titleH + cellH + MARGIN);
  const lines: TextLine[] = [];
  const rects: Rect[] = [];
  const composites: sharp.OverlayOptions[] = [];
  cells.forEach((c, i) => {
    const left = MARGIN + (i % cols) * (cellW + MARGIN);
    const top = MARGIN + Math.floor(i / cols) * (titleH + cellH + MARGIN);
    const image = { left: left + BORDER + Math.floor((cellW - 2 * BORDER - c.rgb.width) / 2), top: top + titleH + BORDER };
    composites.push({ input: c.rgb.pixels, raw: { width: c.rgb.width, height: c.rgb.height, channels: 3 }, ...image });
    c.lines.forEach((text, j) =>
      lines.push({ text, x: left + cellW / 2, y: top + LINE_HEIGHT * (j + 1), maxWidth: cellW, fontSize: 13, color: c.marked ? RED : INK, bold: j === 0 }),
    );
    if (c.marked) {
      rects.push({ x: image.left - BORDER, y: image.top - BORDER, width: c.rgb.width + 2 * BORDER, height: c.rgb.height + 2 * BORDER, stroke: RED, strokeWidth: BORDER });
    }
  });
  composites.push({ input: Buffer.from(overlaySvg(width, height, lines, rects)), left: 0, top: 0 });
  const png = await sharp({ create: { width, height, channels: 3, background: "#ffffff" } }).composite(composites).removeAlpha().png().toBuffer();
  await writeFileAtomic(out, png);
  return { width, height };
}
