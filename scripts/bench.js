#!/usr/bin/env node
// npm run bench -- [--data DIR] [--threads N] [--workers N] [--out FILE] [--quick]
//                  [--only a,b] [--malloc-env] [--malloc-compare] [--requests N]
//                  [--archs a,b] [--backbone-steps N] [--soak-calls N] [--amp-epochs N]
//
// Runs PyTorch's transfer-learning tutorial (Debian's /usr/bin/python3 with
// torchvision) and ours on the same data with the same thread count, in the
// same run, each part in its own process; prints a table with ratios (Python
// time / ours: above 1 means ours is faster) and writes it as JSON.
// Parts: weights, load, flops, decode, checkdata, train, amp, breakdown, cache, serve, http, ddp, backbones, soak (all by default).
// breakdown: also times our epoch in fp32 and bf16 autocast, each contiguous and channels_last, interleaved.
// amp: fine-tune in float32 and under --amp (bfloat16 autocast on CPU), Python and ours, 2 epochs each (or --amp-epochs),
//      with the model contiguous, then in channels_last.
// breakdown: a fine-tune train epoch's step split into data wait, forward, backward and optimizer, Python and ours interleaved twice.
// backbones: the train step of every registered architecture (or --archs), batch 8, 2 threads (or --threads).
// soak: RSS and latency over 10,000 classify calls (or --soak-calls; 500 with --quick).
"use strict";
const { spawnSync } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { parseArgs } = require("util");
const { formatTable, buildRows } = require("./bench/table");

const ROOT = path.resolve(__dirname, "..");
const PYTHON = fs.existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
const PARTS = ["weights", "load", "flops", "decode", "checkdata", "train", "amp", "breakdown", "cache", "serve", "http", "ddp", "backbones", "soak"];
// glibc: serve large blocks from the heap instead of fresh mmaps, and keep freed memory
// instead of trimming it, so each step does not page-fault its activations in again.
const MALLOC_ENV = { MALLOC_MMAP_THRESHOLD_: String(32 << 20), MALLOC_TRIM_THRESHOLD_: String(2 ** 32) };

