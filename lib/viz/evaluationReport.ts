// writeEvaluationReport: a trained classifier over a labelled image folder,
// into one folder: metrics.json, the confusion matrix, fastai's top losses,
// Grad-CAM heatmaps, and a self-contained report.html like the training report.
import * as fs from "fs";
import * as path from "path";
import { checkBoolean, checkInteger, checkOptions, checkString, invalid } from "../check";
import { ImageFolder } from "../datasets/imageFolder";
import { classificationReport, ClassificationReport, countPairs } from "../evaluation/metrics";
import { gradCam, upsampleBilinear } from "../evaluation/gradCam";
import { predictDataset, SamplePrediction, topLosses } from "../evaluation/predictDataset";
import { Module } from "../nn/module";
import { Tensor } from "../tensor";
import { writeFileAtomic } from "./atomicWrite";
import { confusionSvg, writeSvgAndPng } from "./charts";
import { overlayHeatmap } from "./heatmap";
import { writeLabelledGrid } from "./labelledGrid";
import { IMAGENET, toRGB8 } from "./pixels";
import { escapeHtml, pageHead } from "./report";

export interface EvaluationReportOptions {
  outDir: string;
  /** The model's class names, by output index; the folder's classes must be the same. */
  classNames: string[];
  device?: string;
  tta?: boolean;
  batchSize?: number;
  numWorkers?: number;
  /** Images in the top-losses grid (default 9). */
  numTopLosses?: number;
  /** Images given Grad-CAM heatmaps, the highest losses first (default 4; 0 for none). */
  numGradCam?: number;
  /** Rows of the settings table. */
  settings?: Record<string, unknown>;
  title?: string;
}

const OPTIONS: Record<keyof EvaluationReportOptions, true> = {
  outDir: true, classNames: true, device: true, tta: true, batchSize: true, numWorkers: true, numTopLosses: true, numGradCam: true, settings: true, title: true,
};

export interface EvaluationResult {
  report: ClassificationReport;
  /** counts[actual][predicted] */
  confusion: number[][];
  predictions: SamplePrediction[];
  topLosses: SamplePrediction[];
  files: { report: string; metrics: string; confusionSvg: string; confusionPng: string; topLosses: string; gradCam?: string };
}

export async function writeEvaluationReport(model: Module, dataset: ImageFolder<Tensor>, options: EvaluationReportOptions): Promise<EvaluationResult> {
  if (!(model instanceof Module)) throw invalid("Module", "model", model);
  if (!(dataset instanceof ImageFolder)) throw invalid("ImageFolder", "dataset", dataset);
  const o = checkOptions(options, OPTIONS, "writeEvaluationReport");
  const outDir = checkString(o.outDir, "outDir");
  const { classNames, device = "cpu", tta = false, numTopLosses = 9, numGradCam = 4 } = o;
  checkBoolean(tta, "tta");
  checkInteger(numTopLosses, "numTopLosses", 1);
  checkInteger(numGradCam, "numGradCam", 0);
  if (!Array.isArray(classNames) || !classNames.every((c) => typeof c === "string")) throw invalid("array of strings", "classNames", classNames);
  if (dataset.classes.join("\n") !== classNames.join("\n")) {
    throw new Error(`${dataset.root} has classes [${dataset.classes.join(", ")}] but the model was trained on [${classNames.join(", ")}]`);
  }
  if (dataset.length === 0) throw new Error(`${dataset.root} holds no images`);
  await fs.promises.mkdir(outDir, { recursive: true });

  const predictions = await predictDataset(model, dataset, { device, tta, batchSize: o.batchSize, numWorkers: o.numWorkers });
  const confusion = countPairs(predictions.map((p) => p.label), predictions.map((p) => p.predicted), classNames.length);
  const report = classificationReport(confusion, classNames);
  const files: EvaluationResult["files"] = {
    report: path.join(outDir, "report.html"),
    metrics: path.join(outDir, "metrics.json"),
    confusionSvg: path.join(outDir, "confusion.svg"),
    confusionPng: path.join(outDir, "confusion.png"),
    topLosses: path.join(outDir, "top_losses.png"),
  };
  const matrixSvg = await confusionSvg({ counts: confusion, classNames, total: report.total, correct: report.correct });
  await writeSvgAndPng(matrixSvg, files.confusionSvg);

  const worst = topLosses(predictions, Math.min(numTopLosses, predictions.length));
  const fileOf = (p: SamplePrediction) => dataset.samples[p.index][0];
  const imageOf = async (p: SamplePrediction) => {
    const [x] = await dataset.get(p.index);
    const data = Float32Array.from((await x.data()) as Float32Array);
    return { x, rgb: toRGB8({ data, shape: x.shape }, IMAGENET) };
  };
  // fastai's plot_top_losses titles: prediction/actual/loss/probability of the actual class.
  const cells = [];
  for (const p of worst) {
    const { x, rgb } = await imageOf(p);
    x.dispose();
    cells.push({
      rgb,
      marked: p.predicted !== p.label,
      lines: [`${classNames[p.predicted]} / ${classNames[p.label]}`, `loss ${p.loss.toFixed(2)}, p ${p.probabilities[p.label].toFixed(2)}`, path.basename(fileOf(p))],
    });
  }
  await writeLabelledGrid(cells, files.topLosses, 3);

  const camRows: { file: string; predicted: string; actual: string; explained: string }[] = [];
  if (numGradCam > 0) {
    files.gradCam = path.join(outDir, "grad_cam.png");
    const camCells = [];
    for (const p of worst.slice(0, numGradCam)) {
      const { x, rgb } = await imageOf(p);
      try {
        const cam = await gradCam(model, x, { targetClass: p.predicted });
        const map = upsampleBilinear(cam.map, cam.height, cam.width, rgb.height, rgb.width);
        const name = path.basename(fileOf(p));
        camCells.push({ rgb, lines: [name, `true: ${classNames[p.label]}`], marked: false });
        camCells.push({ rgb: overlayHeatmap(rgb, map), lines: [`Grad-CAM for ${classNames[cam.classIndex]}`, "(the predicted class)"], marked: p.predicted !== p.label });
        camRows.push({ file: fileOf(p), predicted: classNames[p.predicted], actual: classNames[p.label], explained: classNames[cam.classIndex] });
      } finally {
        x.dispose();
      }
    }
    await writeLabelledGrid(camCells, files.gradCam, 2);
  }

  const metrics = {
    data: dataset.root,
    tta,
    ...report,
    confusion,
    topLosses: worst.map((p) => ({ file: fileOf(p), actual: classNames[p.label], predicted: classNames[p.predicted], loss: p.loss, probabilities: Array.from(p.probabilities) })),
  };
  await writeFileAtomic(files.metrics, JSON.stringify(metrics, null, 2) + "\n");
  const uri = async (file: string, type: string) => `data:${type};base64,${(await fs.promises.readFile(file)).toString("base64")}`;
  const html = evaluationHtml({
    title: o.title ?? "torch-transfer evaluation report",
    settings: { data: dataset.root, tta, ...o.settings },
    report,
    images: {
      confusion: `data:image/svg+xml;base64,${Buffer.from(matrixSvg).toString("base64")}`,
      topLosses: await uri(files.topLosses, "image/png"),
      gradCam: files.gradCam ? await uri(files.gradCam, "image/png") : undefined,
    },
    numTopLosses: worst.length,
    camRows: camRows.length,
  });
  await writeFileAtomic(files.report, html);
  return { report, confusion, predictions, topLosses: worst, files };
}

