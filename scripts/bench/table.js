// The bench's table: one row per figure, Python (or the reference) beside ours,
// and a ratio oriented so that above 1 means ours is better (Python time / ours,
// or our rate / the reference rate).
"use strict";

const GFLOP_FORWARD = 3.64; // ResNet-18 at 224: about 1.82 GMACs per image
const GFLOP_TRAIN = 3 * GFLOP_FORWARD; // forward + backward (about twice the forward)

const record = (side, mode, phase) => side.modes[mode].records.find((r) => r.phase === phase);

function buildRows(r) {
  const rows = [];
  const add = (section, name, python, ours, kind, note) => {
    const ratio = python == null || ours == null ? null : kind === "time" ? python / ours : kind === "rate" ? ours / python : null;
    rows.push({ section, name, python, ours, unit: kind === "time" ? "s" : kind, ratio, note });
  };
  if (r.checkData) {
    const c = r.checkData;
    add("check-data", `decode every image once (${c.images} files), images/s`, null, c.images / c.seconds, "rate", "no Python counterpart");
    add("check-data", "images per CPU-second", null, c.images / c.cpuSeconds, "rate");
  }
  if (r.train) {
    const { python: p, ours: o } = r.train;
    const n = (side, phase) => record(side, "finetune", phase).images;
    add("train", `finetune train phase (${n(p, "train")} images)`, record(p, "finetune", "train").seconds, record(o, "finetune", "train").seconds, "time");
    add("train", `finetune val phase (${n(p, "val")} images)`, record(p, "finetune", "val").seconds, record(o, "finetune", "val").seconds, "time");
    add("train", "feature-extract train phase", record(p, "feature-extract", "train").seconds, record(o, "feature-extract", "train").seconds, "time");
    add("train", "feature-extract val phase", record(p, "feature-extract", "val").seconds, record(o, "feature-extract", "val").seconds, "time");
    for (const mode of ["finetune", "feature-extract"]) {
      add("train", `${mode} 25 epochs (25 x one epoch)`, 25 * p.modes[mode].wall, 25 * o.modes[mode].wall, "time");
    }
    add("train", "feature-extract val acc after 1 epoch", record(p, "feature-extract", "val").acc, record(o, "feature-extract", "val").acc, "acc", "random init");
  }
  if (r.amp) {
    const a = r.amp;
    // Summed over epochs: one epoch's phase is short enough for a load spike to dominate it.
    const phaseSeconds = (side, phase) => side.modes.finetune.records.filter((x) => x.phase === phase).reduce((t, x) => t + x.seconds, 0);
    const lastAcc = (side) => side.modes.finetune.records.filter((x) => x.phase === "val").pop().acc;
    const how = a.bf16.enabled ? "bf16 autocast" : `fp32 (${a.bf16.why})`;
    const la = `load ${a.loadAverage.map((x) => x.toFixed(1)).join(" / ")}`;
    rows.push({ section: "amp", name: `(finetune, ${a.epochs} epochs each; --amp here runs ${how}; "fp32 vs amp" rows: reference = fp32, ours = amp on the same side)`, python: null, ours: null, unit: "", ratio: null });
    for (const phase of ["train", "val"]) {
      add("amp", `${phase} phases, fp32 vs amp, ours`, phaseSeconds(a.ours_fp32, phase), phaseSeconds(a.ours_amp, phase), "time", phase === "train" ? la : undefined);
      add("amp", `${phase} phases, fp32 vs amp, Python`, phaseSeconds(a.python_fp32, phase), phaseSeconds(a.python_amp, phase), "time");
      add("amp", `${phase} phases under amp, Python vs ours`, phaseSeconds(a.python_amp, phase), phaseSeconds(a.ours_amp, phase), "time");
    }
    add("amp", "val acc after the last epoch, fp32 vs amp, ours", lastAcc(a.ours_fp32), lastAcc(a.ours_amp), "acc", "random init");
    add("amp", "val acc after the last epoch, fp32 vs amp, Python", lastAcc(a.python_fp32), lastAcc(a.python_amp), "acc", "random init");
    if (a.ours_fp32_cl) {
      // reference = the contiguous model's run, ours = the channels_last one's, on each side.
      for (const [side, name] of [["ours", "ours"], ["python", "Python"]]) {
        add("amp", `train phases, fp32 vs fp32 channels_last, ${name}`, phaseSeconds(a[`${side}_fp32`], "train"), phaseSeconds(a[`${side}_fp32_cl`], "train"), "time");
        add("amp", `train phases, amp vs amp channels_last, ${name}`, phaseSeconds(a[`${side}_amp`], "train"), phaseSeconds(a[`${side}_amp_cl`], "train"), "time");
        add("amp", `train phases, fp32 vs amp channels_last${side === "ours" ? " (what --amp runs on CPU)" : ""}, ${name}`, phaseSeconds(a[`${side}_fp32`], "train"), phaseSeconds(a[`${side}_amp_cl`], "train"), "time");
      }
      add("amp", "train phases under amp channels_last, Python vs ours", phaseSeconds(a.python_amp_cl, "train"), phaseSeconds(a.ours_amp_cl, "train"), "time");
      add("amp", "val acc after the last epoch, fp32 vs amp, channels_last, ours", lastAcc(a.ours_fp32_cl), lastAcc(a.ours_amp_cl), "acc", "random init");
      add("amp", "val acc after the last epoch, fp32 vs amp, channels_last, Python", lastAcc(a.python_fp32_cl), lastAcc(a.python_amp_cl), "acc", "random init");
    }
  }
  if (r.cache && r.train) {
    const tutorial25 = 25 * r.train.python.modes["feature-extract"].wall;
    add("train", "feature-extract 25 epochs: tutorial (25 x 1 epoch) vs ours --cache-features", tutorial25, r.cache.wall, "time", "linear probe: another method");
    add("train", "val acc: tutorial feature-extract (1 epoch) vs --cache-features (best of 25)", record(r.train.python, "feature-extract", "val").acc, r.cache.bestAcc, "acc", "random init");
  }
  if (r.decode) {
    for (const phase of ["train", "val"]) {
      const p = r.decode.python[phase], o = r.decode.ours[phase];
      add("decode", `${phase} transform, images/s`, p.images / p.seconds, o.images / o.seconds, "rate");
      add("decode", `${phase} transform, images per CPU-second`, p.images / p.cpuSeconds, o.images / o.cpuSeconds, "rate");
    }
  }
  if (r.flops) {
    const { python: p, ours: o, mm } = r.flops;
    add("flops", "bare train step, batch 4, GFLOP/s", p.trainImagesPerSecond * GFLOP_TRAIN, o.trainImagesPerSecond * GFLOP_TRAIN, "rate");
    add("flops", "eval forward, batch 4, GFLOP/s", p.evalImagesPerSecond * GFLOP_FORWARD, o.evalImagesPerSecond * GFLOP_FORWARD, "rate");
    if (r.train) {
      const ips = (side) => record(side, "finetune", "train").images / record(side, "finetune", "train").seconds;
      add("flops", "finetune train phase (with data), GFLOP/s", ips(r.train.python) * GFLOP_TRAIN, ips(r.train.ours) * GFLOP_TRAIN, "rate");
    }
    add("flops", "machine: sgemm 2048x2048 (torch.mm, OpenBLAS), GFLOP/s", mm.gflops, null, "rate");
  }
  if (r.breakdown) {
    // The mean over the interleaved runs of each side's per-step seconds.
    const mean = (runs, part) => runs.reduce((a, run) => a + run.perStepSeconds[part], 0) / runs.length;
    const la = r.breakdown.loadAverage.map((x) => x.toFixed(1)).join(" / ");
    for (const part of ["data", "forward", "backward", "optimizer"]) {
      add("breakdown", `finetune train step: ${part === "data" ? "waiting for data" : part}, s per step`, mean(r.breakdown.python, part), mean(r.breakdown.ours, part), "time",
        part === "data" ? `load average ${la}` : undefined);
    }
    const v = r.breakdown.variants;
    if (v) {
      // reference = our fp32 contiguous epoch (the default), ours = the variant; the mean of the interleaved rounds.
      const wall = (runs) => runs.reduce((a, run) => a + run.wall, 0) / runs.length;
      for (const [name, label] of [["fp32ChannelsLast", "fp32, channels_last"], ["amp", "bf16 autocast"], ["ampChannelsLast", "bf16 autocast, channels_last (what --amp runs on CPU)"]]) {
        if (v[name]) add("breakdown", `our train epoch, fp32 vs ${label}`, wall(v.fp32), wall(v[name]), "time");
      }
    }
  }
  if (r.load) {
    add("load", "tt.load (mapped) vs torch.load, 46 MB ResNet-18 .pth (best of 3)", r.load.python.bestSeconds, r.load.ours.bestSeconds, "time");
    if (r.load.ours.copiedBestSeconds != null) {
      add("load", "tt.load({ mmap: false }) vs torch.load", r.load.python.bestSeconds, r.load.ours.copiedBestSeconds, "time");
    }
    if (r.load.ours.intoModelBestSeconds != null && r.load.python.intoModelBestSeconds != null) {
      add("load", "load + loadStateDict into a resnet18 (the pages read)", r.load.python.intoModelBestSeconds, r.load.ours.intoModelBestSeconds, "time");
    }
  }
  if (r.serve) {
    const sv = r.serve;
    const load = (l) => `load ${l.map((v) => v.toFixed(1)).join("-")}`;
    rows.push({ section: "serve", name: "(model alone, no decoding; reference: onnxruntime-node on our exporter's file; images/s, median of rounds)", python: null, ours: null, unit: "", ratio: null });
    for (const [key, m] of Object.entries(sv.modelOnly || {})) {
      const ref = m.onnxruntime ? m.onnxruntime.imagesPerSecond : null;
      for (const [name, v] of Object.entries(m).filter(([k]) => k !== "onnxruntime" && k !== "loadAverage")) {
        add("serve", `${key}: ${name}`, ref, v.imagesPerSecond, "rate", load(m.loadAverage));
      }
    }
    rows.push({ section: "serve", name: `(classify, ${r.settings.concurrency} concurrent requests, our decoder and batching for every engine; reference: engine "onnxruntime")`, python: null, ours: null, unit: "", ratio: null });
    for (const c of sv.classify || []) {
      if (c.engine === "onnxruntime") continue;
      const x = (sv.classify || []).find((o) => o.engine === "onnxruntime" && o.maxBatch === c.maxBatch);
      add("serve", `maxBatch ${c.maxBatch}, ${c.engine}: images/s`, x ? x.imagesPerSecond : null, c.imagesPerSecond, "rate", load(c.loadAverage));
      add("serve", `maxBatch ${c.maxBatch}, ${c.engine}: p99 latency`, x ? x.p99ms / 1000 : null, c.p99ms / 1000, "time", `p50 ${(c.p50ms / 1000).toFixed(3)} s${x ? ` vs ${(x.p50ms / 1000).toFixed(3)}` : ""}`);
      add("serve", `maxBatch ${c.maxBatch}, ${c.engine}: event loop's worst delay`, x ? x.maxEventLoopDelayMs / 1000 : null, c.maxEventLoopDelayMs / 1000, "time");
    }
    if (sv.onnxruntimeError) add("serve", "onnxruntime-node", null, null, "", sv.onnxruntimeError);
  }
  if (r.soak) {
    const k = r.soak;
    rows.push({ section: "soak", name: `(${k.calls} classify calls, ${k.concurrency} concurrent, maxBatch ${k.maxBatch}; first window vs last)`, python: null, ours: null, unit: "", ratio: null });
    const first = k.windows[0], last = k.windows[k.windows.length - 1];
    add("soak", `RSS MB after ${first.calls} calls vs after ${last.calls}`, first.rssMB, last.rssMB, "MB");
    add("soak", "p99 latency, first window vs last", first.p99ms / 1000, last.p99ms / 1000, "time");
    add("soak", "p99 latency over all calls", null, k.p99ms / 1000, "time", `p50 ${(k.p50ms / 1000).toFixed(3)} s`);
  }
  if (r.http) {
    const h = r.http;
    const x = h.onnxruntime && !h.onnxruntime.error ? h.onnxruntime : null;
    const errors = (side) => Object.entries(side.errors).map(([k, n]) => `${n} x ${k}`).join(", ") || "none";
    rows.push({ section: "http", name: `(reference: onnxruntime-node behind the same server; ${h.clients} clients, ${h.seconds} s on loopback)`, python: null, ours: null, unit: "", ratio: null });
    for (const b of Object.entries(h).filter(([k]) => k.startsWith("oursMaxBatch")).map(([, b]) => b)) {
      add("http", `serve --max-batch ${b.maxBatch}: answers/s`, x && x.answersPerSecond, b.answersPerSecond, "rate");
      add("http", `serve --max-batch ${b.maxBatch}: p50 latency`, x && x.p50ms / 1000, b.p50ms / 1000, "time");
      add("http", `serve --max-batch ${b.maxBatch}: p99 latency`, x && x.p99ms / 1000, b.p99ms / 1000, "time");
      add("http", `serve --max-batch ${b.maxBatch}: errors`, null, null, "", `ours: ${errors(b)}${x ? `; onnxruntime: ${errors(x)}` : ""}`);
    }
    if (h.onnxruntime && h.onnxruntime.error) add("http", "onnxruntime-node", null, null, "", h.onnxruntime.error);
  }
  if (r.mallocCompare) {
    const m = r.mallocCompare;
    const base = r.flops, tr = r.train;
    for (const side of ["python", "ours"]) {
      if (base) add("malloc", `${side}: bare train step img/s, malloc env ${m.env === "unset" ? "unset" : "set"} vs not`, base[side].trainImagesPerSecond, m[side].step.trainImagesPerSecond, "rate", "ratio = with / without");
      if (tr) add("malloc", `${side}: finetune train phase s, malloc env ${m.env === "unset" ? "unset" : "set"} vs not`, record(tr[side], "finetune", "train").seconds, record(m[side].train, "finetune", "train").seconds, "time");
    }
  }
  if (r.backbones) {
    const b = r.backbones;
    rows.push({ section: "backbones", name: `(train step: forward, loss, backward, SGD; batch ${b.batch}, ${b.threads} threads, ${b.steps} steps after ${b.warmup} warm-up; images/s)`, python: null, ours: null, unit: "", ratio: null });
    for (const row of b.rows) {
      add("backbones", row.arch, row.python.trainImagesPerSecond, row.ours.trainImagesPerSecond, "rate", `load ${row.loadAverage.map((l) => l.toFixed(1)).join("-")}`);
    }
  }
  if (r.ddp) {
    const { single, two } = r.ddp;
    // Here "python" is our single process: the ratio is 1 process / 2 processes.
    rows.push({ section: "ddp", name: "(reference: ours, 1 process x 2 threads; ours: 2 processes x 1 thread, Gloo)", python: null, ours: null, unit: "", ratio: null });
    add("ddp", "fine-tune train phase, one epoch", single.train, two.train, "time");
    add("ddp", "fine-tune val phase, one epoch", single.val, two.val, "time");
    add("ddp", "MB all-reduced per step / model MB", r.ddp.modelBytes / 1e6, r.ddp.bytesPerStep / 1e6, "MB");
    if (r.ddp.step) {
      // Reference: the plain step in 1 process of 1 thread; ours: the DDP step
      // on each of 2 such processes (fastest of 12), all-reduce overlapping backward.
      add("ddp", "one train step, 4 images: 1 process vs DDP 2 processes (1 thread each, fastest)", r.ddp.step.local.min, r.ddp.step.ddp.min, "time");
    }
  }
  return rows;
}

