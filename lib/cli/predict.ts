#!/usr/bin/env node
// npm run predict -- --model FILE IMAGE...: each image's label and probability.
import { loadClassifier } from "../classifier";
import { checkDevice } from "../device";
import { intFlag, parseFlags, runMain, UsageError } from "./usage";

const FLAGS = {
  model: { type: "string" },
  topk: { type: "string" },
  device: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const USAGE = "usage: npm run predict -- --model FILE [--topk N] [--device cpu|cuda:N] [--json] IMAGE...";

export async function main(argv: string[]): Promise<number> {
  const { values: flags, positionals: images } = parseFlags(argv, FLAGS, true);
  if (flags.help) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  if (!flags.model) throw new UsageError(`--model is required\n${USAGE}`);
  if (images.length === 0) throw new UsageError(`give at least one image\n${USAGE}`);
  const topk = intFlag(flags.topk, "topk", 1);
  const device = flags.device ?? "cpu";
  try {
    checkDevice(device, "--device");
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const classifier = await loadClassifier(flags.model, { device });
  let failures = 0;
  // Decoding overlaps across images; the model takes them one at a time.
  const results = await Promise.allSettled(images.map((image) => classifier.classify(image, { topk })));
  results.forEach((result, i) => {
    if (result.status === "rejected") {
      failures++;
      process.stderr.write(`predict: ${(result.reason as Error).message}\n`);
      return;
    }
    const [best] = result.value;
    if (flags.json) {
      process.stdout.write(JSON.stringify({ image: images[i], label: best.label, probability: best.probability, topk: result.value }) + "\n");
    } else {
      const rest = result.value.slice(1).map((p) => `${p.label} ${p.probability.toFixed(4)}`).join(", ");
      process.stdout.write(`${images[i]}: ${best.label} ${best.probability.toFixed(4)}${rest ? ` (then ${rest})` : ""}\n`);
    }
  });
  return failures ? 1 : 0;
}

if (require.main === module) runMain("predict", () => main(process.argv.slice(2)));
