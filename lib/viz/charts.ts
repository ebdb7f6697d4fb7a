// Training curves and confusion matrices as SVG (and PNG), drawn by
// vega-lite/vega headless (renderer "none": no canvas, no display).
import sharp from "sharp";
import * as vega from "vega";
import * as vl from "vega-lite";
import { invalid } from "../check";
import { EpochRecord } from "../train/trainModel";
import { writeFileAtomic } from "./atomicWrite";
import { ConfusionMatrix } from "./confusion";
import { FONT_FAMILY } from "./svgText";

const CONFIG = {
  font: FONT_FAMILY,
  view: { stroke: "#ddd" },
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: "#eee" },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14 },
};

const PHASE_COLORS = { domain: ["train", "val"], range: ["#1f77b4", "#ff7f0e"] };

export function checkHistory(history: unknown, name = "history"): EpochRecord[] {
  if (!Array.isArray(history)) throw invalid("array of epoch records", name, history);
  history.forEach((r, i) => {
    const ok =
      typeof r === "object" && r !== null && Number.isInteger(r.epoch) && (r.phase === "train" || r.phase === "val") &&
      typeof r.loss === "number" && typeof r.acc === "number";
    if (!ok) throw invalid("epoch record { epoch, phase, loss, acc, seconds, images }", `${name}[${i}]`, r);
  });
  return history as EpochRecord[];
}

/** Renders a vega-lite spec to an SVG string, headless. */
export async function renderSvg(spec: vl.TopLevelSpec): Promise<string> {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The vega-lite spec of loss and accuracy per epoch, train and val side by side. */
export function curvesSpec(history: EpochRecord[]): vl.TopLevelSpec {
  const values = checkHistory(history).flatMap((r) => [
    { epoch: r.epoch, phase: r.phase, metric: "loss", value: r.loss },
    { epoch: r.epoch, phase: r.phase, metric: "accuracy", value: r.acc },
  ]);
  const maxEpoch = Math.max(0, ...history.map((r) => r.epoch));
  const panel = (metric: string, title: string, domain?: number[]) => ({
    title,
    width: 320,
    height: 220,
    transform: [{ filter: { field: "metric", equal: metric } }],
    mark: { type: "line" as const, point: true, strokeWidth: 2 },
    encoding: {
      x: { field: "epoch", type: "quantitative" as const, title: "epoch", scale: { domain: [0, Math.max(1, maxEpoch)] }, axis: { values: Array.from({ length: maxEpoch + 1 }, (_, i) => i), format: "d" } },
      y: { field: "value", type: "quantitative" as const, title: metric, ...(domain ? { scale: { domain } } : { scale: { zero: true } }) },
      color: { field: "phase", type: "nominal" as const, title: "phase", scale: PHASE_COLORS },
      tooltip: [{ field: "epoch" }, { field: "phase" }, { field: "value", format: ".4f" }],
    },
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    background: "white",
    padding: 10,
    data: { values },
    hconcat: [panel("loss", "Loss"), panel("accuracy", "Accuracy", [0, 1])],
    config: CONFIG,
  } as vl.TopLevelSpec;
}

/** The vega-lite spec of a confusion matrix: true class down, predicted class across, counts in the cells. */
export function confusionSpec(matrix: ConfusionMatrix): vl.TopLevelSpec {
  const { counts, classNames } = matrix;
  const values = counts.flatMap((row, a) => row.map((count, p) => ({ actual: classNames[a], predicted: classNames[p], count })));
  const max = Math.max(1, ...values.map((v) => v.count));
  const side = Math.max(240, Math.min(480, 80 * classNames.length));
  const axis = { field: "", type: "ordinal" as const, sort: classNames, scale: { domain: classNames } };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    background: "white",
    padding: 10,
    title: { text: `Confusion matrix (${matrix.correct} of ${matrix.total} correct)`, offset: 16 },
    width: side,
    height: side,
    data: { values },
    encoding: {
      x: { ...axis, field: "predicted", title: "predicted class", axis: { labelAngle: 0, orient: "top", grid: false, ticks: false } },
      y: { ...axis, field: "actual", title: "true class", axis: { grid: false, ticks: false } },
    },
    layer: [
      {
        mark: "rect",
        encoding: { color: { field: "count", type: "quantitative", title: "images", scale: { scheme: "blues", domain: [0, max] } } },
      },
      {
        mark: { type: "text", fontSize: 16, fontWeight: "bold", baseline: "middle" },
        encoding: {
          text: { field: "count", type: "quantitative" },
          color: { condition: { test: `datum.count > ${max / 2}`, value: "white" }, value: "#1a1a1a" },
        },
      },
    ],
    config: CONFIG,
  } as vl.TopLevelSpec;
}

export async function curvesSvg(history: EpochRecord[]): Promise<string> {
  return renderSvg(curvesSpec(history));
}

export async function confusionSvg(matrix: ConfusionMatrix): Promise<string> {
  return renderSvg(confusionSpec(matrix));
}

/** Rasterizes an SVG to PNG with sharp (librsvg), at `density` dpi (96 keeps the SVG's pixel size). */
export function svgToPng(svg: string, density = 144): Promise<Buffer> {
  return sharp(Buffer.from(svg), { density }).png().toBuffer();
}

/** Writes `svg` to `file` (ending .svg) and the same picture as PNG beside it; returns both paths. */
export async function writeSvgAndPng(svg: string, file: string): Promise<{ svg: string; png: string }> {
  const png = file.replace(/\.svg$/i, "") + ".png";
  await writeFileAtomic(file, svg);
  await writeFileAtomic(png, await svgToPng(svg));
  return { svg: file, png };
}

/** Loss and accuracy per epoch (train and val) to `file` (SVG) and its PNG. */
export async function plotTrainingCurves(history: EpochRecord[], file: string): Promise<{ svg: string; png: string }> {
  return writeSvgAndPng(await curvesSvg(history), file);
}

/** A confusion matrix to `file` (SVG) and its PNG. */
export async function plotConfusionMatrix(matrix: ConfusionMatrix, file: string): Promise<{ svg: string; png: string }> {
  return writeSvgAndPng(await confusionSvg(matrix), file);
}