function fmt(v, unit) {
  if (v == null) return "";
  if (unit === "acc") return v.toFixed(3);
  if (unit === "s") return v < 10 ? v.toFixed(2) : v.toFixed(1);
  return v < 10 ? v.toFixed(2) : v.toFixed(1);
}

function formatTable(r) {
  const rows = r.rows;
  const head = ["", "Python / reference", "ours", "ratio"];
  const body = rows.map((x) => [
    `${x.name}${x.unit && x.unit !== "rate" && x.unit !== "acc" ? ` (${x.unit})` : ""}${x.note ? ` [${x.note}]` : ""}`,
    fmt(x.python, x.unit), fmt(x.ours, x.unit), x.ratio == null ? "" : x.ratio.toFixed(2),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) => "| " + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ") + " |";
  const out = [line(head), "|" + widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")).join("|") + "|"];
  let section = null;
  rows.forEach((x, i) => {
    if (x.section !== section) {
      section = x.section;
      out.push(line([`**${section}**`, "", "", ""]));
    }
    out.push(line(body[i]));
  });
  const s = r.settings;
  out.push("", `CPU: ${r.machine.cpuModel} (${r.machine.cpus} available to this process)${r.machine.cpuFlags ? `, flags ${r.machine.cpuFlags.join(" ")}` : ""}`);
  const limits = Object.entries(r.machine.isaLimits ?? {});
  if (limits.length) out.push(`kernels limited by the environment, Python's and ours alike: ${limits.map(([k, v]) => `${k}=${v}`).join(" ")}`);
  out.push(`load average (1 min) at start ${r.machine.loadAverageAtStart[0].toFixed(2)}, at end ${r.machine.loadAverageAtEnd[0].toFixed(2)}`);
  out.push(`threads ${s.threads}, decode workers ${s.workers}${s.quick ? ", --quick (subsampled)" : ""}; ${s.weights}; ratio above 1: ours is faster (Python time / ours, or our rate / the reference's)`);
  return out.join("\n");
}

module.exports = { buildRows, formatTable, GFLOP_FORWARD, GFLOP_TRAIN };
