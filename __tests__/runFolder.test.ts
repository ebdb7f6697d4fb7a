// An --out folder left by a run that died before its first epoch ended is no
// trap: the same command starts there afresh, and --resume runs it from the start.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { jsonLines, runCli, subset } from "./helpers/cli";

let tmp: string;
let data: string;
const broken = () => path.join(data, "train", "ants", "zz-broken.jpg");

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tt-run-folder-"));
  data = subset(path.join(tmp, "data"), 2);
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const args = (out: string) => ["--data", data, "--epochs", "1", "--weights", "none", "--seed", "3", "--json", "--no-report", "--out", out];
const figures = (out: string) =>
  (JSON.parse(fs.readFileSync(path.join(out, "history.json"), "utf8")) as Record<string, unknown>[]).map(({ phase, loss, acc, images }) => ({ phase, loss, acc, images }));

test("after a run stopped by a corrupt image, the same command starts afresh and --resume runs it from the start, each saying so", () => {
  const [again, resumed] = [path.join(tmp, "again"), path.join(tmp, "resumed")];
  fs.writeFileSync(broken(), "not a JPEG");
  for (const out of [again, resumed]) {
    const failed = runCli("finetune", args(out));
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain(broken());
    // The trap as it was: the starting weights, and nothing else.
    expect(fs.readdirSync(out)).toEqual(["model.safetensors"]);
  }
  fs.rmSync(broken());

  const a = runCli("finetune", args(again));
  expect(a.stderr).toBe(`finetune: ${again} holds no whole epoch (an earlier run stopped in its first); starting afresh there\n`);
  expect(a.status).toBe(0);
  expect(jsonLines(a.stdout).filter((l) => l.phase).map((l) => [l.epoch, l.phase])).toEqual([[0, "train"], [0, "val"]]);

  const b = runCli("finetune", ["--resume", resumed, "--json", "--no-report"]);
  expect(b.stderr).toBe(`finetune: ${resumed} holds no whole epoch (its run stopped in the first); running it from the start\n`);
  expect(b.status).toBe(0);
  // From the start with the settings the first attempt was given (seed included): the same epoch as the other.
  expect(figures(resumed)).toEqual(figures(again));

  // With a whole epoch behind it, a folder is kept: the same command refuses.
  const refused = runCli("finetune", args(again));
  expect(refused.status).toBe(2);
  expect(refused.stderr).toContain(`${again} already holds a model; choose another --out, or continue it with --resume ${again}`);
});
