// writeReport: one folder holding a run's pictures and a self-contained
// report.html (pictures as data: URIs, inline CSS, no scripts, no network).
import * as fs from "fs";
import * as path from "path";
import { checkOptions, checkString, invalid } from "../check";
import { BatchSource, EpochRecord } from "../train/trainModel";
import { writeFileAtomic } from "./atomicWrite";
import { checkHistory, confusionSvg, curvesSvg, writeSvgAndPng } from "./charts";
import { ConfusionMatrix, confusionMatrix } from "./confusion";
import { Unnormalize } from "./pixels";
import { checkBatchSource, checkModelLike, ModelLike, resolveDevice } from "./predict";
import { checkClassNames, PredictedSample, visualizeModel } from "./visualizeModel";

export interface ReportOptions {
  outDir: string;
  /** The run's settings (flags, hyper-parameters), shown as a table. */
  settings?: Record<string, unknown>;
  /** What trainModel returned as history. */
  history: EpochRecord[];
  classNames: string[];
  model: ModelLike;
  valLoader: BatchSource;
  device?: string;
  /** Images in predictions.png (default 6). */
  numImages?: number;
  /** The page's heading (default "torch-transfer training report"). */
  title?: string;
  unnormalize?: Unnormalize;
}

const WRITE_REPORT_OPTIONS: Record<keyof ReportOptions, true> = { outDir: true, settings: true, history: true, classNames: true, model: true, valLoader: true, device: true, numImages: true, title: true, unnormalize: true };

export interface ReportResult {
  outDir: string;
  files: { report: string; predictions: string; curvesSvg: string; curvesPng: string; confusionSvg: string; confusionPng: string };
  confusion: ConfusionMatrix;
  predictions: PredictedSample[];
}

export interface EpochRow {
  epoch: number;
  train?: EpochRecord;
  val?: EpochRecord;
  seconds: number;
}

/** One row per epoch: its train and val records and the seconds both took. */
export function epochRows(history: EpochRecord[]): EpochRow[] {
  const rows = new Map<number, EpochRow>();
  for (const r of history) {
    const row = rows.get(r.epoch) ?? { epoch: r.epoch, seconds: 0 };
    row[r.phase] = r;
    row.seconds += Number.isFinite(r.seconds) ? r.seconds : 0;
    rows.set(r.epoch, row);
  }
  return [...rows.values()].sort((a, b) => a.epoch - b.epoch);
}

export async function writeReport(options: ReportOptions): Promise<ReportResult> {
  checkOptions(options, WRITE_REPORT_OPTIONS, "writeReport");
  if (typeof options !== "object" || options === null) throw invalid("options object", "options", options);
  const { outDir, settings = {}, classNames, model, valLoader, numImages = 6, unnormalize } = options;
  checkString(outDir, "outDir");
  const history = checkHistory(options.history);
  checkClassNames(classNames);
  if (classNames === undefined) throw invalid("array of strings", "classNames", classNames);
  if (typeof settings !== "object" || settings === null || Array.isArray(settings)) throw invalid("object", "settings", settings);
  checkModelLike(model);
  checkBatchSource(valLoader, "valLoader");
  const device = resolveDevice(options.device);
  await fs.promises.mkdir(outDir, { recursive: true });

  const files = {
    report: path.join(outDir, "report.html"),
    predictions: path.join(outDir, "predictions.png"),
    curvesSvg: path.join(outDir, "curves.svg"),
    curvesPng: path.join(outDir, "curves.png"),
    confusionSvg: path.join(outDir, "confusion.svg"),
    confusionPng: path.join(outDir, "confusion.png"),
  };
  const curves = await curvesSvg(history);
  await writeSvgAndPng(curves, files.curvesSvg);
  const confusion = await confusionMatrix(model, valLoader, { classNames, device });
  const matrixSvg = await confusionSvg(confusion);
  await writeSvgAndPng(matrixSvg, files.confusionSvg);
  const shown = await visualizeModel(model, valLoader, { numImages, out: files.predictions, classNames, device, unnormalize });
  const predictionsPng = await fs.promises.readFile(files.predictions);

  const html = reportHtml({
    title: options.title ?? "torch-transfer training report",
    settings,
    history,
    confusion,
    predictions: shown.predictions,
    images: {
      curves: dataUri("image/svg+xml", Buffer.from(curves)),
      confusion: dataUri("image/svg+xml", Buffer.from(matrixSvg)),
      predictions: dataUri("image/png", predictionsPng),
    },
  });
  await writeFileAtomic(files.report, html);
  return { outDir, files, confusion, predictions: shown.predictions };
}

