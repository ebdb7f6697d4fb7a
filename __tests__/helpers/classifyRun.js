// loadClassifier in a plain Node process, on the built package: inside jest's
// sandbox onnxruntime-common rejects the arrays its own addon returns.
// argv: a JSON { model, engine, maxBatch, images, disposeOnFirstBatch }; prints JSON
// { engine, results (each image's predictions, all classes), batches (sizes in order), maxLogit },
// or with disposeOnFirstBatch { batches, settled: "answered" or the error's message, per image }.
"use strict";
const path = require("path");
const tt = require(path.resolve(__dirname, "../../dist"));

(async () => {
  const { model, engine, maxBatch, images, disposeOnFirstBatch } = JSON.parse(process.argv[2]);
  const classifier = await tt.loadClassifier(model, { engine, maxBatch });
  const batches = [];
  classifier.onBatch((size) => batches.push(size));
  if (disposeOnFirstBatch) {
    // dispose() while the first batch runs: listeners hear of a batch just before it goes to the model,
    // so the next tick is after it has started. That batch is answered, the images waiting are refused.
    classifier.onBatch(() => process.nextTick(() => classifier.dispose()));
    const settled = await Promise.allSettled(images.map((image) => classifier.classify(image)));
    process.stdout.write(JSON.stringify({ batches, settled: settled.map((s) => (s.status === "fulfilled" ? "answered" : s.reason.message)) }));
    return;
  }
  // All at once, so that images wait while the model is busy and share batches.
  const results = await Promise.all(images.map((image) => classifier.classify(image)));
  let maxLogit = null;
  if (classifier.engine === "libtorch") {
    // The largest |logit| over these images, which bounds how far two engines' probabilities may differ.
    const transform = tt.dataTransforms.val();
    maxLogit = 0;
    for (const image of images) {
      const x = await transform.forward(await tt.decodeImage(image));
      const batch = tt.stack([x]);
      const y = await tt.noGrad(() => classifier.model.forward(batch));
      for (const v of await y.data()) maxLogit = Math.max(maxLogit, Math.abs(v));
      [x, batch, y].forEach((t) => t.dispose());
    }
  }
  process.stdout.write(JSON.stringify({ engine: classifier.engine, results, batches, maxLogit }));
  classifier.dispose();
})().catch((err) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
});
