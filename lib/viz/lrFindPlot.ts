// fastai's plot_lr_find: the smoothed loss against the learning rate on a
// log scale, the last 5 points left out, the suggestions marked.
import * as vl from "vega-lite";
import { LrFindResult } from "../train/lrFind";
import { renderSvg, writeSvgAndPng } from "./charts";
import { FONT_FAMILY } from "./svgText";

export function lrFindSpec(result: LrFindResult, skipEnd = 5): vl.TopLevelSpec {
  const n = Math.max(1, result.lrs.length - skipEnd);
  const values = result.lrs.slice(0, n).map((lr, i) => ({ lr, loss: result.losses[i] })).filter((v) => Number.isFinite(v.loss));
  const marks = result.suggestionIndex
    ? (["valley", "steep"] as const).map((name) => ({ name, lr: result.lrs[result.suggestionIndex![name]], loss: result.losses[result.suggestionIndex![name]] }))
    : [];
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    background: "white",
    padding: 10,
    title: "Learning-rate range test",
    width: 480,
    height: 300,
    layer: [
      {
        data: { values },
        mark: { type: "line", strokeWidth: 2, color: "#1f77b4" },
        encoding: {
          x: { field: "lr", type: "quantitative", title: "learning rate", scale: { type: "log" }, axis: { format: ".0e" } },
          y: { field: "loss", type: "quantitative", title: "smoothed loss", scale: { zero: false } },
        },
      },
      {
        data: { values: marks },
        mark: { type: "point", filled: true, size: 90 },
        encoding: {
          x: { field: "lr", type: "quantitative" },
          y: { field: "loss", type: "quantitative" },
          color: { field: "name", type: "nominal", title: "suggestion", scale: { domain: ["valley", "steep"], range: ["#ff7f0e", "#2ca02c"] } },
        },
      },
    ],
    config: { font: FONT_FAMILY, axis: { grid: true, gridColor: "#eee" } },
  } as vl.TopLevelSpec;
}

/** Writes the plot as `file` (SVG) and its PNG. */
export async function plotLrFind(result: LrFindResult, file: string): Promise<{ svg: string; png: string }> {
  return writeSvgAndPng(await renderSvg(lrFindSpec(result)), file);
}
