// One fine-tune epoch on 2 processes of 1 thread each (--nproc-per-node 2)
// against 1 process of 2 threads, through the command itself, so the cost of
// communication shows; and the bytes all-reduced per step beside the model's size.
"use strict";
const { spawnSync } = require("child_process");
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

runPart(async ({ data }) => {
  const single = epoch(data, [], { TORCH_TRANSFER_NUM_THREADS: "2" });
  const port = await freePort();
  const two = epoch(data, ["--nproc-per-node", "2", "--master-port", String(port)], { TORCH_TRANSFER_NUM_THREADS: "1" });
  // DDP all-reduces every trainable gradient once per step: ResNet-18 with a 2-class fc.
  const parameters = 11_689_512 - 513_000 + 1_026;
  return { single, two, bytesPerStep: parameters * 4, modelBytes: parameters * 4, stepsPerEpochPerRank: Math.ceil(single.images / 2 / 4) };
});
