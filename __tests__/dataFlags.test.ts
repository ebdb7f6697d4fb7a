// The training commands on data as people have it: --val-split (a seeded,
// stratified split saved as split.csv and reused by --resume), --labels FILE.csv
// (with or without a split column) and --class-weights, end to end.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tt from "../lib";
import { DATA, jsonLines, runCli } from "./helpers/cli";

let tmp: string;
const files = (cls: string) => fs.readdirSync(path.join(DATA, "train", cls)).filter((f) => f.endsWith(".jpg")).sort();
const COMMON = ["--epochs", "1", "--batch-size", "4", "--weights", "none", "--device", "cpu", "--json", "--no-report", "--workers", "2"];

/** One folder of class folders: `n` links per class to the tutorial's training images, from the `from`-th on. */
function flat(dir: string, counts: Record<string, number>, from = 0): string {
  for (const [cls, n] of Object.entries(counts)) {
    fs.mkdirSync(path.join(dir, cls), { recursive: true });
    for (const f of files(cls).slice(from, from + n)) fs.symlinkSync(path.join(DATA, "train", cls, f), path.join(dir, cls, f));
  }
  return dir;
}

function readSplit(out: string): { path: string; label: string; split: string }[] {
  const [header, ...rows] = fs.readFileSync(path.join(out, "split.csv"), "utf8").trim().split("\n");
  expect(header).toBe("path,label,split");
  return rows.map((r) => {
    const [p, label, split] = r.split(",");
    return { path: p, label, split };
  });
}

async function settingsOf(out: string): Promise<Record<string, any>> {
  const meta = await tt.loadSafetensorsMetadata(path.join(out, "model.safetensors"));
  return JSON.parse(meta!.settings);
}

const count = <T>(xs: T[], f: (x: T) => boolean) => xs.filter(f).length;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tt-dataflags-"));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

test("--val-split holds out round(share * count) of each class, saves the split, and --resume reuses it exactly after DATA changes; --class-weights auto is the balanced formula over its train rows", async () => {
  const data = flat(path.join(tmp, "flat"), { ants: 8, bees: 4 });
  const out = path.join(tmp, "run");
  const first = runCli("finetune", ["--data", data, "--val-split", "0.25", "--seed", "3", "--class-weights", "auto", "--out", out, ...COMMON]);
  expect(first.stderr).toBe("");
  expect(first.status).toBe(0);
  const split = readSplit(out);
  // Every image once, each with its folder's class.
  expect(split.map((r) => r.path).sort()).toEqual([...files("ants").slice(0, 8).map((f) => `ants/${f}`), ...files("bees").slice(0, 4).map((f) => `bees/${f}`)].sort());
  expect(split.every((r) => r.path.startsWith(`${r.label}/`))).toBe(true);
  const val = (cls: string) => count(split, (r) => r.label === cls && r.split === "val");
  expect([val("ants"), val("bees")]).toEqual([Math.round(0.25 * 8), Math.round(0.25 * 4)]);
  const [train, valLine] = jsonLines(first.stdout);
  expect([train.images, valLine.images]).toEqual([count(split, (r) => r.split === "train"), count(split, (r) => r.split === "val")]);

  // scikit-learn's balanced weights, from split.csv's train rows.
  const trainRows = split.filter((r) => r.split === "train");
  const balanced = ["ants", "bees"].map((c) => trainRows.length / (2 * count(trainRows, (r) => r.label === c)));
  const settings = await settingsOf(out);
  expect(settings.classWeights).toBe("auto");
  expect(settings.valSplit).toBe(0.25);
  expect(settings.lossWeight).toEqual(balanced);

  // New images arrive: a fresh split would differ; the resumed run keeps its own.
  flat(data, { bees: 4 }, 4);
  const before = fs.readFileSync(path.join(out, "split.csv"), "utf8");
  const resumed = runCli("finetune", ["--resume", out, "--epochs", "2", "--json", "--no-report"]);
  expect(resumed.status).toBe(0);
  expect(fs.readFileSync(path.join(out, "split.csv"), "utf8")).toBe(before);
  const epoch2 = jsonLines(resumed.stdout).filter((l) => l.epoch === 1);
  expect(epoch2.map((l) => [l.phase, l.images])).toEqual([["train", train.images], ["val", valLine.images]]);
  expect((await settingsOf(out)).lossWeight).toEqual(balanced);

  const fresh = runCli("finetune", ["--data", data, "--val-split", "0.25", "--seed", "3", "--out", path.join(tmp, "fresh"), ...COMMON]);
  expect(fresh.status).toBe(0);
  expect(readSplit(path.join(tmp, "fresh")).length).toBe(16);
}, 600_000);

test("--val-split is seeded: the same seed gives the same split.csv, another seed another", () => {
  const data = flat(path.join(tmp, "seeded"), { ants: 10, bees: 10 });
  const splitWith = (seed: string, name: string) => {
    // --cache-features: the quickest whole run (the frozen backbone runs once per image).
    const r = runCli("featureExtract", ["--data", data, "--val-split", "0.2", "--seed", seed, "--out", path.join(tmp, name), "--cache-features", ...COMMON]);
    expect(r.status === 0 ? 0 : `exit status ${r.status}, stderr: ${r.stderr}`).toBe(0);  // a failure shows its stderr
    return fs.readFileSync(path.join(tmp, name, "split.csv"), "utf8");
  };
  const a = splitWith("1", "s1");
  expect(splitWith("1", "s1b")).toBe(a);
  expect(splitWith("2", "s2")).not.toBe(a);
}, 600_000);

