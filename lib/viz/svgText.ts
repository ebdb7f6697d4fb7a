// Text for images as SVG overlays, which sharp renders with librsvg (fonts
// through fontconfig: Debian's fonts-dejavu-core gives "DejaVu Sans").
export const FONT_FAMILY = "DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif";

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c] as string);
}

export interface TextLine {
  text: string;
  /** Centre of the line, in pixels. */
  x: number;
  /** Baseline, in pixels. */
  y: number;
  /** Width the text must fit in; the font shrinks to fit. */
  maxWidth: number;
  fontSize?: number;
  color?: string;
  bold?: boolean;
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
  stroke: string;
  strokeWidth: number;
}

/** Font size (at most `fontSize`) for which `text` fits in `maxWidth`; DejaVu Sans averages ~0.6 em per character. */
export function fitFontSize(text: string, maxWidth: number, fontSize: number): number {
  const estimated = text.length * fontSize * 0.6;
  return estimated <= maxWidth ? fontSize : Math.max(6, Math.floor((fontSize * maxWidth) / estimated));
}

/** One SVG, the size of the whole picture, holding text lines and outlined boxes on a transparent background. */
export function overlaySvg(width: number, height: number, lines: TextLine[], rects: Rect[] = []): string {
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`];
  for (const r of rects) {
    const half = r.strokeWidth / 2;
    parts.push(
      `<rect x="${r.x + half}" y="${r.y + half}" width="${r.width - r.strokeWidth}" height="${r.height - r.strokeWidth}" ` +
        `fill="none" stroke="${r.stroke}" stroke-width="${r.strokeWidth}"/>`,
    );
  }
  for (const line of lines) {
    const size = fitFontSize(line.text, line.maxWidth, line.fontSize ?? 14);
    parts.push(
      `<text x="${line.x}" y="${line.y}" text-anchor="middle" font-family="${FONT_FAMILY}" font-size="${size}"` +
        `${line.bold ? ' font-weight="bold"' : ""} fill="${line.color ?? "#000"}">${escapeXml(line.text)}</text>`,
    );
  }
  parts.push("</svg>");
  return parts.join("");
}
