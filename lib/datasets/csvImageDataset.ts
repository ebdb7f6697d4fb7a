// Images listed in a CSV file with their labels, as Kaggle and most labelling
// tools give them: PyTorch's "custom image dataset" from its Datasets &
// DataLoaders tutorial (an annotations file and an image folder), with
// ImageFolder's class order, transforms and decoding.
import * as fs from "fs";
import * as path from "path";
import { parse } from "csv-parse/sync";
import { checkOptions, checkString, invalid } from "../check";
import { RgbImage } from "../data/image";
import { LabelledImages, LabelledImagesOptions } from "./labelledImages";
import { compareCodePoints, pyJoin } from "./walk";

export interface CsvImageDatasetOptions<T = RgbImage> extends LabelledImagesOptions<T> {
  /** The column of image paths, relative to root (default "path"). */
  pathColumn?: string;
  /** The column of labels, any non-empty text (default "label"). */
  labelColumn?: string;
  /** Which listed files are samples (after the checks); every row by default. Classes come from every row. */
  isValidFile?: (path: string) => boolean;
}

const OPTIONS = { transform: true, onError: true, pathColumn: true, labelColumn: true, isValidFile: true } as const;

/**
 * `new CsvImageDataset(root, csvFile)`: one sample per row of csvFile, whose
 * header names a path column (relative to root) and a label column. Classes
 * are the distinct labels sorted as ImageFolder sorts its folders (by code
 * point: "10" before "2"), labels their index; samples keep the file's order.
 * Errors name the file and the line: a missing column, an empty path or
 * label, a path outside root, a file that does not exist, a path listed twice.
 * Any other columns are kept per sample in `columns` (a `split` column, say).
 */
export class CsvImageDataset<T = RgbImage> extends LabelledImages<T> {
  readonly root: string;
  readonly csvFile: string;
  /** The CSV line of each sample (1 is the header). */
  readonly lines: number[];
  /** Each sample's row, every column by its header name. */
  readonly rows: Record<string, string>[];

  constructor(root: string, csvFile: string, options: CsvImageDatasetOptions<T> = {}) {
    const { transform, onError, pathColumn = "path", labelColumn = "label", isValidFile } = checkOptions(options, OPTIONS, "CsvImageDataset");
    checkString(root, "root");
    checkString(csvFile, "csvFile");
    checkString(pathColumn, "pathColumn");
    checkString(labelColumn, "labelColumn");
    if (isValidFile !== undefined && typeof isValidFile !== "function") throw invalid("function (path) => boolean", "isValidFile", isValidFile);
    if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw Object.assign(new Error(`${csvFile}: the image folder ${root} does not exist`), { code: "ENOENT" });
    const rows = readRows(csvFile);
    const at = (line: number) => `${csvFile} line ${line}`;
    const header = rows.header;
    for (const column of [pathColumn, labelColumn]) {
      if (!header.includes(column)) throw new Error(`${at(1)}: no "${column}" column (the header has: ${header.join(", ")})`);
    }
    const firstLine = new Map<string, number>();
    const listed: { file: string; label: string; line: number; row: Record<string, string> }[] = [];
    for (const { line, row } of rows.records) {
      const rel = row[pathColumn] ?? "";
      const label = row[labelColumn] ?? "";
      if (rel === "") throw new Error(`${at(line)}: empty ${pathColumn}`);
      const normal = path.posix.normalize(rel);
      if (path.isAbsolute(rel) || normal === ".." || normal.startsWith("../")) throw new Error(`${at(line)}: ${rel} is not a path inside ${root} (paths are relative to it)`);
      if (label === "") throw new Error(`${at(line)}: empty ${labelColumn} for ${rel}`);
      const seen = firstLine.get(normal);
      if (seen !== undefined) throw new Error(`${at(line)}: ${rel} is listed again (first on line ${seen})`);
      firstLine.set(normal, line);
      const file = pyJoin(root, rel);
      if (!isFile(file)) throw new Error(`${at(line)}: ${file} does not exist`);
      listed.push({ file, label, line, row });
    }
    if (listed.length === 0) throw new Error(`${csvFile}: no rows under the header`);
    const classes = [...new Set(listed.map((r) => r.label))].sort(compareCodePoints);
    const index = new Map(classes.map((c, i) => [c, i]));
    const kept = isValidFile ? listed.filter((r) => isValidFile(r.file)) : listed;
    super(classes, kept.map((r) => [r.file, index.get(r.label)!]), { transform, onError });
    this.root = root;
    this.csvFile = csvFile;
    this.lines = kept.map((r) => r.line);
    this.rows = kept.map((r) => r.row);
  }

  toString(): string {
    return this.describe([`    Annotations: ${this.csvFile}`]);
  }
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The header and each record with the line it ends on; a malformed file names its line. */
function readRows(csvFile: string): { header: string[]; records: { line: number; row: Record<string, string> }[] } {
  let text: string;
  try {
    text = fs.readFileSync(csvFile, "utf8");
  } catch (err) {
    throw Object.assign(new Error(`cannot read ${csvFile}: ${(err as Error).message}`), { code: (err as NodeJS.ErrnoException).code });
  }
  let parsed: { info: { lines: number }; record: string[] }[];
  try {
    parsed = parse(text, { bom: true, trim: true, skip_empty_lines: true, info: true, relax_column_count: false }) as unknown as typeof parsed;
  } catch (err) {
    const e = err as Error & { lines?: number };
    throw new Error(`${csvFile}${e.lines ? ` line ${e.lines}` : ""}: ${e.message.replace(/^Invalid Record Length: /, "")}`);
  }
  if (parsed.length === 0) throw new Error(`${csvFile}: empty (expected a header line naming the columns)`);
  const header = parsed[0].record;
  const records = parsed.slice(1).map(({ info, record }) => ({ line: info.lines, row: Object.fromEntries(header.map((h, i) => [h, record[i]])) }));
  return { header, records };
}
