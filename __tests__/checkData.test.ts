// check-data, --verify-images and --skip-bad-images on a copy of a few real
// images mixed with files that are not images, or no longer whole ones.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tt from "../lib";
import { DATA, jsonLines, runCli } from "./helpers/cli";

let tmp: string;
let data: string;
let bad: string[];

/** train/ and val/ with 3 real images per class, and in train/ four files that cannot be decoded. */
function mixedData(dir: string): string[] {
  for (const phase of ["train", "val"]) {
    for (const cls of ["ants", "bees"]) {
      const src = path.join(DATA, phase, cls);
      fs.mkdirSync(path.join(dir, phase, cls), { recursive: true });
      for (const f of fs.readdirSync(src).filter((f) => f.endsWith(".jpg")).sort().slice(0, 3)) fs.copyFileSync(path.join(src, f), path.join(dir, phase, cls, f));
    }
  }
  const jpeg = fs.readFileSync(path.join(DATA, "train", "ants", fs.readdirSync(path.join(DATA, "train", "ants")).filter((f) => f.endsWith(".jpg")).sort()[0]));
  const files = {
    "train/ants/truncated.jpg": jpeg.subarray(0, Math.floor(jpeg.length / 2)),
    "train/ants/empty.jpg": Buffer.alloc(0),
    "train/bees/notes.png": Buffer.from("these are not the pixels you are looking for\n"),
    "train/bees/zz-random.jpeg": Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 251)),
  };
  for (const [name, bytes] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), bytes);
  fs.writeFileSync(path.join(dir, "train", "ants", "README.txt"), "not an image extension: ImageFolder ignores it\n");
  return Object.keys(files).map((f) => path.join(dir, f)).sort();
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tt-check-data-"));
  data = path.join(tmp, "data");
  bad = mixedData(data);
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

test("checkImages lists every file that does not decode, each with a reason, in the order given", async () => {
  const files = [...bad, path.join(data, "val", "ants", fs.readdirSync(path.join(data, "val", "ants"))[0])].reverse();
  const found = await tt.checkImages(files, { concurrency: 3 });
  expect(found.map((b) => b.file)).toEqual([...bad].reverse());
  for (const b of found) {
    expect(b.reason.length).toBeGreaterThan(0);
    expect(b.reason).not.toContain("\n");
  }
  expect(found.find((b) => b.file.endsWith("truncated.jpg"))!.reason).toMatch(/truncat|premature|end of/i);
});

test("check-data DIR names every bad file with its reason and exits 1", () => {
  const r = runCli("checkData", [data]);
  expect(r.status).toBe(1);
  const lines = r.stdout.trim().split("\n");
  const listed = lines.slice(0, -1).map((l) => l.slice(0, l.indexOf(": ")));
  expect(listed.sort()).toEqual(bad);
  expect(lines.at(-1)).toBe("4 of 16 images cannot be decoded; 1 other file(s) ignored (no image extension)");

  const json = jsonLines(runCli("checkData", ["--json", data]).stdout)[0];
  expect(json.images).toBe(16);
  expect(json.bad.map((b: { file: string }) => b.file).sort()).toEqual(bad);
});

test("check-data exits 0 on a folder of good images, and 2 on a folder that does not exist", () => {
  const r = runCli("checkData", [path.join(data, "val")]);
  expect(r.stdout).toBe("all 6 images decode\n");
  expect(r.status === 0 ? 0 : `exit status ${r.status}, stderr: ${r.stderr}`).toBe(0);  // a failure shows its stderr
  const missing = runCli("checkData", [path.join(tmp, "nowhere")]);
  expect(missing.status).toBe(2);
  expect(missing.stderr).toContain(`${path.join(tmp, "nowhere")} is not a folder`);
});

test("--verify-images lists every bad file before training and stops with exit 1", () => {
  const out = path.join(tmp, "verify");
  const r = runCli("finetune", ["--data", data, "--epochs", "1", "--weights", "none", "--out", out, "--json", "--no-report", "--verify-images"]);
  expect(r.status).toBe(1);
  expect(r.stdout).toBe(""); // no epoch started
  for (const file of bad) expect(r.stderr).toContain(`finetune: ${file}: `);
  expect(r.stderr).toContain("4 of 16 images cannot be decoded (listed above); remove them, or pass --skip-bad-images");
  expect(fs.existsSync(out)).toBe(false);
});

test("--skip-bad-images names each bad file, trains on the rest, and counts what it skipped", () => {
  const out = path.join(tmp, "skip");
  const r = runCli("featureExtract", ["--data", data, "--epochs", "1", "--weights", "none", "--out", out, "--json", "--no-report", "--skip-bad-images"]);
  expect(r.status === 0 ? 0 : `exit status ${r.status}, stderr: ${r.stderr}`).toBe(0);  // a failure shows its stderr
  for (const file of bad) expect(r.stderr).toContain(`feature-extract: ${file}: `);
  expect(r.stderr).toContain("feature-extract: skipping 4 of 16 images, which cannot be decoded");
  expect(r.stderr).toContain("feature-extract: skipped 4 image(s) that cannot be decoded (each named above)");
  const lines = jsonLines(r.stdout);
  // Left out, not replaced: the epoch sees the 6 good training images once each.
  expect(lines.filter((l) => l.phase).map((l) => [l.phase, l.images])).toEqual([["train", 6], ["val", 6]]);
  expect(lines.at(-1)!.skippedImages).toBe(4);
});
