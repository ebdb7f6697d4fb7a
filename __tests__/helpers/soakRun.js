// The soak's service in a process of its own, on the built package, so that RSS is
// the classifier's alone (soak.test.ts says why, and why with one glibc arena).
// argv: a JSON { model, good, bad, calls, clients, badEvery, warmUp, lateCalls }; prints JSON
// { outcomes (per call: "answered", "rejected", or what went wrong), rssAfterWarmUp, rssLate (bytes) }.
"use strict";
const path = require("path");
const tt = require(path.resolve(__dirname, "../../dist"));

(async () => {
  const { model, good, bad, calls, clients, badEvery, warmUp, lateCalls } = JSON.parse(process.argv[2]);
  const classifier = await tt.loadClassifier(model);
  const outcomes = new Array(calls);
  let done = 0;
  let rssAfterWarmUp = 0;
  const rssLate = [];
  const client = async (id) => {
    for (let call = id; call < calls; call += clients) {
      const isBad = call % badEvery === badEvery - 1;
      const image = isBad ? bad[(call / badEvery) % bad.length | 0] : good[call % good.length];
      try {
        const predictions = await classifier.classify(image);
        const sum = predictions.reduce((a, p) => a + p.probability, 0);
        // float32 softmax of 2 logits sums to 1 within a few ulps
        outcomes[call] = !isBad && predictions.length === 2 && Math.abs(sum - 1) < 1e-5
          ? "answered" : `answered ${image} with ${JSON.stringify(predictions)}`;
      } catch (err) {
        outcomes[call] = isBad && err instanceof Error && err.message.includes(image) ? "rejected" : `rejected ${image}: ${err.message}`;
      }
      done++;
      if (done === warmUp) rssAfterWarmUp = process.memoryUsage().rss;
      if (done > calls - lateCalls && done % 10 === 0) rssLate.push(process.memoryUsage().rss);
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, id) => client(id)));
  classifier.dispose();
  process.stdout.write(JSON.stringify({ outcomes, rssAfterWarmUp, rssLate }));
})().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
