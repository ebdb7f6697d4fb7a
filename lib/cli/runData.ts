// The training commands' data, as people have it: the tutorial's train/ and
// val/ folders; one folder of class folders split by --val-split; or a CSV of
// paths and labels (--labels), split by its `split` column or by --val-split.
// A split is written into the run's folder (split.csv), and --resume reads it
// back, so a resumed run and its report see the very same files on each side.
import * as fs from "fs";
import * as path from "path";
import { parse } from "csv-parse/sync";
import { DataLoader, Dataset } from "../data/dataLoader";
import { CsvImageDataset } from "../datasets/csvImageDataset";
import { ImageFolder } from "../datasets/imageFolder";
import { LabelledImages } from "../datasets/labelledImages";
import { Generator } from "../random";
import { Preprocessing } from "../train/preprocessing";
import { dataTransforms, datasetWithValTransform, tutorialData } from "../train/tutorial";
import { AugmentSettings } from "../transforms/augment/presets";
import { Subset } from "../utils/data/subset";
import { trainTestSplitIndices } from "../utils/data/split";
import { writeChunksAtomic } from "../serialization/atomicFile";

export const SPLIT_FILE = "split.csv";

export interface RunDataOptions {
  /** --data, resolved. */
  dir: string;
  /** --val-split: the share of each class held out for validation. */
  valSplit?: number;
  /** --labels: a CSV of paths (relative to dir) and labels. */
  labels?: string;
  /** A split.csv to reuse (a resumed run's), when it exists. */
  splitFile?: string;
  batchSize: number;
  numWorkers?: number;
  seed: number;
  /** Batches in pinned memory (the run trains on CUDA). */
  pinMemory?: boolean;
  onError?: "raise" | "skip";
  isValidFile?: (file: string) => boolean;
  /** The training images' augmentation (the tutorial's by default). */
  augment?: AugmentSettings;
  /** The run's sizes and filter (its weights' preset; the tutorial's by default). */
  preprocessing?: Preprocessing;
}

export interface SplitRow {
  path: string;
  label: string;
  split: "train" | "val";
}

export interface RunData {
  datasets: { train: Dataset; val: Dataset };
  dataloaders: { train: DataLoader; val: DataLoader };
  classNames: string[];
  /** The class index of each training sample, in the train set's order (for --class-weights auto). */
  trainTargets: number[];
  /** The datasets that decode the files: their samples and the files they skipped. */
  sources: LabelledImages<unknown>[];
  /** The training images seen through the val transform, for --cache-features. */
  trainForFeatures: Dataset;
  /** What split.csv holds, for a split made here (null for train/ and val/ folders). */
  split: SplitRow[] | null;
}

