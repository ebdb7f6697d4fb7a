// --augment, --mixup, --cutmix, --label-smoothing and --random-erase end to
// end: one epoch on a few of the tutorial's images for each, the flags
// changing what is trained on (the same seed trains differently without them),
// recorded in the checkpoint's settings, and bad values refused by name.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadCheckpoint } from "../lib/train/checkpoint";
import { jsonLines, runCli, subset } from "./helpers/cli";

let tmp: string;
let small: string;
let baselineLoss: number;

/** The first training phase's loss as history.json holds it (unrounded). */
const trainLoss = (out: string): number => JSON.parse(fs.readFileSync(path.join(out, "history.json"), "utf8"))[0].loss;

const COMMON = ["--epochs", "1", "--weights", "none", "--json", "--batch-size", "4", "--seed", "3", "--no-report", "--workers", "2"];

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tt-augment-cli-"));
  small = subset(path.join(tmp, "data"), 2);
  const r = runCli("finetune", ["--data", small, "--out", path.join(tmp, "baseline"), ...COMMON]);
  expect(r.stderr).toBe("");
  baselineLoss = trainLoss(path.join(tmp, "baseline"));
}, 600_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const RUNS: [string, string, string[], Record<string, unknown>][] = [
  ["finetune", "trivialaugment", ["--augment", "trivialaugment"], { augment: "trivialaugment" }],
  ["finetune", "randaugment", ["--augment", "randaugment", "--random-erase", "0.5"], { augment: "randaugment", randomErase: 0.5 }],
  ["finetune", "mixup", ["--mixup", "0.2"], { mixup: 0.2 }],
  ["finetune", "cutmix and label smoothing", ["--cutmix", "1.0", "--label-smoothing", "0.1"], { cutmix: 1, labelSmoothing: 0.1 }],
  ["finetune", "mixup or cutmix", ["--mixup", "0.2", "--cutmix", "1.0"], { mixup: 0.2, cutmix: 1 }],
  ["featureExtract", "trivialaugment with mixup", ["--augment", "trivialaugment", "--mixup", "0.4"], { augment: "trivialaugment", mixup: 0.4 }],
];

test.each(RUNS)("%s with %s trains an epoch, records the settings, and trains on other inputs than without", async (command, name, flags, settings) => {
  const out = path.join(tmp, `${command}-${name.replace(/ /g, "-")}`);
  const r = runCli(command, ["--data", small, "--out", out, ...COMMON, ...flags]);
  expect(r.stderr).toBe("");
  expect(r.status === 0 ? 0 : `exit status ${r.status}, stderr: ${r.stderr}`).toBe(0);  // a failure shows its stderr
  const lines = jsonLines(r.stdout);
  expect(lines.slice(0, 2).map((l) => [l.epoch, l.phase, l.images])).toEqual([[0, "train", 4], [0, "val", 4]]);
  expect(Number.isFinite(lines[0].loss)).toBe(true);
  expect(lines[2].bestValAcc).toBeGreaterThanOrEqual(0);
  expect((await loadCheckpoint(out)).state.settings).toMatchObject(settings);
  // Same seed, same weights at the start: only the flags can change the training loss.
  // (Unrounded: a mix whose lambda is near 0 or 1 trains on nearly the same pairs.)
  if (command === "finetune") expect(trainLoss(out)).not.toBe(baselineLoss);
}, 600_000);

// One step from the same seed (4 images, batch 4): the epoch's loss is that
// step's, computed before any update, so the two layouts differ only by float
// rounding (2e-6 of the loss measured on ResNet-18, __tests__/channelsLast.test.ts).
test("--channels-last trains the same epoch as without it, to float rounding, and is recorded", async () => {
  const out = path.join(tmp, "channels-last");
  const r = runCli("finetune", ["--data", small, "--out", out, ...COMMON.filter((f) => f !== "--json"), "--channels-last"]);
  expect(r.status === 0 ? 0 : `exit status ${r.status}, stderr: ${r.stderr}`).toBe(0);  // a failure shows its stderr
  expect(r.stdout).toMatch(/^model    resnet18, every layer trained, channels_last$/m);
  expect((await loadCheckpoint(out)).state.settings).toMatchObject({ channelsLast: true });
  expect(Math.abs(trainLoss(out) - baselineLoss)).toBeLessThan(1e-4 * baselineLoss);
}, 600_000);

// bfloat16 forced, so that every CPU takes --amp's bfloat16 path (one step of 4 images, even emulated).
test.each([
  [[], "channels_last", { amp: true, channelsLast: true }],
  [["--no-channels-last"], "", { amp: true }],
])("--amp on a CPU with bfloat16, with %j: the model laid out %j", async (flags, layout, settings) => {
  const out = path.join(tmp, `amp${flags.join("")}`);
  const r = runCli("finetune", ["--data", small, "--out", out, ...COMMON.filter((f) => f !== "--json"), "--amp", ...flags], { TORCH_TRANSFER_CPU_BF16: "1" });
  expect(r.status === 0 ? 0 : `exit status ${r.status}, stderr: ${r.stderr}`).toBe(0);  // a failure shows its stderr
  expect(r.stdout).toMatch(new RegExp(`^model    resnet18, every layer trained${layout ? `, ${layout}` : ""}$`, "m"));
  const saved = (await loadCheckpoint(out)).state.settings;
  expect(saved).toMatchObject(settings);
  if (!layout) expect(saved.channelsLast).toBeUndefined();
}, 600_000);

test("the header names the augmentation and the loss's options", () => {
  const r = runCli("finetune", ["--data", small, "--out", path.join(tmp, "header"), "--epochs", "1", "--weights", "none", "--no-report", "--workers", "2",
    "--augment", "randaugment", "--random-erase", "0.25", "--mixup", "0.2", "--label-smoothing", "0.1"]);
  expect(r.status === 0 ? 0 : `exit status ${r.status}, stderr: ${r.stderr}`).toBe(0);  // a failure shows its stderr
  expect(r.stdout).toMatch(/^augment  crop, flip, RandAugment, RandomErasing\(p 0.25\), MixUp\(alpha 0.2\), label smoothing 0.1$/m);
}, 600_000);

test.each([
  [["--augment", "autoaugment"], /--augment expects one of tutorial, trivialaugment, randaugment, got "autoaugment"/],
  [["--label-smoothing", "1.5"], /--label-smoothing expects a number in \[0, 1\], got "1.5"/],
  [["--random-erase", "2"], /--random-erase expects a number in \[0, 1\], got "2"/],
  [["--mixup", "-0.2"], /--mixup expects a number of at least 0, got "-0.2"/],
  [["--cutmix", "x"], /--cutmix expects a number of at least 0, got "x"/],
  [["--cache-features", "--augment", "trivialaugment", "--mixup", "0.2"], /--cache-features trains on cached, unaugmented features; drop --augment, --mixup/],
  [["--channels-last", "--no-channels-last"], /--channels-last and --no-channels-last contradict each other; give one/],
])("refuses %j with a usage error naming the flag", (flags, message) => {
  const r = runCli(flags[0] === "--cache-features" ? "featureExtract" : "finetune", ["--data", small, "--out", path.join(tmp, "refused"), "--weights", "none", ...flags]);
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(message);
});
