// The commands end to end on a few of the tutorial's images, and their refusals.
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tt from "../lib";
import { loadCheckpoint, modelMetadata, RunSettings } from "../lib/train/checkpoint";
import { dataTransforms } from "../lib/train/tutorial";
import { decodeImage } from "../lib/data/decode";
import { subset } from "./helpers/cli";

const ROOT = path.resolve(__dirname, "..");
const DATA = path.resolve(ROOT, "../shared/data/hymenoptera_data");
const CLI = (name: string) => path.join(ROOT, "dist", "cli", `${name}.js`);

let tmp: string;
let small: string;

function run(name: string, args: string[]) {
  const r = spawnSync(process.execPath, [CLI(name), ...args], { encoding: "utf8", timeout: 600_000, env: { ...process.env, FORCE_COLOR: "0" } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  expect(fs.existsSync(CLI("finetune"))).toBe(true); // built by `npm ci` (prepare) or `npm run build`
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tt-cli-"));
  small = subset(path.join(tmp, "data"), 4);
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A ResNet-18 with a `classes`-way fc holding `weights`, in eval mode. */
function modelWith(weights: Map<string, tt.Tensor>, classes: number) {
  const model = tt.models.resnet18();
  model.fc = new tt.nn.Linear(model.fc.inFeatures, classes);
  model.loadStateDict(weights);
  model.eval();
  return model;
}

/** Each image's logits through the val transform, one image at a time, as float64 rows. */
async function logitsOf(model: tt.models.ResNet, files: string[]): Promise<number[][]> {
  const tf = dataTransforms.val();
  const rows: number[][] = [];
  for (const file of files) {
    const input = (await tf.forward(await decodeImage(file))) as tt.Tensor;
    const out = await tt.noGrad(() => model.forward(tt.stack([input])));
    rows.push(Array.from((await out.data()) as Float32Array));
    out.dispose();
    input.dispose();
  }
  return rows;
}

/** Softmax in float64, written out here rather than taken from the library under test. */
function softmax(row: number[]): number[] {
  const top = Math.max(...row);
  const e = row.map((v) => Math.exp(v - top));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

describe.each(["finetune", "featureExtract"])("%s", (command) => {
  test("trains one epoch with --json, writes the model and history, and predict reads it", async () => {
    const out = path.join(tmp, `${command}-run`);
    const r = run(command, ["--data", small, "--epochs", "1", "--weights", "none", "--out", out, "--json", "--batch-size", "4", "--seed", "1", "--no-report"]);
    expect(r.stderr).toBe("");
    expect(r.status === 0 ? 0 : `exit status ${r.status}, stderr: ${r.stderr}`).toBe(0);  // a failure shows its stderr
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    expect(lines.slice(0, 2).map((l) => [l.epoch, l.phase, l.images])).toEqual([[0, "train", 8], [0, "val", 8]]);
    // The lines are history.json's records, rounded to 4 digits; accuracies count whole images.
    const history = JSON.parse(fs.readFileSync(path.join(out, "history.json"), "utf8"));
    expect(history).toHaveLength(2);
    lines.slice(0, 2).forEach((l, i) => {
      expect(l.loss).toBe(Number(history[i].loss.toFixed(4)));
      expect(l.acc).toBe(Number(history[i].acc.toFixed(4)));
      expect(Number.isInteger(history[i].acc * 8)).toBe(true);
    });

    // The val line, recomputed here from the weights the epoch ended with (the checkpoint's
    // model): eval mode, the val transform, mean cross-entropy in float64.
    const valFiles = ["ants", "bees"].flatMap((c) => fs.readdirSync(path.join(small, "val", c)).sort().map((f) => path.join(small, "val", c, f)));
    const saved = await loadCheckpoint(out);
    expect(saved.state.epoch).toBe(0);
    const rows = await logitsOf(modelWith(saved.model, 2), valFiles);
    const labels = valFiles.map((f) => (path.basename(path.dirname(f)) === "ants" ? 0 : 1));
    const loss = rows.reduce((sum, row, i) => sum - Math.log(softmax(row)[labels[i]]), 0) / rows.length;
    const correct = rows.filter((row, i) => (row[1] > row[0] ? 1 : 0) === labels[i]).length;
    // Batches of 4 against single images sum in another order: ~1e-6 on the logits, far
    // below every gap between two logits here, so the argmax cannot differ.
    expect(Math.min(...rows.map(([a, b]) => Math.abs(a - b)))).toBeGreaterThan(1e-4);
    expect(history[1].acc).toBe(correct / 8);
    expect(Math.abs(history[1].loss - loss)).toBeLessThan(1e-5);

    const last = lines[2];
    expect(last.checkpoint).toBe(path.join(out, "model.safetensors"));
    // One epoch: the best is its val accuracy (or the starting weights' 0 when that is 0).
    expect(last.bestValAcc).toBe(history[1].acc);

    // predict: the label and probabilities are the softmax of model.safetensors' own logits.
    const image = path.join(DATA, "val", "bees", fs.readdirSync(path.join(DATA, "val", "bees")).sort()[0]);
    const p = run("predict", ["--model", last.checkpoint, "--json", "--topk", "2", image]);
    expect(p.stderr).toBe("");
    expect(p.status).toBe(0);
    const prediction = JSON.parse(p.stdout.trim());
    expect(prediction.image).toBe(image);
    const [row] = await logitsOf(modelWith(await tt.load(last.checkpoint), 2), [image]);
    const probs = softmax(row);
    const best = probs[1] > probs[0] ? 1 : 0;
    expect(prediction.label).toBe(["ants", "bees"][best]);
    expect(prediction.topk.map((t: tt.Prediction) => t.label)).toEqual([["ants", "bees"][best], ["ants", "bees"][1 - best]]);
    // float32 softmax against float64: a few ulp of float32 (~1e-7) apart.
    expect(Math.abs(prediction.probability - probs[best])).toBeLessThan(1e-6);
    expect(Math.abs(prediction.topk[1].probability - probs[1 - best])).toBeLessThan(1e-6);

    // The run folder stands for its model; a folder of images is searched recursively.
    const csv = path.join(tmp, `${command}.csv`);
    const many = run("predict", ["--model", out, "--topk", "2", "--csv", csv, path.join(small, "val")]);
    expect(many.stderr).toBe("");
    expect(many.status).toBe(0);
    const csvRows = fs.readFileSync(csv, "utf8").trim().split("\n").map((l) => l.split(","));
    expect(csvRows[0]).toEqual(["image", "label", "probability", "label2", "probability2"]);
    const listed = ["ants", "bees"].flatMap((c) => fs.readdirSync(path.join(small, "val", c)).sort().map((f) => `${small}/val/${c}/${f}`));
    expect(csvRows.slice(1).map((r) => r[0])).toEqual(listed);
    for (const r of csvRows.slice(1)) {
      expect([r[1], r[3]].sort()).toEqual(["ants", "bees"]);
      expect(Number(r[2]) + Number(r[4])).toBeCloseTo(1, 5); // two classes' softmax in float32
    }
    expect(many.stdout.trim().split("\n")).toHaveLength(listed.length + 1);
    expect(many.stdout).toContain(`Wrote ${listed.length} predictions to ${csv}`);
  });
});

test("without --json, a header names the data, classes, device, threads, libtorch and weights before training, and epochs count from 1", () => {
  const out = path.join(tmp, "header-run");
  const r = run("finetune", ["--data", small, "--epochs", "1", "--weights", "none", "--out", out, "--no-report"]);
  expect(r.status === 0 ? 0 : `exit status ${r.status}, stderr: ${r.stderr}`).toBe(0);  // a failure shows its stderr
  const lines = r.stdout.split("\n");
  expect(lines.slice(0, 7)).toEqual([
    `data     ${small} (train 8 images, val 8 images)`,
    "classes  2: ants, bees",
    expect.stringMatching(new RegExp(`^device   cpu, \\d+ threads, libtorch ${tt.libtorchVersion().replace(/[.+]/g, "\\$&")}$`)),
    "model    resnet18, every layer trained",
    "weights  none (random initialisation)",
    "training 1 epoch, batch 4, SGD(lr 0.001, momentum 0.9), StepLR(7, 0.1)",
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
    expect(r.status === 0 ? 0 : `exit status ${r.status}, stderr: ${r.stderr}`).toBe(0);  // a failure shows its stderr
    expect(r.stdout).toMatch(/^usage: npm run [a-z-]+ -- \[options\]/);
    expect(r.stdout).toMatch(/\n {2}-h, --help +show this help and exit\n/);
    expect(r.stdout).toMatch(/\nexamples:\n {2}npm run /);
  }
});

test("--resume continues a run from its checkpoint", () => {
  const out = path.join(tmp, "resume-run");
  expect(run("finetune", ["--data", small, "--epochs", "1", "--weights", "none", "--out", out, "--json", "--no-report"]).status).toBe(0);
  const r = run("finetune", ["--resume", out, "--epochs", "2", "--json", "--no-report"]);
  expect(r.status === 0 ? 0 : `exit status ${r.status}, stderr: ${r.stderr}`).toBe(0);  // a failure shows its stderr
  const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  expect(lines.slice(0, 2).map((l) => [l.epoch, l.phase])).toEqual([[1, "train"], [1, "val"]]);
  expect(JSON.parse(fs.readFileSync(path.join(out, "history.json"), "utf8"))).toHaveLength(4);
});

test("Ctrl-C finishes the batch, saves a checkpoint, exits 130 with how to resume, and --resume goes on", async () => {
  const out = path.join(tmp, "interrupted");
  // 1000 epochs: the run cannot end by itself before the signal lands, however fast the machine.
  const child = spawn(process.execPath, [CLI("finetune"), "--data", small, "--epochs", "1000", "--weights", "none", "--out", out, "--json", "--no-report"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let sent = false;
  child.stderr.on("data", (d) => (stderr += d));
  const status = await new Promise<number | null>((resolve) => {
    child.stdout.on("data", (d) => {
      stdout += d;
      // Interrupt once epoch 0's train phase has reported: an event, not a delay.
      if (!sent && stdout.includes('"phase":"train"')) {
        sent = true;
        child.kill("SIGINT");
      }
    });
    child.on("close", (code) => resolve(code));
  });
  expect(sent).toBe(true);
  expect(status).toBe(130);
  // The message counts epochs from 1; the JSON lines and the checkpoint from 0.
  const said = stderr.match(/interrupted in epoch (\d+) of 1000; (.*) holds (the starting weights|the state after epoch (\d+))\.\n/);
  expect(said).not.toBeNull();
  const interrupted = Number(said![1]) - 1;
  const savedAfter = said![4] === undefined ? -1 : Number(said![4]) - 1;
  expect(said![2]).toBe(path.join(out, "checkpoint.safetensors"));
  expect(savedAfter).toBe(interrupted - 1);
  expect(stderr).toContain(`Resume with: npm run finetune -- --resume ${out}`);
  // What it leaves: the checkpoint of the last whole epoch (or of the start), and the
  // lines printed so far are of epochs up to the interrupted one, none after it.
  const checkpoint = await loadCheckpoint(out);
  expect(checkpoint.state.epoch).toBe(savedAfter);
  expect(checkpoint.state.history).toHaveLength(2 * (savedAfter + 1));
  const printed = stdout.trim().split("\n").map((l) => JSON.parse(l));
  expect(printed.every((l) => l.epoch <= interrupted)).toBe(true);
  expect(printed.slice(0, checkpoint.state.history.length).map((l) => [l.epoch, l.phase])).toEqual(
    checkpoint.state.history.map((r) => [r.epoch, r.phase]),
  );
  // --resume starts at the interrupted epoch and goes on to the end asked for.
  const end = interrupted + 1;
  const resumed = run("finetune", ["--resume", out, "--epochs", String(end), "--json", "--no-report"]);
  expect(resumed.status).toBe(0);
  const phases = resumed.stdout.trim().split("\n").map((l) => JSON.parse(l)).filter((l) => l.phase);
  expect(phases.map((l) => [l.epoch, l.phase])).toEqual([[interrupted, "train"], [interrupted, "val"]]);
  expect(JSON.parse(fs.readFileSync(path.join(out, "history.json"), "utf8"))).toHaveLength(2 * end);
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
  expect(r.status === 0 ? 0 : `exit status ${r.status}, stderr: ${r.stderr}`).toBe(0);  // a failure shows its stderr
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
  expect(r.status === 0 ? 0 : `exit status ${r.status}, stderr: ${r.stderr}`).toBe(0);  // a failure shows its stderr
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

  test("a data folder without val/ is a usage error that says how to split one", () => {
    const noVal = path.join(tmp, "no-val");
    subset(noVal, 1);
    fs.rmSync(path.join(noVal, "val"), { recursive: true });
    const r = run("finetune", ["--data", noVal, "--weights", "none", "--epochs", "1"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`finetune: data folder ${noVal} has no val/ folder (expected ${path.join(noVal, "val")}); for one folder of class folders, pass --val-split 0.2 to hold out 20% of each class\n`);
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
