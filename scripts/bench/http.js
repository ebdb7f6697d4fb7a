// HTTP serving: `npm run serve`'s server (lib/serve) on loopback, in its own
// process, under N concurrent clients for T seconds, each posting a val image
// and waiting for the answer before the next. Throughput (answers/s), p50 and
// p99 latency, and errors (anything but 200; none expected, since the queue
// is larger than N). Ours at each maxBatch, and onnxruntime-node behind the
// same server when it is installed.
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const path = require("path");
const { dist, now, runPart } = require("./common");

const tt = dist();
const { modelMetadata } = dist("train/checkpoint");

/** Starts httpServer.js with `args`; resolves to its URL and a stop() that SIGTERMs it and waits for exit. */
function startServer(args) {
  const child = spawn(process.execPath, [path.join(__dirname, "httpServer.js"), JSON.stringify(args)], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const line = out.split("\n")[0];
      if (out.includes("\n")) resolve({ url: line.trim(), stop: () => (child.kill("SIGTERM"), exited) });
    });
    child.on("exit", (code) => reject(new Error(`bench http server exited with ${code} before listening`)));
  });
}

async function load(url, images, { clients, seconds }) {
  const post = (body) => fetch(`${url}/v1/classify?topk=1`, { method: "POST", body, headers: { "content-type": "image/jpeg" } });
  for (let i = 0; i < clients; i++) await (await post(images[i % images.length])).arrayBuffer(); // warm-up
  const latencies = [];
  const errors = {};
  let next = 0;
  const started = now();
  const until = started + seconds;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (now() < until) {
      const body = images[next++ % images.length];
      const t = now();
      try {
        const response = await post(body);
        await response.arrayBuffer();
        if (response.status === 200) latencies.push(now() - t);
        else errors[response.status] = (errors[response.status] ?? 0) + 1;
      } catch (err) {
        errors[err.cause?.code ?? err.message] = (errors[err.cause?.code ?? err.message] ?? 0) + 1;
      }
    }
  }));
  const elapsed = now() - started;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] * 1000;
  return { clients, seconds: elapsed, answers: latencies.length, answersPerSecond: latencies.length / elapsed, p50ms: pct(50), p99ms: pct(99), errors };
}

runPart(async (args) => {
  const classes = ["ants", "bees"];
  const images = new tt.datasets.ImageFolder(path.join(args.data, "val")).samples.map(([file]) => fs.readFileSync(file));
  const checkpoint = path.join(args.dir, "http-model.safetensors");
  const loaded = await tt.load(path.join(args.dir, "resnet18-2.pth"));
  const model = tt.models.resnet18();
  model.fc = new tt.nn.Linear(512, 2);
  model.loadStateDict(loaded);
  for (const t of loaded.values()) t.dispose();
  const settings = { mode: "finetune", arch: "resnet18", data: args.data, epochs: 1, batchSize: 4, lr: 0.001, momentum: 0.9, stepSize: 7, gamma: 0.1, weights: "none", seed: 0, device: "cpu" };
  await tt.save(model.stateDict(), checkpoint, modelMetadata({ classes, settings }));

  const options = { clients: args.clients, seconds: args.seconds };
  const queue = args.clients * 2;
  const out = { clients: args.clients, seconds: args.seconds };
  for (const maxBatch of args.maxBatches) {
    const server = await startServer({ backend: "ours", checkpoint, maxBatch, queue });
    try {
      out[`oursMaxBatch${maxBatch}`] = { maxBatch, ...(await load(server.url, images, options)) };
    } finally {
      await server.stop();
    }
  }
  try {
    require.resolve("onnxruntime-node");
  } catch (err) {
    out.onnxruntime = { error: `onnxruntime-node is not installed (${err.message.split("\n")[0]})` };
    return out;
  }
  const server = await startServer({ backend: "onnxruntime", onnx: path.join(args.dir, "resnet18-2.onnx"), classes, threads: args.threads, queue });
  try {
    out.onnxruntime = { version: require("onnxruntime-node/package.json").version, ...(await load(server.url, images, options)) };
  } finally {
    await server.stop();
  }
  return out;
});
