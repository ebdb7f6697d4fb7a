// The commands end to end on a few of the tutorial's images, and their refusals.
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tt from "../lib";
import { loadCheckpoint, modelMetadata, RunSettings } from "../lib/train/checkpoint";
import { dataTransforms } from "../lib/train/tutorial";
import { decodeImage } from "../lib/data/decode";

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
    expect(r.status).toBe(0);
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
  });
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
  const said = stderr.match(/interrupted in epoch (\d+); (.*) holds the state after epoch (-?\d+)\./);
  expect(said).not.toBeNull();
  const [, interrupted, file, savedAfter] = said!;
  expect(file).toBe(path.join(out, "checkpoint.safetensors"));
  expect(Number(savedAfter)).toBe(Number(interrupted) - 1);
  expect(stderr).toContain(`Resume with: npm run finetune -- --resume ${out}`);
  // What it leaves: the checkpoint of the last whole epoch (or of the start), and the
  // lines printed so far are of epochs up to the interrupted one, none after it.
  const checkpoint = await loadCheckpoint(out);
  expect(checkpoint.state.epoch).toBe(Number(savedAfter));
  expect(checkpoint.state.history).toHaveLength(2 * (Number(savedAfter) + 1));
  const printed = stdout.trim().split("\n").map((l) => JSON.parse(l));
  expect(printed.every((l) => l.epoch <= Number(interrupted))).toBe(true);
  expect(printed.slice(0, checkpoint.state.history.length).map((l) => [l.epoch, l.phase])).toEqual(
    checkpoint.state.history.map((r) => [r.epoch, r.phase]),
  );
  // --resume starts at the interrupted epoch and goes on to the end asked for.
  const end = Number(interrupted) + 1;
  const resumed = run("finetune", ["--resume", out, "--epochs", String(end), "--json", "--no-report"]);
  expect(resumed.status).toBe(0);
  const phases = resumed.stdout.trim().split("\n").map((l) => JSON.parse(l)).filter((l) => l.phase);
  expect(phases.map((l) => [l.epoch, l.phase])).toEqual([[Number(interrupted), "train"], [Number(interrupted), "val"]]);
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
  expect(r.status).toBe(0);
  const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  // Only rank 0 prints; the figures are summed over both ranks' shards.
  expect(lines.slice(0, 2).map((l) => [l.epoch, l.phase, l.images])).toEqual([[0, "train", 8], [0, "val", 8]]);
  expect(lines).toHaveLength(3);
  const resumed = run("finetune", ["--resume", out, "--epochs", "2", "--json", "--no-report"]);
  expect(resumed.status).toBe(0);
  expect(JSON.parse(resumed.stdout.trim().split("\n")[0])).toMatchObject({ epoch: 1, phase: "train", images: 8 });
});

describe("refusals: one line, exit 2 for usage, nothing saved is lost", () => {
  test.each([
    [["--data", "/nonexistent/folder"], 2, /--data: \/nonexistent\/folder does not exist/],
    [["--epochs", "0"], 2, /--epochs expects an integer of at least 1, got "0"/],
    [["--epochs", "many"], 2, /--epochs expects an integer of at least 1, got "many"/],
    [["--lr=-1"], 2, /--lr expects a number above 0, got "-1"/],
    [["--device", "cuda:0"], 2, /cuda:0.*(needs CUDA|does not exist)/],
    [["--bogus"], 2, /Unknown option '--bogus'/],
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
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/train and val have different classes/);
  });

  test("an empty class", () => {
    const empty = path.join(tmp, "empty");
    subset(empty, 2);
    fs.mkdirSync(path.join(empty, "train", "wasps"));
    fs.mkdirSync(path.join(empty, "val", "wasps"));
    const r = run("finetune", ["--data", empty, "--weights", "none", "--epochs", "1"]);
    expect(r.status).toBe(1);
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
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/nonexistent\.safetensors/);
  });
});
