// loadClassifier(file, { engine: "onnxruntime" }): the model exported to ONNX, run by onnxruntime-node
// behind the same decoder, dynamic batching and classify API; its probabilities equal the libtorch
// engine's. The runs happen in plain Node processes (helpers/classifyRun.js): inside jest's sandbox,
// onnxruntime-common rejects the arrays its own addon returns.
import { execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as tt from "../lib";
import { main as exportMain } from "../lib/cli/export";
import { DATA, saveServeModel, until } from "./helpers/serveModel";

const RUN = path.join(__dirname, "helpers", "classifyRun.js");
const SERVE = path.resolve(__dirname, "../dist/cli/serve.js");

interface Ran {
  engine: string;
  results: tt.Prediction[][];
  batches: number[];
  maxLogit: number | null;
}

function classifyRun(config: { model: string; engine?: string; maxBatch?: number; images: string[] }, preload?: string): Ran {
  const args = [...(preload ? ["-r", preload] : []), RUN, JSON.stringify(config)];
  return JSON.parse(execFileSync(process.execPath, args, { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 }));
}

let dir: string;
let checkpoint: string;
let images: string[];
let reference: Ran;

beforeAll(async () => {
  ({ dir, checkpoint } = await saveServeModel("tt-onnx-engine-"));
  images = ["ants", "bees"].flatMap((c) => {
    const folder = path.join(DATA, "val", c);
    return fs.readdirSync(folder).sort().slice(0, 3).map((f) => path.join(folder, f));
  });
  expect(await exportMain(["--model", checkpoint, "--format", "onnx", "--dynamic-batch", "--out", path.join(dir, "dynamic.onnx")])).toBe(0);
  expect(await exportMain(["--model", checkpoint, "--format", "onnx", "--out", path.join(dir, "static.onnx")])).toBe(0);
  reference = classifyRun({ model: checkpoint, maxBatch: 4, images });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/**
 * Each image's probabilities by label equal the libtorch engine's. Softmax moves a probability by at
 * most half the largest change in any logit, and the two engines' logits differ by at most 1e-4 of the
 * largest |logit| (onnxExport.test.ts says why); 1.2e-7 more is float32's rounding of a probability.
 */
function expectSameAsLibtorch(ran: Ran): void {
  expect(reference.maxLogit).toBeGreaterThan(0);
  const tolerance = (1e-4 * reference.maxLogit!) / 2 + 1.2e-7;
  expect(ran.results).toHaveLength(images.length);
  ran.results.forEach((predictions, i) => {
    const byLabel = Object.fromEntries(reference.results[i].map((p) => [p.label, p.probability]));
    expect(predictions.map((p) => p.label).sort()).toEqual(["ants", "bees"]);
    for (const p of predictions) expect(Math.abs(p.probability - byLabel[p.label])).toBeLessThanOrEqual(tolerance);
  });
}

test("an .onnx exported with --dynamic-batch classifies as the libtorch engine does, in batches of up to maxBatch", () => {
  const ran = classifyRun({ model: path.join(dir, "dynamic.onnx"), engine: "onnxruntime", maxBatch: 4, images });
  expect(ran.engine).toBe("onnxruntime");
  expectSameAsLibtorch(ran);
  // Six images at once, maxBatch 4: the first goes alone (the model was idle), the rest share batches.
  expect(ran.batches.reduce((a, b) => a + b, 0)).toBe(images.length);
  expect(Math.max(...ran.batches)).toBeGreaterThan(1);
  expect(Math.max(...ran.batches)).toBeLessThanOrEqual(4);
});

test("an .onnx with a batch of 1 still takes batches (one image per onnxruntime call) and answers the same", () => {
  const ran = classifyRun({ model: path.join(dir, "static.onnx"), engine: "onnxruntime", maxBatch: 4, images });
  expectSameAsLibtorch(ran);
});

test("a run folder with engine onnxruntime is exported in memory and answers the same", () => {
  const ran = classifyRun({ model: dir, engine: "onnxruntime", maxBatch: 2, images });
  expect(ran.engine).toBe("onnxruntime");
  expectSameAsLibtorch(ran);
  expect(Math.max(...ran.batches)).toBeLessThanOrEqual(2);
});

test("dispose() while onnxruntime runs a batch: that batch is answered, the waiting images refused, no crash", () => {
  const out = execFileSync(process.execPath, [RUN, JSON.stringify({ model: path.join(dir, "dynamic.onnx"), engine: "onnxruntime", maxBatch: 1, images, disposeOnFirstBatch: true })], { encoding: "utf8" });
  const { batches, settled } = JSON.parse(out) as { batches: number[]; settled: string[] };
  expect(batches).toEqual([1]);
  // Whichever image decoded first went alone (maxBatch 1); the rest came to a disposed classifier.
  expect(settled.filter((s) => s === "answered")).toHaveLength(1);
  expect(settled.filter((s) => s === "Classifier has been disposed")).toHaveLength(images.length - 1);
});

test("without onnxruntime-node installed, engine onnxruntime is an error naming the package", () => {
  const preload = path.join(dir, "no-onnxruntime.js");
  fs.writeFileSync(preload, `
const Module = require("module");
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === "onnxruntime-node") throw Object.assign(new Error("Cannot find module 'onnxruntime-node'"), { code: "MODULE_NOT_FOUND" });
  return resolve.call(this, request, ...rest);
};
`);
  const r = spawnSync(process.execPath, ["-r", preload, RUN, JSON.stringify({ model: path.join(dir, "dynamic.onnx"), engine: "onnxruntime", images })], { encoding: "utf8" });
  expect(r.status).toBe(1);
  expect(r.stderr).toBe(
    'engine "onnxruntime" needs the optional package onnxruntime-node, which is not installed here (npm install onnxruntime-node): Cannot find module \'onnxruntime-node\'\n',
  );
});

test.each([
  [{ engine: "tensorrt" }, 'Expected "libtorch", "onnxruntime" or "auto" for engine but received "tensorrt" of type string'],
  [{ engine: "auto", engineTimer: 3 }, "Expected function for engineTimer but received 3 of type number"],
  [{ engine: "onnxruntime", device: "cuda:0" }, 'engine "onnxruntime" runs on cpu here, got device "cuda:0"'],
])("loadClassifier rejects %j: %s", async (options, message) => {
  await expect(tt.loadClassifier(path.join(dir, "dynamic.onnx"), options as tt.LoadClassifierOptions)).rejects.toThrow(message);
});

test("an .onnx needs engine onnxruntime, and an ONNX file not from npm run export is refused by name", async () => {
  const file = path.join(dir, "dynamic.onnx");
  await expect(tt.loadClassifier(file)).rejects.toThrow(`${file} is an ONNX model: load it with { engine: "onnxruntime" }`);
  const bare = path.join(dir, "bare.onnx");
  await tt.onnx.export(tt.models.resnet18({ numClasses: 2 }), bare, { imageSize: 64 });
  await expect(tt.loadClassifier(bare, { engine: "onnxruntime" })).rejects.toThrow(
    `${bare} is not an ONNX model written by npm run export --format onnx (its metadata_props have no torch-transfer/onnx-v1 class names)`,
  );
  await expect(tt.loadClassifier(path.join(dir, "missing.onnx"), { engine: "onnxruntime" })).rejects.toThrow(`no such file: ${path.join(dir, "missing.onnx")}`);
});

test("npm run serve --engine onnxruntime answers POST /v1/classify as the libtorch engine does", async () => {
  const child = spawn(process.execPath, [SERVE, "--model", path.join(dir, "dynamic.onnx"), "--engine", "onnxruntime", "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  try {
    await until(() => /listening on http:\/\/127\.0\.0\.1:\d+ \(engine onnxruntime\)\n/.test(stdout) || child.exitCode !== null);
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
    if (!url) throw new Error(`serve did not start: ${stdout}${stderr}`);
    const response = await fetch(`${url[1]}/v1/classify?topk=2`, { method: "POST", body: fs.readFileSync(images[0]), headers: { "content-type": "image/jpeg" } });
    expect(response.status).toBe(200);
    const answer = (await response.json()) as tt.Prediction[];
    const tolerance = (1e-4 * reference.maxLogit!) / 2 + 1.2e-7;
    const byLabel = Object.fromEntries(reference.results[0].map((p) => [p.label, p.probability]));
    expect(answer.map((p) => p.label).sort()).toEqual(["ants", "bees"]);
    for (const p of answer) expect(Math.abs(p.probability - byLabel[p.label])).toBeLessThanOrEqual(tolerance);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(stderr).toBe("");
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});

test("serve: a bad --engine, and onnxruntime off the cpu, are usage errors naming the flag", () => {
  const bad = spawnSync(process.execPath, [SERVE, "--model", checkpoint, "--engine", "tvm"], { encoding: "utf8" });
  expect(bad.status).toBe(2);
  expect(bad.stderr).toBe('serve: --engine expects libtorch or onnxruntime, got "tvm"\n');
  const cuda = spawnSync(process.execPath, [SERVE, "--model", checkpoint, "--engine", "onnxruntime", "--device", "cuda:0"], { encoding: "utf8" });
  expect(cuda.status).toBe(2);
  expect(cuda.stderr).toBe("serve: --engine onnxruntime runs on cpu only, got --device cuda:0\n");
});

describe('engine "auto" keeps whichever engine the timer says is faster', () => {
  // The timer is injected, so the choice is the test's, not this machine's load:
  // it answers seconds per batch for each engine without running a batch.
  const timer = (seconds: Record<string, number>) => async (engine: tt.ClassifierEngine) => seconds[engine];

  test("onnxruntime when it times faster; the libtorch model is freed", async () => {
    const classifier = await tt.loadClassifier(checkpoint, { engine: "auto", maxBatch: 2, engineTimer: timer({ libtorch: 0.2, onnxruntime: 0.1 }) });
    try {
      expect(classifier.engine).toBe("onnxruntime");
      expect(classifier.engineChoice).toEqual({ chosen: "onnxruntime", batch: 2, secondsPerBatch: { libtorch: 0.2, onnxruntime: 0.1 }, failed: {} });
      expect(() => classifier.model).toThrow("this Classifier runs on onnxruntime: it has no libtorch model");
    } finally {
      classifier.dispose();
    }
  });

  test("libtorch when it times faster, or on a tie", async () => {
    for (const seconds of [{ libtorch: 0.1, onnxruntime: 0.2 }, { libtorch: 0.1, onnxruntime: 0.1 }]) {
      const classifier = await tt.loadClassifier(checkpoint, { engine: "auto", engineTimer: timer(seconds) });
      expect(classifier.engine).toBe("libtorch");
      expect(classifier.engineChoice?.batch).toBe(4);
      expect(classifier.model.isDisposed).toBe(false);
      classifier.dispose();
    }
  });

  test("an engine that fails to run is left out, with its reason", async () => {
    const failing = async (engine: tt.ClassifierEngine) => {
      if (engine === "onnxruntime") throw new Error("no session here");
      return 0.5;
    };
    const classifier = await tt.loadClassifier(checkpoint, { engine: "auto", engineTimer: failing });
    expect(classifier.engine).toBe("libtorch");
    expect(classifier.engineChoice?.failed).toEqual({ onnxruntime: "no session here" });
    classifier.dispose();
  });

  test("the default timer runs real batches: inside jest onnxruntime cannot run, so libtorch is kept", async () => {
    const classifier = await tt.loadClassifier(checkpoint, { engine: "auto", maxBatch: 1 });
    expect(classifier.engine).toBe("libtorch");
    expect(classifier.engineChoice?.secondsPerBatch.libtorch).toBeGreaterThan(0);
    expect(Object.keys(classifier.engineChoice?.failed ?? {})).toEqual(["onnxruntime"]);
    classifier.dispose();
  });

  test("in a plain Node process, the default timer measures both and the classifier answers as libtorch does", () => {
    const ran = classifyRun({ model: checkpoint, engine: "auto", maxBatch: 4, images });
    expect(["libtorch", "onnxruntime"]).toContain(ran.engine);
    expectSameAsLibtorch(ran);
  });
});
