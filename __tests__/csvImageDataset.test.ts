// tt.datasets.CsvImageDataset: images listed in a CSV with their labels; the
// class order is ImageFolder's (Python's sorted()), the pixels ImageFolder's,
// and every error names the CSV file and its line.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tt from "../lib";
import { DATA } from "./helpers/cli";
import { runPython } from "./helpers/python";

let root: string;
const ants = fs.readdirSync(path.join(DATA, "train", "ants")).filter((f) => f.endsWith(".jpg")).sort().slice(0, 3);
const bees = fs.readdirSync(path.join(DATA, "train", "bees")).filter((f) => f.endsWith(".jpg")).sort().slice(0, 2);

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "tt-csvds-"));
  fs.mkdirSync(path.join(root, "img"));
  for (const f of [...ants.map((a) => ["ants", a]), ...bees.map((b) => ["bees", b])]) {
    fs.symlinkSync(path.join(DATA, "train", f[0], f[1]), path.join(root, "img", f[1]));
  }
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function csv(name: string, text: string): string {
  const file = path.join(root, name);
  fs.writeFileSync(file, text);
  return file;
}

test("classes are the distinct labels sorted as Python sorts them, samples keep the file's order, lines are the CSV's", () => {
  const labels = ["10", "2", "Zebra", "apple", "Émile"];
  const files = [...ants, ...bees].map((f, i) => (i === 4 ? `./img/${f}` : `img/${f}`));
  const file = csv("order.csv", "path,label\n" + files.map((f, i) => `${f},${labels[i]}`).join("\n") + "\n");
  const ds = new tt.datasets.CsvImageDataset(root, file);
  const pythonOrder = JSON.parse(runPython(`import json, sys; print(json.dumps(sorted(set(json.loads(sys.argv[1])))))`, [JSON.stringify(labels)]));
  expect(ds.classes).toEqual(pythonOrder);
  expect(ds.samples.map(([f]) => path.relative(root, f))).toEqual(files.map((f) => path.normalize(f)));
  expect(ds.targets).toEqual(labels.map((l) => pythonOrder.indexOf(l)));
  expect(ds.lines).toEqual([2, 3, 4, 5, 6]);
});

test("get() gives ImageFolder's tensor and label for the same file and transform", async () => {
  const file = csv("same.csv", "label,path,extra\n" + [...ants.map((a) => `ants,img/${a},x`), ...bees.map((b) => `bees,img/${b},y`)].join("\n"));
  const tf = tt.dataTransforms.val();
  const ds = new tt.datasets.CsvImageDataset(root, file, { transform: tf });
  expect(ds.classes).toEqual(["ants", "bees"]);
  expect(ds.rows[3]).toEqual({ label: "bees", path: `img/${bees[0]}`, extra: "y" });
  const folder = new tt.datasets.ImageFolder(path.join(DATA, "train"), { transform: tf });
  const k = folder.samples.findIndex(([f]) => f.endsWith(`/${bees[0]}`));
  const [[a, la], [b, lb]] = [await ds.get(3), await folder.get(k)];
  expect(la).toBe(1);
  expect(lb).toBe(1);
  expect(Buffer.from((await a.data()).buffer).equals(Buffer.from((await b.data()).buffer))).toBe(true);
  a.dispose();
  b.dispose();
});

test.each([
  ["a missing column", "file,label\nimg/x.jpg,ants\n", 'line 1: no "path" column (the header has: file, label)'],
  ["an unknown file", `path,label\nimg/${ants[0]},ants\nimg/nope.jpg,bees\n`, "line 3: ROOT/img/nope.jpg does not exist"],
  ["an empty label", `path,label\nimg/${ants[0]},ants\nimg/${ants[1]},\n`, `line 3: empty label for img/${ants[1]}`],
  ["an empty path", `path,label\n,ants\n`, "line 2: empty path"],
  ["a duplicate path", `path,label\nimg/${ants[0]},ants\n\nimg/${ants[1]},ants\n./img/${ants[0]},bees\n`, `line 5: ./img/${ants[0]} is listed again (first on line 2)`],
  ["a path outside the folder", `path,label\n../${ants[0]},ants\n`, `line 2: ../${ants[0]} is not a path inside ROOT`],
  ["a row with a missing field", `path,label\nimg/${ants[0]},ants\nimg/${ants[1]}\n`, "line 3:"],
])("rejects %s, naming the file and the line", (_, text, message) => {
  const file = csv("bad.csv", text);
  expect(() => new tt.datasets.CsvImageDataset(root, file)).toThrow(`${file} ${message.replace("ROOT", root)}`);
});

test("rejects a missing CSV file and a header without rows, naming the file", () => {
  expect(() => new tt.datasets.CsvImageDataset(root, path.join(root, "none.csv"))).toThrow(`cannot read ${path.join(root, "none.csv")}`);
  const file = csv("empty.csv", "path,label\n");
  expect(() => new tt.datasets.CsvImageDataset(root, file)).toThrow(`${file}: no rows under the header`);
});