function dataUri(type: string, bytes: Buffer): string {
  return `data:${type};base64,${bytes.toString("base64")}`;
}

/**
 * The start of a report page, up to its own style rules: one self-contained
 * file (no request leaves it, as its Content-Security-Policy says) with the
 * reports' shared look. The caller adds its rules and closes the style.
 */
export function pageHead(title: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: #1a1a1a; margin: 2rem auto; max-width: 1000px; padding: 0 1rem; line-height: 1.4; }
  h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
  h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
  p.summary { color: #555; margin-top: 0; }
  table { border-collapse: collapse; font-size: 0.9rem; }
  th, td { padding: 0.25rem 0.8rem; border-bottom: 1px solid #eee; text-align: left; }`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&#39;" })[c] as string);
}

function formatSetting(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined) return "";
  return JSON.stringify(value) ?? String(value);
}

const fixed = (v: number | undefined, digits: number) => (v === undefined ? "" : v.toFixed(digits));

interface HtmlParts {
  title: string;
  settings: Record<string, unknown>;
  history: EpochRecord[];
  confusion: ConfusionMatrix;
  predictions: PredictedSample[];
  images: { curves: string; confusion: string; predictions: string };
}

/** The report page; everything it shows is inside it. */
export function reportHtml(parts: HtmlParts): string {
  const rows = epochRows(parts.history);
  const best = rows.reduce<EpochRow | undefined>((b, r) => (r.val && (!b?.val || r.val.acc > b.val.acc) ? r : b), undefined);
  const totalSeconds = rows.reduce((s, r) => s + r.seconds, 0);
  const wrong = parts.predictions.filter((p) => !p.correct).length;
  const settingRows = Object.entries(parts.settings)
    .map(([k, v]) => `<tr><th scope="row">${escapeHtml(k)}</th><td>${escapeHtml(formatSetting(v))}</td></tr>`)
    .join("\n");
  const epochRowsHtml = rows
    .map(
      (r) =>
        `<tr class="epoch${r === best ? " best" : ""}"><td>${r.epoch}</td>` +
        `<td>${fixed(r.train?.loss, 4)}</td><td>${fixed(r.train?.acc, 4)}</td>` +
        `<td>${fixed(r.val?.loss, 4)}</td><td>${fixed(r.val?.acc, 4)}</td><td>${r.seconds.toFixed(1)}</td></tr>`,
    )
    .join("\n");
  const summary = [
    `${rows.length} epoch${rows.length === 1 ? "" : "s"}`,
    best?.val ? `best val accuracy ${best.val.acc.toFixed(4)} (epoch ${best.epoch})` : "",
    `${totalSeconds.toFixed(1)} s in all`,
    `val: ${parts.confusion.correct} of ${parts.confusion.total} images correct`,
  ].filter(Boolean);
  return `${pageHead(parts.title)}
  table.epochs td, table.epochs th { text-align: right; font-variant-numeric: tabular-nums; }
  table.epochs thead th { border-bottom: 2px solid #ccc; }
  tr.best td { background: #eaf4ea; font-weight: bold; }
  table.settings th { font-weight: normal; color: #555; }
  table.settings td { font-family: "DejaVu Sans Mono", monospace; }
  figure { margin: 1rem 0; }
  figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
  figcaption { color: #555; font-size: 0.85rem; }
</style>
</head>
<body>
<h1>${escapeHtml(parts.title)}</h1>
<p class="summary">${summary.map(escapeHtml).join(" &middot; ")}</p>

<h2>Settings</h2>
<table class="settings">
<tbody>
${settingRows || '<tr><td>(none given)</td></tr>'}
</tbody>
</table>

<h2>Epochs</h2>
<table class="epochs">
<thead><tr><th>epoch</th><th>train loss</th><th>train acc</th><th>val loss</th><th>val acc</th><th>seconds</th></tr></thead>
<tbody>
${epochRowsHtml}
</tbody>
</table>

<h2>Training curves</h2>
<figure><img id="curves" alt="loss and accuracy per epoch, train and val" src="${parts.images.curves}"></figure>

<h2>Confusion matrix (val)</h2>
<figure><img id="confusion" alt="confusion matrix on the validation set" src="${parts.images.confusion}"></figure>

<h2>Predictions</h2>
<figure><img id="predictions" alt="validation images with the model's predictions" src="${parts.images.predictions}">
<figcaption>${parts.predictions.length} validation images; ${wrong} wrong prediction${wrong === 1 ? "" : "s"}, marked in red with the true class.</figcaption></figure>
</body>
</html>
`;
}