test("--labels FILE.csv with a split column trains on its train rows and validates on its val rows; --class-weights W1,W2 is passed as given", async () => {
  const ants = files("ants").slice(0, 6);
  const bees = files("bees").slice(0, 6);
  const rows = [...ants.map((f, i) => `train/ants/${f},ant,${i < 2 ? "val" : "train"}`), ...bees.map((f, i) => `train/bees/${f},bee,${i < 1 ? "val" : "train"}`)];
  const labels = path.join(tmp, "labels.csv");
  fs.writeFileSync(labels, "path,label,split\n" + rows.join("\n") + "\n");
  const out = path.join(tmp, "csvrun");
  const r = runCli("finetune", ["--data", DATA, "--labels", labels, "--class-weights", "1,2.5", "--out", out, ...COMMON]);
  expect(r.stderr).toBe("");
  expect(r.status === 0 ? 0 : `exit status ${r.status}, stderr: ${r.stderr}`).toBe(0);  // a failure shows its stderr
  const [train, val] = jsonLines(r.stdout);
  expect([train.images, val.images]).toEqual([9, 3]);
  const meta = await tt.loadSafetensorsMetadata(path.join(out, "model.safetensors"));
  expect(JSON.parse(meta!.classes)).toEqual(["ant", "bee"]);
  expect(JSON.parse(meta!.settings).lossWeight).toEqual([1, 2.5]);
  expect(readSplit(out)).toEqual(rows.map((line) => {
    const [p, label, split] = line.split(",");
    return { path: p, label, split };
  }));
});

test("--labels without a split column is split by --val-split per label; --cache-features trains with --class-weights auto's balanced weights", async () => {
  const rows = [...files("ants").slice(0, 6).map((f) => `train/ants/${f},ant`), ...files("bees").slice(0, 4).map((f) => `train/bees/${f},bee`)];
  const labels = path.join(tmp, "plain.csv");
  fs.writeFileSync(labels, "path,label\n" + rows.join("\n") + "\n");
  const out = path.join(tmp, "probe");
  const r = runCli("featureExtract", ["--data", DATA, "--labels", labels, "--val-split", "0.5", "--class-weights", "auto", "--cache-features", "--out", out, ...COMMON]);
  expect(r.stderr).toBe("");
  expect(r.status === 0 ? 0 : `exit status ${r.status}, stderr: ${r.stderr}`).toBe(0);  // a failure shows its stderr
  const split = readSplit(out);
  expect(split.map((x) => `${x.path},${x.label}`)).toEqual(rows);
  const side = (label: string, s: string) => count(split, (x) => x.label === label && x.split === s);
  expect([side("ant", "val"), side("bee", "val")]).toEqual([3, 2]);
  const [train, val] = jsonLines(r.stdout);
  expect([train.images, val.images]).toEqual([5, 5]);
  const trainRows = split.filter((x) => x.split === "train");
  expect((await settingsOf(out)).lossWeight).toEqual(["ant", "bee"].map((c) => trainRows.length / (2 * count(trainRows, (x) => x.label === c))));
});

test("usage errors (exit 2) name the flag, the file and the line", () => {
  const flatData = flat(path.join(tmp, "errors"), { ants: 3, bees: 3 });
  const noSplit = path.join(tmp, "nosplit.csv");
  fs.writeFileSync(noSplit, `path,label\ntrain/ants/${files("ants")[0]},ants\ntrain/bees/${files("bees")[0]},bees\n`);
  const badLine = path.join(tmp, "badline.csv");
  fs.writeFileSync(badLine, `path,label,split\ntrain/ants/${files("ants")[0]},ants,train\ntrain/bees/${files("bees")[0]},bees,test\n`);
  const missing = path.join(tmp, "missing.csv");
  fs.writeFileSync(missing, `path,label\ntrain/ants/${files("ants")[0]},ants\ntrain/bees/nope.jpg,bees\n`);
  const cases: [string[], string][] = [
    [["--data", DATA, "--val-split", "0.2"], `--val-split: ${DATA} already has a val/ folder`],
    [["--data", flatData], `data folder ${flatData} has no val/ folder`],
    [["--data", flatData, "--val-split", "1.5"], "--val-split expects a share below 1"],
    [["--data", flatData, "--val-split", "0.3", "--class-weights", "1,2,3"], "--class-weights: 3 weight(s) given for 2 classes (ants, bees, in that order)"],
    [["--data", flatData, "--val-split", "0.3", "--class-weights", "heavy"], '--class-weights expects auto, none, or positive numbers separated by commas, got "heavy"'],
    [["--data", DATA, "--labels", noSplit], `--labels: ${noSplit} has no split column; pass --val-split 0.2`],
    [["--data", DATA, "--labels", badLine, "--val-split", "0.2"], `--val-split: ${badLine} has a split column already`],
    [["--data", DATA, "--labels", badLine], `${badLine} line 3: split is "test", expected train or val`],
    [["--data", DATA, "--labels", missing, "--val-split", "0.5"], `${missing} line 3: ${DATA}/train/bees/nope.jpg does not exist`],
  ];
  for (const [args, message] of cases) {
    const r = runCli("finetune", [...args, "--out", path.join(tmp, "never"), ...COMMON]);
    expect(r.stderr).toContain(message);
    expect(r.status).toBe(2);
  }
  expect(fs.existsSync(path.join(tmp, "never", "model.safetensors"))).toBe(false);
});

test("--help lists --val-split, --labels and --class-weights on both training commands", () => {
  for (const command of ["finetune", "featureExtract"]) {
    const ran = runCli(command, ["--help"]);
    expect(ran.stderr).toBe("");
    const help = ran.stdout;
    for (const flag of ["--val-split X", "--labels FILE.csv", "--class-weights auto|none|W1,W2,..."]) expect(help).toContain(flag);
  }
});