/** The data of a run, from the flags; a problem with the data is an Error that names the file (and line). */
export function runData(o: RunDataOptions): RunData {
  const { dir, valSplit, labels } = o;
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`data folder ${dir} does not exist`);
  const hasVal = fs.existsSync(path.join(dir, "val"));
  if (valSplit !== undefined && hasVal && labels === undefined) {
    throw new Error(`--val-split: ${dir} already has a val/ folder; drop --val-split to validate on it, or give --data ${path.join(dir, "train")} to split that folder instead`);
  }
  if (labels === undefined && valSplit === undefined) {
    if (!hasVal) {
      throw new Error(`data folder ${dir} has no val/ folder (expected ${path.join(dir, "val")}); for one folder of class folders, pass --val-split 0.2 to hold out 20% of each class`);
    }
    const made = tutorialData(dir, { batchSize: o.batchSize, numWorkers: o.numWorkers, seed: o.seed, onError: o.onError, isValidFile: o.isValidFile, augment: o.augment, preprocessing: o.preprocessing });
    return {
      ...made,
      trainTargets: made.datasets.train.targets,
      sources: [made.datasets.train, made.datasets.val],
      trainForFeatures: datasetWithValTransform(made.datasets.train.root, o.preprocessing),
      split: null,
    };
  }

  const reused = o.splitFile && fs.existsSync(o.splitFile) ? readSplit(o.splitFile, dir) : null;
  const keep = (file: string) => (reused === null || reused.has(relative(dir, file))) && (o.isValidFile?.(file) ?? true);
  const common = { onError: o.onError, isValidFile: keep };
  // Two views of the same files: augmented for training, the val transform for validation.
  let base: { train: LabelledImages<unknown>; val: LabelledImages<unknown> };
  let fromColumn: ("train" | "val")[] | null = null;
  if (labels !== undefined) {
    const train = new CsvImageDataset(dir, labels, { ...common, transform: dataTransforms.train(o.augment, o.preprocessing) });
    base = { train, val: new CsvImageDataset(dir, labels, { ...common, transform: dataTransforms.val(o.preprocessing) }) };
    if ("split" in train.rows[0]) {
      if (valSplit !== undefined) throw new Error(`--val-split: ${labels} has a split column already; drop --val-split to use it`);
      fromColumn = train.rows.map((row, i) => {
        const v = row.split.toLowerCase();
        if (v !== "train" && v !== "val") throw new Error(`${labels} line ${train.lines[i]}: split is "${row.split}", expected train or val`);
        return v;
      });
    } else if (valSplit === undefined) {
      throw new Error(`--labels: ${labels} has no split column; pass --val-split 0.2 to hold out 20% of each class, or add a split column (train or val)`);
    }
  } else {
    // A folder with train/ but no val/: its train/ is the one to split.
    const root = fs.existsSync(path.join(dir, "train")) ? path.join(dir, "train") : dir;
    base = {
      train: new ImageFolder(root, { ...common, transform: dataTransforms.train(o.augment, o.preprocessing), isValidFile: (f) => keep(f) && (o.isValidFile ?? defaultImage)(f) }),
      val: new ImageFolder(root, { ...common, transform: dataTransforms.val(o.preprocessing), isValidFile: (f) => keep(f) && (o.isValidFile ?? defaultImage)(f) }),
    };
  }

  const samples = base.train.samples;
  const classNames = base.train.classes;
  let sides: ("train" | "val")[];
  if (reused) {
    sides = samples.map(([file, label]) => {
      const entry = reused.get(relative(dir, file))!;
      if (entry.label !== classNames[label]) {
        throw new Error(`${o.splitFile} line ${entry.line}: ${entry.path} was labelled ${entry.label} when the split was made, and is ${classNames[label]} now`);
      }
      return entry.split;
    });
  } else if (fromColumn) {
    sides = fromColumn;
  } else {
    const [, val] = trainTestSplitIndices(samples.length, { testSize: valSplit!, stratify: base.train.targets, generator: new Generator(o.seed) });
    const isVal = new Set(val);
    sides = samples.map((_, i) => (isVal.has(i) ? "val" : "train"));
  }
  const trainIdx = sides.flatMap((s, i) => (s === "train" ? [i] : []));
  const valIdx = sides.flatMap((s, i) => (s === "val" ? [i] : []));
  const where = labels ?? dir;
  if (trainIdx.length === 0) throw new Error(`${where}: the split leaves no training images`);
  if (valIdx.length === 0) throw new Error(`${where}: the split leaves no validation images${valSplit !== undefined ? " (too few images for --val-split)" : ""}`);
  const datasets = { train: new Subset(base.train, trainIdx), val: new Subset(base.val, valIdx) };
  return {
    datasets,
    dataloaders: {
      train: new DataLoader(datasets.train, { batchSize: o.batchSize, shuffle: true, numWorkers: o.numWorkers, seed: o.seed, pinMemory: o.pinMemory ?? false }),
      val: new DataLoader(datasets.val, { batchSize: o.batchSize, shuffle: true, numWorkers: o.numWorkers, seed: o.seed + 1, pinMemory: o.pinMemory ?? false }),
    },
    classNames,
    trainTargets: trainIdx.map((i) => base.train.targets[i]),
    sources: [base.train, base.val],
    trainForFeatures: new Subset(base.val, trainIdx),
    split: samples.map(([file, label], i) => ({ path: relative(dir, file), label: classNames[label], split: sides[i] })),
  };
}

function defaultImage(file: string): boolean {
  return /\.(jpe?g|png|ppm|bmp|pgm|tiff?|webp)$/i.test(file);
}

function relative(dir: string, file: string): string {
  return path.relative(dir, file).split(path.sep).join("/");
}

/** split.csv's text: path (relative to --data), label, split; one row per image. */
export function splitCsv(rows: SplitRow[]): string {
  const quote = (s: string) => (/[",\n\r]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s);
  return ["path,label,split", ...rows.map((r) => [r.path, r.label, r.split].map(quote).join(","))].join("\n") + "\n";
}

export async function writeSplit(file: string, rows: SplitRow[]): Promise<void> {
  await writeChunksAtomic(file, [Buffer.from(splitCsv(rows), "utf8")]);
}

/** A saved split: each path's label and side, with its line; every file it lists must still exist. */
export function readSplit(file: string, dir: string): Map<string, SplitRow & { line: number }> {
  let records: { info: { lines: number }; record: Record<string, string> }[];
  try {
    records = parse(fs.readFileSync(file, "utf8"), { columns: true, info: true, skip_empty_lines: true }) as unknown as typeof records;
  } catch (err) {
    const e = err as Error & { lines?: number };
    throw new Error(`${file}${e.lines ? ` line ${e.lines}` : ""}: ${e.message}`);
  }
  const out = new Map<string, SplitRow & { line: number }>();
  for (const { info, record } of records) {
    const line = info.lines;
    const { path: rel, label, split } = record;
    if (!rel || !label || (split !== "train" && split !== "val")) throw new Error(`${file} line ${line}: expected path, label and split (train or val)`);
    if (!fs.existsSync(path.join(dir, rel))) throw new Error(`${file} line ${line}: ${path.join(dir, rel)} no longer exists; the run's split cannot be reused (start a new run with --out)`);
    out.set(rel, { path: rel, label, split, line });
  }
  if (out.size === 0) throw new Error(`${file}: no rows`);
  return out;
}
