#!/usr/bin/env node
// npm run fuzz -- --minutes N [--seed S] [--data DIR] [--keep DIR]
//
// Fuzzes our parsers (unpickler, zip, torch.save, safetensors, BMP, PPM/PGM,
// JPEG) with seeded mutations of real files for N minutes, in a child process
// that is restarted after a crash. Findings (a crash, a hang, an error that
// does not name the file, an allocation past the file's claims) are listed
// with their seed and case number, which replay them exactly, and their
// inputs are kept in --keep (default ./fuzz-findings). Needs `npm run build`.
"use strict";
const { fork } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { parseArgs } = require("util");

const { values: flags } = parseArgs({
  options: {
    minutes: { type: "string" }, seed: { type: "string" }, data: { type: "string" }, keep: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (flags.help || flags.minutes === undefined) {
  process.stdout.write(fs.readFileSync(__filename, "utf8").split("\n").slice(1, 10).map((l) => l.replace(/^\/\/ ?/, "")).join("\n") + "\n");
  process.exit(flags.help ? 0 : 1);
}
const minutes = Number(flags.minutes);
if (!(minutes > 0)) {
  console.error(`Expected a positive number for --minutes but received ${flags.minutes}`);
  process.exit(1);
}
const seed = flags.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(flags.seed);
const dataRoot = path.resolve(flags.data ?? process.env.TORCH_TRANSFER_DATA ?? "data/hymenoptera_data");
const keep = path.resolve(flags.keep ?? "fuzz-findings");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "tt-fuzz-"));
const deadline = Date.now() + minutes * 60_000;
// A case that runs this long without finishing is reported as a hang (the slowest
// seen take milliseconds; this leaves room for a machine under heavy load).
const HANG_MS = 60_000;

const total = { cases: 0, read: 0, refused: 0 };
const findings = [];

function keepInput(info, problem) {
  fs.mkdirSync(keep, { recursive: true });
  const name = `seed${info.seed}-case${info.index}${path.extname(info.file)}`;
  if (fs.existsSync(info.file)) fs.copyFileSync(info.file, path.join(keep, name));
  findings.push({ ...info, problem, kept: path.join(keep, name) });
  console.log(`FINDING seed ${info.seed} case ${info.index} (${info.seedFile}: ${info.how}): ${problem}`);
}

function runWorker(from) {
  return new Promise((resolve) => {
    const child = fork(path.join(__dirname, "fuzz", "worker.js"), [String(seed), String(from), String(deadline), work, dataRoot]);
    let next = from;
    let lastProgress = Date.now();
    const current = path.join(work, "current.json");
    const watchdog = setInterval(() => {
      const touched = fs.existsSync(current) ? fs.statSync(current).mtimeMs : lastProgress;
      if (Date.now() - Math.max(touched, lastProgress) > HANG_MS) {
        clearInterval(watchdog);
        child.kill("SIGKILL");
        const info = JSON.parse(fs.readFileSync(current, "utf8"));
        keepInput(info, `hang: no progress for ${HANG_MS / 1000} s`);
        resolve(info.index + 1);
      }
    }, 1000);
    child.on("message", ({ next: n, stats }) => {
      lastProgress = Date.now();
      next = n;
      total.cases += stats.cases;
      total.read += stats.read;
      total.refused += stats.refused;
      for (const f of stats.failures) keepInput(f, f.problem);
      process.stdout.write(`\r${total.cases} cases, ${findings.length} findings`);
    });
    child.on("exit", (code, signal) => {
      clearInterval(watchdog);
      if (code === 0 && signal === null) return resolve(null);
      if (signal === "SIGKILL" && Date.now() - lastProgress > HANG_MS) return; // the watchdog resolved it
      const info = fs.existsSync(current) ? JSON.parse(fs.readFileSync(current, "utf8")) : null;
      if (!info || info.index < next) {
        console.error(`\nthe fuzz worker failed before its first case (exit ${code ?? signal})`);
        return resolve(null);
      }
      keepInput(info, `crash: the process ended with ${signal ?? `exit code ${code}`}`);
      resolve(info.index + 1);
    });
  });
}

(async () => {
  console.log(`fuzzing for ${minutes} min with seed ${seed} (replay: npm run fuzz -- --minutes ${minutes} --seed ${seed})`);
  for (let from = 0; from !== null && Date.now() < deadline;) from = await runWorker(from);
  fs.rmSync(work, { recursive: true, force: true });
  console.log(`\n${total.cases} cases: ${total.read} read, ${total.refused} refused with an Error naming the file; ${findings.length} findings`);
  process.exit(findings.length === 0 ? 0 : 1);
})();