const f4 = (v: number) => v.toFixed(4);

export function evaluationHtml(parts: {
  title: string;
  settings: Record<string, unknown>;
  report: ClassificationReport;
  images: { confusion: string; topLosses: string; gradCam?: string };
  numTopLosses: number;
  camRows: number;
}): string {
  const r = parts.report;
  const settingRows = Object.entries(parts.settings)
    .map(([k, v]) => `<tr><th scope="row">${escapeHtml(k)}</th><td>${escapeHtml(typeof v === "string" ? v : JSON.stringify(v) ?? "")}</td></tr>`)
    .join("\n");
  const classRows = r.classes
    .map((c) => `<tr><th scope="row">${escapeHtml(c.name)}</th><td>${f4(c.precision)}</td><td>${f4(c.recall)}</td><td>${f4(c.f1)}</td><td>${c.support}</td></tr>`)
    .join("\n");
  const avg = (name: string, a: { precision: number; recall: number; f1: number }) =>
    `<tr class="avg"><th scope="row">${name}</th><td>${f4(a.precision)}</td><td>${f4(a.recall)}</td><td>${f4(a.f1)}</td><td>${r.total}</td></tr>`;
  return `${pageHead(parts.title)}
  table.metrics td { text-align: right; font-variant-numeric: tabular-nums; }
  tr.avg th, tr.avg td { color: #555; }
  table.settings th { font-weight: normal; color: #555; }
  table.settings td { font-family: "DejaVu Sans Mono", monospace; }
  figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
  figcaption { color: #555; font-size: 0.85rem; }
</style>
</head>
<body>
<h1>${escapeHtml(parts.title)}</h1>
<p class="summary">accuracy ${f4(r.accuracy)} &middot; ${r.correct} of ${r.total} images correct &middot; macro F1 ${f4(r.macro.f1)}</p>

<h2>Settings</h2>
<table class="settings"><tbody>
${settingRows}
</tbody></table>

<h2>Per class</h2>
<table class="metrics" id="per-class">
<thead><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>images</th></tr></thead>
<tbody>
${classRows}
${avg("macro average", r.macro)}
${avg("weighted average", r.weighted)}
</tbody>
</table>

<h2>Confusion matrix</h2>
<figure><img id="confusion" alt="confusion matrix" src="${parts.images.confusion}"></figure>

<h2>Top losses</h2>
<figure><img id="top-losses" alt="the images with the highest loss" src="${parts.images.topLosses}">
<figcaption>The ${parts.numTopLosses} images with the highest loss, highest first: predicted / true class, the loss, and the probability given to the true class. Mistakes in red.</figcaption></figure>
${
  parts.images.gradCam
    ? `
<h2>Grad-CAM</h2>
<figure><img id="grad-cam" alt="Grad-CAM heatmaps over the highest-loss images" src="${parts.images.gradCam}">
<figcaption>Where the model looked for its prediction, on the ${parts.camRows} highest-loss images: the gradient-weighted activations of the last convolutional stage (red: most).</figcaption></figure>
`
    : ""
}
</body>
</html>
`;
}
