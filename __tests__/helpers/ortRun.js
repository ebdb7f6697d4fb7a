// Runs an ONNX file through onnxruntime-node in a plain Node process: inside
// jest's sandbox, onnxruntime-common rejects the output arrays its own addon
// makes (they come from another realm's Float32Array).
// argv: MODEL.onnx INPUTS.json, where INPUTS.json is [{ shape, data }];
// prints { inputs: the session's inputMetadata, results: [{ dims, data }] } as JSON.
"use strict";
const fs = require("fs");
const ort = require("onnxruntime-node");

(async () => {
  const [file, inputsFile] = process.argv.slice(2);
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const out = [];
  for (const { shape, data } of JSON.parse(fs.readFileSync(inputsFile, "utf8"))) {
    const { logits } = await session.run({ input: new ort.Tensor("float32", Float32Array.from(data), shape) });
    out.push({ dims: logits.dims, data: Array.from(logits.data) });
  }
  process.stdout.write(JSON.stringify({ inputs: session.inputMetadata, results: out }));
})().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
