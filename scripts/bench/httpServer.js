// The bench's HTTP server (a child of http.js, so that the load generator does
// not share its event loop): lib/serve's server around our Classifier, or
// around onnxruntime-node on the same weights with the same preprocessing.
// Prints its URL, serves until SIGTERM.
"use strict";
const { dist } = require("./common");

const tt = dist();
const { createServer } = dist("serve/app");

/** onnxruntime-node behind the same routes: what createServer uses of a Classifier. */
async function onnxClassifier(file, classes, threads) {
  const ort = require("onnxruntime-node");
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: threads, interOpNumThreads: 1, executionProviders: ["cpu"] });
  const transform = tt.dataTransforms.val();
  const listeners = [];
  return {
    classes,
    maxBatch: 1,
    queueDepth: 0,
    onBatch: (listener) => listeners.push(listener),
    async classify(image, { topk } = {}) {
      const x = await transform.forward(await tt.decodeImage(image));
      const data = await x.data();
      x.dispose();
      listeners.forEach((l) => l(1));
      const logits = Array.from((await session.run({ input: new ort.Tensor("float32", data, [1, 3, 224, 224]) })).logits.data);
      const m = Math.max(...logits);
      const e = logits.map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((v, i) => ({ label: classes[i], probability: v / s }))
        .sort((a, b) => b.probability - a.probability).slice(0, topk ?? classes.length);
    },
  };
}

(async () => {
  const args = JSON.parse(process.argv[2]);
  const classifier = args.backend === "onnxruntime"
    ? await onnxClassifier(args.onnx, args.classes, args.threads)
    : await tt.loadClassifier(args.checkpoint, { maxBatch: args.maxBatch });
  const { app } = createServer(classifier, { queue: args.queue });
  process.stdout.write(`${await app.listen({ host: "127.0.0.1", port: 0 })}\n`);
  process.once("SIGTERM", () => void app.close().then(() => process.exit(0)));
})().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