const { values: flags } = parseArgs({
  options: {
    data: { type: "string" },
    threads: { type: "string" },
    workers: { type: "string" },
    out: { type: "string" },
    quick: { type: "boolean" },
    only: { type: "string" },
    requests: { type: "string" },
    archs: { type: "string" },
    "backbone-steps": { type: "string" },
    "soak-calls": { type: "string" },
    "amp-epochs": { type: "string" },
    "malloc-env": { type: "boolean" },
    "malloc-compare": { type: "boolean" },
    help: { type: "boolean", short: "h" },
  },
});
if (flags.help) {
  process.stdout.write(fs.readFileSync(__filename, "utf8").split("\n").slice(1, 13).map((l) => l.replace(/^\/\/ ?/, "")).join("\n") + "\n");
  process.exit(0);
}
const positive = (v, name, fallback) => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: expected a positive integer, got ${v}`);
  return n;
};
const data = path.resolve(flags.data ?? path.join(ROOT, "..", "shared", "data", "hymenoptera_data"));
if (!fs.existsSync(path.join(data, "train")) || !fs.existsSync(path.join(data, "val"))) {
  console.error(`bench: ${data} has no train/ and val/ folders (pass --data DIR)`);
  process.exit(2);
}
const threads = positive(flags.threads, "threads", os.availableParallelism());
// The CLI's default: as many decoders at once as cores, at least two.
const workers = positive(flags.workers, "workers", Math.max(2, os.availableParallelism()));
const quick = !!flags.quick;
const limit = quick ? { train: 48, val: 32 } : null;
const requests = positive(flags.requests, "requests", quick ? 32 : 160);
const only = flags.only ? flags.only.split(",") : PARTS;
for (const p of only) if (!PARTS.includes(p)) throw new Error(`--only: unknown part ${p} (parts: ${PARTS.join(", ")})`);
const outFile = path.resolve(flags.out ?? "bench-results.json");
const mallocEnv = flags["malloc-env"] ? MALLOC_ENV : {};
const work = fs.mkdtempSync(path.join(os.tmpdir(), "tt-bench-"));

function run(label, command, args, extraEnv = {}) {
  const started = Date.now();
  process.stderr.write(`bench: ${label} ... `);
  const env = { ...process.env, TORCH_TRANSFER_NUM_THREADS: String(threads), ...mallocEnv, ...extraEnv };
  delete env.OMP_NUM_THREADS;
  const r = spawnSync(command, args, { cwd: ROOT, env, encoding: "utf8", maxBuffer: 64 << 20 });
  const seconds = (Date.now() - started) / 1000;
  if (r.status !== 0) {
    process.stderr.write(`failed (${seconds.toFixed(1)} s)\n${r.stderr}\n`);
    throw new Error(`bench: ${label} failed`);
  }
  process.stderr.write(`${seconds.toFixed(1)} s\n`);
  const lines = r.stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}
const python = (label, script, args, env) => run(label, PYTHON, [path.join(__dirname, "bench", script), ...args], env);
// Ours runs with the allocator settings our commands start with (lib/cli/allocator.ts);
// Python runs as its users run it, unless --malloc-env gives it the same.
const OURS_ENV = { MALLOC_ARENA_MAX: "1", ...MALLOC_ENV };
const node = (label, script, args, env) => run(label, process.execPath, [path.join(__dirname, "bench", script), JSON.stringify(args)], { ...OURS_ENV, ...env });
const tool = (command, args, env) => python(`python ${command}`, "tools.py", [command, JSON.stringify({ threads, ...args })], env);

/** The CPU's vector extensions, which set what libtorch's kernels can use (from /proc/cpuinfo). */
function cpuFlags() {
  const info = fs.existsSync("/proc/cpuinfo") ? fs.readFileSync("/proc/cpuinfo", "utf8") : "";
  const flags = ((info.match(/^flags\s*:(.*)$/m) || [])[1] || "").trim().split(/\s+/);
  return flags.filter((f) => /^(sse4_2|avx|avx2|fma|f16c|avx512\w*|amx\w*|avx_vnni)$/.test(f));
}

/**
 * Every registered architecture's train step, Python's then ours for each in
 * turn (each in its own process), so that both sides of a row meet the same
 * load on a shared machine; the load average is recorded beside each row.
 */
function backbones() {
  const { listModels } = require(path.join(ROOT, "dist", "models", "registry"));
  const archs = flags.archs ? flags.archs.split(",") : listModels();
  for (const a of archs) if (!listModels().includes(a)) throw new Error(`--archs: unknown architecture ${a} (registered: ${listModels().join(", ")})`);
  const args = { batch: 8, steps: positive(flags["backbone-steps"], "backbone-steps", quick ? 1 : 3), warmup: 1 };
  const partThreads = flags.threads ? threads : 2;
  const rows = [];
  for (const arch of archs) {
    const loadBefore = os.loadavg()[0];
    const py = run(`python ${arch} train step`, PYTHON, [path.join(__dirname, "bench", "backbones.py"), JSON.stringify({ arch, threads: partThreads, ...args })]);
    const ours = node(`ours ${arch} train step`, "backbones.js", { arch, ...args }, { TORCH_TRANSFER_NUM_THREADS: String(partThreads) });
    rows.push({ arch, python: py, ours, loadAverage: [loadBefore, os.loadavg()[0]] });
  }
  return { threads: partThreads, ...args, rows };
}

const started = Date.now();
const results = {
  machine: {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model,
    os: fs.existsSync("/etc/os-release") ? (fs.readFileSync("/etc/os-release", "utf8").match(/^PRETTY_NAME="?([^"\n]*)/m) || [])[1] : os.platform(),
    node: process.version,
    cpuFlags: cpuFlags(),
    // The instruction sets the kernels may use, where the environment narrows them (an AVX2 run on an AVX-512 CPU).
    isaLimits: Object.fromEntries(["ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "OPENBLAS_CORETYPE"].filter((v) => process.env[v]).map((v) => [v, process.env[v]])),
    loadAverageAtStart: os.loadavg(),
  },
  settings: { data, threads, workers, quick, limit, requests, concurrency: 8, mallocEnv: flags["malloc-env"] ? MALLOC_ENV : null, weights: "random init (weights=None): the ImageNet file cannot be downloaded here" },
};

try {
  const needWeights = only.some((p) => ["weights", "load", "serve", "http"].includes(p));
  if (needWeights) results.weights = tool("weights", { out: work });
  if (only.includes("load")) {
    const file = path.join(work, "resnet18-1000.pth");
    results.load = { python: tool("load", { file }), ours: node("ours load", "load.js", { file }) };
  }
  if (only.includes("flops")) {
    results.flops = {
      mm: tool("mm", {}),
      python: tool("step", { steps: quick ? 4 : 8 }),
      ours: node("ours step", "train.js", { data, workers, seed: 0, steps: quick ? 4 : 8 }).step,
    };
  }
  if (only.includes("decode")) {
    results.decode = { python: tool("decode", { data, limit }), ours: node("ours decode", "decode.js", { data, workers, limit }) };
  }
  if (only.includes("checkdata")) {
    results.checkData = node("ours check-data (decode every image once)", "checkData.js", { data, workers, limit });
  }
  const modes = ["finetune", "feature-extract"];
  if (only.includes("train")) {
    results.train = {
      python: python("python tutorial, 1 epoch of each mode", "tutorial.py", [JSON.stringify({ data, threads, modes, epochs: 1, limit, seed: 0 })]),
      ours: node("ours trainModel, 1 epoch of each mode", "train.js", { data, workers, seed: 0, modes, epochs: 1, limit }),
    };
  }
  if (only.includes("amp")) {
    // fp32 then amp on each side, Python's and ours interleaved, so that the same load weighs on all four.
    const epochs = positive(flags["amp-epochs"], "amp-epochs", quick ? 1 : 2);
    const { cpuBf16Enabled } = require(path.join(ROOT, "dist", "amp", "cpuBf16"));
    results.amp = { epochs, bf16: cpuBf16Enabled(), loadAverage: [os.loadavg()[0]] };
    // Then both again with the model in channels_last (--channels-last), the layout oneDNN's bf16 kernels prefer.
    for (const channelsLast of [false, true]) {
      for (const amp of [false, true]) {
        const label = `${amp ? "amp" : "fp32"}${channelsLast ? "_cl" : ""}`;
        const what = `${epochs} epochs, ${amp ? "amp" : "fp32"}${channelsLast ? ", channels_last" : ""}`;
        results.amp[`python_${label}`] = python(`python tutorial finetune, ${what}`, "tutorial.py", [JSON.stringify({ data, threads, modes: ["finetune"], epochs, limit, seed: 0, amp, channels_last: channelsLast })]);
        results.amp[`ours_${label}`] = node(`ours finetune, ${what}`, "train.js", { data, workers, seed: 0, modes: ["finetune"], epochs, limit, amp, channelsLast });
        results.amp.loadAverage.push(os.loadavg()[0]);
      }
    }
  }
  if (only.includes("breakdown")) {
    // Python, ours, Python, ours: other work on a shared machine then weighs on both alike.
    // Python's loader keeps the tutorial's 4 workers, as the train part runs it.
    const steps = quick ? 12 : null;
    results.breakdown = { python: [], ours: [], loadAverage: [] };
    for (let round = 0; round < 2; round++) {
      results.breakdown.loadAverage.push(os.loadavg()[0]);
      results.breakdown.python.push(python(`python step breakdown ${round + 1}/2`, "breakdown.py", [JSON.stringify({ data, threads, workers: 4, seed: round, steps })]));
      results.breakdown.ours.push(node(`ours step breakdown ${round + 1}/2`, "breakdown.js", { data, workers, seed: round, steps }));
    }
    results.breakdown.loadAverage.push(os.loadavg()[0]);
    // Ours again, interleaved, in the layouts and precisions --channels-last and --amp choose (one epoch each, 2 rounds).
    // bf16 only where --amp would use it: elsewhere it is emulated, slower than fp32.
    const bf16 = require(path.join(ROOT, "dist", "amp", "cpuBf16")).cpuBf16Enabled().enabled;
    const VARIANTS = { fp32: {}, fp32ChannelsLast: { channelsLast: true }, ...(bf16 ? { amp: { amp: true }, ampChannelsLast: { amp: true, channelsLast: true } } : {}) };
    results.breakdown.variants = Object.fromEntries(Object.keys(VARIANTS).map((k) => [k, []]));
    for (let round = 0; round < 2; round++) {
      for (const [name, extra] of Object.entries(VARIANTS)) {
        results.breakdown.variants[name].push(node(`ours epoch, ${name} ${round + 1}/2`, "breakdown.js", { data, workers, seed: round, steps, ...extra }));
      }
    }
  }
  if (only.includes("cache")) {
    results.cache = node("ours --cache-features, 25 epochs", "train.js", { data, workers, seed: 0, cacheEpochs: 25, limit }).cacheFeatures;
  }
  if (flags["malloc-compare"]) {
    // The same train-step and fine-tune measurements again, with the malloc settings (or without, under --malloc-env).
    const env = flags["malloc-env"] ? { MALLOC_MMAP_THRESHOLD_: "", MALLOC_TRIM_THRESHOLD_: "" } : MALLOC_ENV;
    const steps = quick ? 4 : 8;
    results.mallocCompare = {
      env: flags["malloc-env"] ? "unset" : MALLOC_ENV,
      python: {
        step: tool("step", { steps }, env),
        train: python("python tutorial finetune (malloc compare)", "tutorial.py", [JSON.stringify({ data, threads, modes: ["finetune"], epochs: 1, limit, seed: 0 })], env),
      },
      ours: {
        step: node("ours step (malloc compare)", "train.js", { data, workers, seed: 0, steps }, env).step,
        train: node("ours finetune (malloc compare)", "train.js", { data, workers, seed: 0, modes: ["finetune"], epochs: 1, limit }, env),
      },
    };
  }
  if (only.includes("serve")) {
    results.serve = node("serving: classify and onnxruntime-node, 8 concurrent requests", "serve.js", {
      data, dir: work, threads, requests, concurrency: 8, maxBatches: [1, 4], checkLogits: results.weights.checkLogits,
    });
  }
  if (only.includes("http")) {
    results.http = node(`http: npm run serve's server on loopback, 8 clients for ${quick ? 10 : 30} s`, "http.js", {
      data, dir: work, threads, clients: 8, seconds: quick ? 10 : 30, maxBatches: [1, 4],
    });
  }
  if (only.includes("backbones")) results.backbones = backbones();
  if (only.includes("soak")) {
    const calls = positive(flags["soak-calls"], "soak-calls", quick ? 500 : 10000);
    results.soak = node(`soak: ${calls} classify calls, 8 concurrent, maxBatch 4`, "soak.js", { data, dir: work, calls, window: Math.max(100, calls / 10), concurrency: 8, maxBatch: 4 });
  }
  if (only.includes("ddp")) {
    results.ddp = node("ours: 1 fine-tune epoch on 2 processes x 1 thread vs 1 process x 2 threads", "ddp.js", { data });
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
results.seconds = (Date.now() - started) / 1000;
results.machine.loadAverageAtEnd = os.loadavg();
results.rows = buildRows(results);
fs.writeFileSync(outFile, JSON.stringify(results, null, 2) + "\n");
process.stdout.write(formatTable(results) + `\nWrote ${outFile} (${results.seconds.toFixed(0)} s)\n`);
