// One fine-tune epoch on 2 processes of 1 thread each (--nproc-per-node 2)
// against 1 process of 2 threads, through the command itself, so the cost of
// communication shows; one train step on a fixed batch, 2 DDP processes
// against 1 process, 1 thread each, so what the all-reduce adds beyond what it
// overlaps with backward shows; and the bytes all-reduced per step beside the
// model's size.
"use strict";
const { spawn, spawnSync } = require("child_process");
const fs = require("fs");
const net = require("net");
const os = require("os");
const path = require("path");
const { runPart } = require("./common");

const ROOT = path.resolve(__dirname, "..", "..");

const freePort = () =>
  new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

function epoch(data, extraArgs, env) {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "tt-bench-ddp-"));
  try {
    const started = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [path.join(ROOT, "dist", "cli", "finetune.js"), "--data", data, "--epochs", "1", "--weights", "none",
      "--no-report", "--json", "--seed", "0", "--out", path.join(out, "run"), ...extraArgs], { encoding: "utf8", env: { ...process.env, ...env } });
    if (r.status !== 0) throw new Error(`finetune ${extraArgs.join(" ")} failed: ${r.stderr}`);
    const wall = Number(process.hrtime.bigint() - started) / 1e9;
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    const phase = (p) => lines.find((l) => l.phase === p);
    return { wall, train: phase("train").seconds, val: phase("val").seconds, images: phase("train").images };
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

/** Runs ddpStep.js on `worldSize` processes of 1 thread; rank 0's figures. */
function steps(data, worldSize, port) {
  const ranks = Array.from({ length: worldSize }, (_, rank) =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [path.join(__dirname, "ddpStep.js"), JSON.stringify({ data, rank, worldSize, port, steps: 12, mode: "finetune" })], {
        env: { ...process.env, TORCH_TRANSFER_NUM_THREADS: "1" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "", err = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (err += d));
      child.on("close", (code) => (code === 0 ? resolve(JSON.parse(out.trim())) : reject(new Error(`ddpStep.js rank ${rank} failed: ${err}`))));
    }),
  );
  return Promise.all(ranks).then((all) => all[0]);
}

runPart(async ({ data }) => {
  const single = epoch(data, [], { TORCH_TRANSFER_NUM_THREADS: "2" });
  const port = await freePort();
  const two = epoch(data, ["--nproc-per-node", "2", "--master-port", String(port)], { TORCH_TRANSFER_NUM_THREADS: "1" });
  const step = { local: await steps(data, 1, 0), ddp: await steps(data, 2, await freePort()) };
  // ResNet-18 with a 2-class fc; DDP all-reduces every trainable gradient once per step (measured).
  const parameters = 11_689_512 - 513_000 + 1_026;
  return { single, two, step, bytesPerStep: step.ddp.bytesPerStep, modelBytes: parameters * 4, stepsPerEpochPerRank: Math.ceil(single.images / 2 / 4) };
});
