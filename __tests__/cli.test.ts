// The commands end to end on a few of the tutorial's images, and their refusals.
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tt from "../lib";
import { modelMetadata, RunSettings } from "../lib/train/checkpoint";

const ROOT = path.resolve(__dirname, "..");
const DATA = path.resolve(ROOT, "../shared/data/hymenoptera_data");
const CLI = (name: string) => path.join(ROOT, "dist", "cli", `${name}.js`);

let tmp: string;
let small: string;

function run(name: string, args: string[]) {
  const r = spawnSync(process.execPath, [CLI(name), ...args], { encoding: "utf8", timeout: 600_000, env: { ...process.env, FORCE_COLOR: "0" } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A copy of the data set's layout with `n` images per class and phase (links, not copies). */
function subset(dir: string, n: number, classes = ["ants", "bees"]) {
  for (const phase of ["train", "val"]) {
    for (const cls of classes) {
      const src = path.join(DATA, phase, cls);
      const dst = path.join(dir, phase, cls);
      fs.mkdirSync(dst, { recursive: true });
      for (const f of fs.readdirSync(src).filter((f) => f.endsWith(".jpg")).sort().slice(0, n)) fs.symlinkSync(path.join(src, f), path.join(dst, f));
    }
  }
  return dir;
}

beforeAll(() => {
  expect(fs.existsSync(CLI("finetune"))).toBe(true); // built by `npm ci` (prepare) or `npm run build`
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tt-cli-"));
  small = subset(path.join(tmp, "data"), 4);
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe.each(["finetune", "featureExtract"])("%s", (command) => {
  test("trains one epoch with --json, writes the model and history, and predict reads it", () => {
    const out = path.join(tmp, `${command}-run`);
    const r = run(command, ["--data", small, "--epochs", "1", "--weights", "none", "--out", out, "--json", "--batch-size", "4", "--seed", "1", "--no-report"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.slice(0, 2).map((l) => [l.epoch, l.phase, l.images])).toEqual([[0, "train", 8], [0, "val", 8]]);
    for (const l of lines.slice(0, 2)) {
      expect(l.loss).toBeGreaterThan(0);
      expect(l.acc).toBeGreaterThanOrEqual(0);
      expect(l.acc).toBeLessThanOrEqual(1);
    }
    const last = lines[2];
    expect(last.checkpoint).toBe(path.join(out, "model.safetensors"));
    expect(typeof last.bestValAcc).toBe("number");
    expect(fs.existsSync(path.join(out, "checkpoint.safetensors"))).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(out, "history.json"), "utf8"))).toHaveLength(2);

    const image = path.join(DATA, "val", "bees", fs.readdirSync(path.join(DATA, "val", "bees")).sort()[0]);
    const p = run("predict", ["--model", last.checkpoint, "--json", image]);
    expect(p.status).toBe(0);
    const prediction = JSON.parse(p.stdout.trim());
    expect(prediction.image).toBe(image);
    expect(["ants", "bees"]).toContain(prediction.label);
    expect(prediction.probability).toBeGreaterThanOrEqual(0.5);
    expect(prediction.topk[0].probability).toBeLessThanOrEqual(1);

    // The run folder stands for its model; a folder of images is searched recursively.
    const csv = path.join(tmp, `${command}.csv`);
    const many = run("predict", ["--model", out, "--topk", "2", "--csv", csv, path.join(small, "val")]);
    expect(many.stderr).toBe("");
    expect(many.status).toBe(0);
    const rows = fs.readFileSync(csv, "utf8").trim().split("\n").map((l) => l.split(","));
    expect(rows[0]).toEqual(["image", "label", "probability", "label2", "probability2"]);
    const expected = ["ants", "bees"].flatMap((c) => fs.readdirSync(path.join(small, "val", c)).sort().map((f) => `${small}/val/${c}/${f}`));
    expect(rows.slice(1).map((r) => r[0])).toEqual(expected);
    for (const r of rows.slice(1)) {
      expect([r[1], r[3]].sort()).toEqual(["ants", "bees"]);
      expect(Number(r[2]) + Number(r[4])).toBeCloseTo(1, 5); // two classes' softmax in float32
    }
    expect(many.stdout.trim().split("\n")).toHaveLength(expected.length + 1);
    expect(many.stdout).toContain(`Wrote ${expected.length} predictions to ${csv}`);
  });
});

test("without --json, a header names the data, classes, device, threads, libtorch and weights before training, and epochs count from 1", () => {
  const out = path.join(tmp, "header-run");
  const r = run("finetune", ["--data", small, "--epochs", "1", "--weights", "none", "--out", out, "--no-report"]);
  expect(r.status).toBe(0);
  const lines = r.stdout.split("\n");
  expect(lines.slice(0, 7)).toEqual([
    `data     ${small} (train 8 images, val 8 images)`,
    "classes  2: ants, bees",
    expect.stringMatching(new RegExp(`^device   cpu, \\d+ threads, libtorch ${tt.libtorchVersion().replace(/[.+]/g, "\\$&")}$`)),
    "model    resnet18, every layer trained",
    "weights  none (random initialisation)",
    "training 1 epochs, batch 4, SGD(lr 0.001, momentum 0.9), StepLR(7, 0.1)",
    `out      ${out}`,
  ]);
  expect(lines[7]).toMatch(/^epoch 1\/1 train loss \d+\.\d{4} acc \d\.\d{4}/);
  expect(lines[8]).toMatch(/^epoch 1\/1 val   loss/);
});

test("a missing image says no such file; predict refuses a folder with no images", () => {
  const model = path.join(tmp, "finetune-run");
  const missing = run("predict", ["--model", model, path.join(tmp, "nope.jpg")]);
  expect(missing.status).toBe(2);
  expect(missing.stderr).toBe(`predict: no such file: ${path.join(tmp, "nope.jpg")}\n`);
  const bare = path.join(tmp, "no-images");
  fs.mkdirSync(path.join(bare, "sub"), { recursive: true });
  fs.writeFileSync(path.join(bare, "sub", "notes.txt"), "not an image");
  const none = run("predict", ["--model", model, bare]);
  expect(none.status).toBe(2);
  expect(none.stderr).toMatch(/no-images is a folder with no images in it/);
});

test("--help of every command shows each flag with a description and examples, and exits 0", () => {
  for (const name of ["finetune", "featureExtract", "predict", "showBatch", "fetchData", "fetchWeights"]) {
    const r = run(name, ["--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: npm run [a-z-]+ -- \[options\]/);
    expect(r.stdout).toMatch(/\n {2}-h, --help +show this help and exit\n/);
    expect(r.stdout).toMatch(/\nexamples:\n {2}npm run /);
  }
});

test("--resume continues a run from its checkpoint", () => {
  const out = path.join(tmp, "resume-run");
  expect(run("finetune", ["--data", small, "--epochs", "1", "--weights", "none", "--out", out, "--json", "--no-report"]).status).toBe(0);
  const r = run("finetune", ["--resume", out, "--epochs", "2", "--json", "--no-report"]);
  expect(r.status).toBe(0);
  const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  expect(lines.slice(0, 2).map((l) => [l.epoch, l.phase])).toEqual([[1, "train"], [1, "val"]]);
  expect(JSON.parse(fs.readFileSync(path.join(out, "history.json"), "utf8"))).toHaveLength(4);
});

test("Ctrl-C finishes the batch, saves a checkpoint, exits 130 with how to resume, and --resume goes on", async () => {
  const out = path.join(tmp, "interrupted");
  const child = spawn(process.execPath, [CLI("finetune"), "--data", small, "--epochs", "3", "--weights", "none", "--out", out, "--json", "--no-report"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let sent = false;
  child.stderr.on("data", (d) => (stderr += d));
  const status = await new Promise<number | null>((resolve) => {
    child.stdout.on("data", (d) => {
      stdout += d;
      // Interrupt during epoch 0's val phase, once its train phase has reported.
      if (!sent && stdout.includes('"phase":"train"')) {
        sent = true;
        child.kill("SIGINT");
      }
    });
    child.on("close", (code) => resolve(code));
  });
  expect(sent).toBe(true);
  expect(status).toBe(130);
  expect(stderr).toMatch(/interrupted in epoch \d/);
  expect(stderr).toContain(`Resume with: npm run finetune -- --resume ${out}`);
  expect(fs.existsSync(path.join(out, "checkpoint.safetensors"))).toBe(true);
  const resumed = run("finetune", ["--resume", out, "--json", "--no-report"]);
  expect(resumed.status).toBe(0);
  const phases = resumed.stdout.trim().split("\n").map((l) => JSON.parse(l)).filter((l) => l.phase);
  expect(phases[phases.length - 1]).toMatchObject({ epoch: 2, phase: "val" });
});

async function freePort(): Promise<number> {
  const net = await import("net");
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

test("--nproc-per-node 2 trains on two processes with whole-set figures, and another process count resumes it", async () => {
  const out = path.join(tmp, "ddp");
  const port = String(await freePort());
  const r = run("finetune", ["--data", small, "--epochs", "1", "--weights", "none", "--out", out, "--json", "--no-report", "--nproc-per-node", "2", "--master-port", port]);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  // Only rank 0 prints; the figures are summed over both ranks' shards.
  expect(lines.slice(0, 2).map((l) => [l.epoch, l.phase, l.images])).toEqual([[0, "train", 8], [0, "val", 8]]);
  expect(lines).toHaveLength(3);
  const resumed = run("finetune", ["--resume", out, "--epochs", "2", "--json", "--no-report"]);
  expect(resumed.status).toBe(0);
  expect(JSON.parse(resumed.stdout.trim().split("\n")[0])).toMatchObject({ epoch: 1, phase: "train", images: 8 });
});

test("--optimizer adamw --scheduler cosine --warmup-epochs 1: the checkpoint holds AdamW's state and the schedule's, and --resume continues both", async () => {
  const out = path.join(tmp, "adamw-run");
  const args = ["--data", small, "--weights", "none", "--out", out, "--json", "--no-report", "--batch-size", "4"];
  const r = run("featureExtract", [...args, "--epochs", "2", "--optimizer", "adamw", "--scheduler", "cosine", "--warmup-epochs", "1", "--weight-decay", "0.05"]);
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  const { loadCheckpoint } = await import("../lib/train/checkpoint");
  const first = await loadCheckpoint(out);
  expect(first.state.settings).toMatchObject({ optimizer: "adamw", scheduler: "cosine", warmupEpochs: 1, weightDecay: 0.05 });
  // 8 training images in batches of 4, two epochs: 4 steps of fc's weight and bias.
  expect(first.state.optimizer?.numbers).toEqual({ 0: { step: 4 }, 1: { step: 4 } });
  expect([...first.optimizerTensors.keys()].sort()).toEqual(["0.expAvg", "0.expAvgSq", "1.expAvg", "1.expAvgSq"]);
  expect(first.state.optimizer?.paramGroups[0]).toMatchObject({ weightDecay: 0.05, initialLr: 0.001 });
  // SequentialLR stepped once per epoch: warm-up, then cosine.
  expect(first.state.scheduler.lastEpoch).toBe(2);
  const resumed = run("featureExtract", ["--resume", out, "--epochs", "3", "--json", "--no-report"]);
  expect(resumed.stderr).toBe("");
  expect(resumed.status).toBe(0);
  expect(JSON.parse(resumed.stdout.trim().split("\n")[0])).toMatchObject({ epoch: 2, phase: "train", images: 8 });
  const second = await loadCheckpoint(out);
  expect(second.state.optimizer?.numbers).toEqual({ 0: { step: 6 }, 1: { step: 6 } });
  expect(second.state.scheduler.lastEpoch).toBe(3);
});

describe("refusals: one line, exit 2 for usage, nothing saved is lost", () => {
  test.each([
    [["--data", "/nonexistent/folder"], 2, /--data: \/nonexistent\/folder does not exist/],
    [["--epochs", "0"], 2, /--epochs expects an integer of at least 1, got "0"/],
    [["--epochs", "many"], 2, /--epochs expects an integer of at least 1, got "many"/],
    [["--lr=-1"], 2, /--lr expects a number above 0, got "-1"/],
    [["--device", "cuda:0"], 2, /cuda:0.*(needs CUDA|does not exist)/],
    [["--bogus"], 2, /unknown option --bogus \(see --help\)/],
    [["--epoch", "1"], 2, /unknown option --epoch; did you mean --epochs\?/],
    [["--epochs", "-1"], 2, /--epochs expects an integer of at least 1, got "-1"/],
    [["--lr", "-0.1"], 2, /--lr expects a number above 0, got "-0.1"/],
    [["--optimizer", "adam"], 2, /--optimizer expects one of sgd, adamw, got "adam"/],
    [["--scheduler", "exp"], 2, /--scheduler expects one of step, cosine, onecycle, got "exp"/],
    [["--warmup-epochs", "2", "--epochs", "2"], 2, /--warmup-epochs must be below --epochs \(2\), got 2/],
    [["--weight-decay", "-0.1"], 2, /--weight-decay expects a number of at least 0, got "-0.1"/],
  ])("%j", (args, status, message) => {
    const r = run("finetune", [...(args as string[]), "--weights", "none", "--data", (args as string[]).includes("--data") ? (args as string[])[1] : small]);
    expect(r.status).toBe(status);
    expect(r.stderr).toMatch(message as RegExp);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  test("train and val with different classes", () => {
    const odd = path.join(tmp, "odd");
    subset(odd, 2);
    fs.mkdirSync(path.join(odd, "val", "wasps"));
    fs.symlinkSync(path.join(odd, "val", "ants", fs.readdirSync(path.join(odd, "val", "ants"))[0]), path.join(odd, "val", "wasps", "a.jpg"));
    const r = run("finetune", ["--data", odd, "--weights", "none", "--epochs", "1"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/train and val have different classes/);
  });

  test("a data folder without val/ is a usage error", () => {
    const noVal = path.join(tmp, "no-val");
    subset(noVal, 1);
    fs.rmSync(path.join(noVal, "val"), { recursive: true });
    const r = run("finetune", ["--data", noVal, "--weights", "none", "--epochs", "1"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`finetune: data folder ${noVal} has no val/ folder (expected ${path.join(noVal, "val")})\n`);
  });

  test("an empty class", () => {
    const empty = path.join(tmp, "empty");
    subset(empty, 2);
    fs.mkdirSync(path.join(empty, "train", "wasps"));
    fs.mkdirSync(path.join(empty, "val", "wasps"));
    const r = run("finetune", ["--data", empty, "--weights", "none", "--epochs", "1"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Found no valid file for the classes wasps/);
  });

  test("an --out folder that already holds a model is refused and left as it was", () => {
    const out = path.join(tmp, "kept");
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, "model.safetensors"), "precious");
    const r = run("finetune", ["--data", small, "--weights", "none", "--out", out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/already holds a model/);
    expect(fs.readFileSync(path.join(out, "model.safetensors"), "utf8")).toBe("precious");
  });

  test("predict refuses a checkpoint whose classes do not match its weights, naming the file", async () => {
    const model = tt.models.resnet18();
    model.fc = new tt.nn.Linear(512, 2);
    const file = path.join(tmp, "three-classes.safetensors");
    const settings = { mode: "finetune", arch: "resnet18" } as unknown as RunSettings;
    await tt.save(model.stateDict(), file, modelMetadata({ classes: ["ants", "bees", "wasps"], settings }));
    const r = run("predict", ["--model", file, path.join(DATA, "val", "ants", fs.readdirSync(path.join(DATA, "val", "ants"))[0])]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/three-classes\.safetensors names 3 classes but its fc\.weight has 2 outputs/);
    const missing = run("predict", ["--model", path.join(tmp, "nonexistent.safetensors"), "x.jpg"]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe(`predict: --model: no such file: ${path.join(tmp, "nonexistent.safetensors")}\n`);
  });
});
