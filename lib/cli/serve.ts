#!/usr/bin/env node
// npm run serve -- --model RUN: classify images over HTTP, with a page to try it on.
import { loadClassifier } from "../classifier";
import { createServer } from "../serve/app";
import { CommandSpec, FlagTable, helpText, parseCommand } from "./flags";
import { intFlag, runMain, UsageError } from "./usage";
import { deviceFlag, modelFlag } from "./modelFlags";

const FLAGS = {
  model: { type: "string", value: "RUN", help: "a run folder (its model.safetensors) or a model.safetensors file (with --engine onnxruntime, also an .onnx from npm run export); required" },
  engine: { type: "string", value: "libtorch|onnxruntime", default: "libtorch", help: "what runs the model: libtorch, or onnxruntime-node (an optional package) on the model exported to ONNX" },
  host: { type: "string", value: "HOST", default: "127.0.0.1", help: "the address to listen on (0.0.0.0: every interface)" },
  port: { type: "string", value: "N", default: "8080", help: "the port to listen on (0: any free one)" },
  "max-batch": { type: "string", value: "N", default: "4", help: "the most images per model call: concurrent requests share batches" },
  "max-body-bytes": { type: "string", value: "N", default: "10485760", help: "the largest request body; larger ones are answered 413" },
  queue: { type: "string", value: "N", default: "64", help: "the most classify requests in flight; more are answered 503 with Retry-After" },
  "timeout-ms": { type: "string", value: "N", default: "30000", help: "how long a request may wait for its answer before a 503" },
  device: { type: "string", value: "cpu|cuda|cuda:N", default: "cpu", help: "where the model runs" },
  log: { type: "boolean", help: "log each request as a JSON line" },
} as const satisfies FlagTable;

export const SPEC: CommandSpec<typeof FLAGS> = {
  name: "serve",
  summary: "Serve a model saved by finetune or feature-extract over HTTP: POST /v1/classify, a page at /, /healthz and /metrics.",
  flags: FLAGS,
  examples: [
    "npm run serve -- --model runs/finetune",
    "npm run serve -- --model runs/finetune/model.safetensors --host 0.0.0.0 --port 9000 --queue 16 --timeout-ms 5000",
    "npm run serve -- --model runs/finetune/model.onnx --engine onnxruntime",
  ],
};

/** Serves until SIGTERM or SIGINT, then resolves to 0 once the requests in flight are answered. */
export async function main(argv: string[]): Promise<number> {
  const { values: flags, help } = parseCommand(SPEC, argv);
  if (help) {
    process.stdout.write(helpText(SPEC));
    return 0;
  }
  if (!flags.model) throw new UsageError("--model is required (a run folder or its model.safetensors; see --help)");
  const port = intFlag(flags.port, "port", 8080, 0);
  if (port > 65535) throw new UsageError(`--port expects an integer of at most 65535, got "${flags.port}"`);
  const maxBatch = intFlag(flags["max-batch"], "max-batch", 4);
  const maxBodyBytes = intFlag(flags["max-body-bytes"], "max-body-bytes", 10 * 1024 * 1024);
  const queue = intFlag(flags.queue, "queue", 64);
  const timeoutMs = intFlag(flags["timeout-ms"], "timeout-ms", 30_000);
  const engine = flags.engine ?? "libtorch";
  if (engine !== "libtorch" && engine !== "onnxruntime") throw new UsageError(`--engine expects libtorch or onnxruntime, got "${engine}"`);
  if (engine === "onnxruntime" && (flags.device ?? "cpu") !== "cpu") throw new UsageError(`--engine onnxruntime runs on cpu only, got --device ${flags.device}`);
  const device = deviceFlag(flags.device ?? "cpu");
  const model = await modelFlag(flags.model);
  const classifier = await loadClassifier(model, { device, maxBatch, engine });
  const { app, inFlight } = createServer(classifier, { maxBodyBytes, queue, timeoutMs, logger: flags.log === true });
  const host = flags.host ?? "127.0.0.1";
  const address = await app.listen({ host, port }).catch((err: Error) => {
    throw new Error(`cannot listen on ${host}:${port} (--host, --port): ${err.message}`);
  });
  process.stdout.write(`serve: ${model} (${classifier.classes.join(", ")}) listening on ${address}${engine === "libtorch" ? "" : ` (engine ${engine})`}\n`);
  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      process.off("SIGTERM", stop).off("SIGINT", stop);
      // close() stops listening (after its preClose hooks, a few ticks on), answers 503 on kept-alive
      // connections, and resolves once every response in flight is sent.
      const closed = app.close();
      const notListening = new Promise<void>((done) => {
        const check = () => (app.server.listening ? setImmediate(check) : done());
        check();
      });
      void notListening.then(() => {
        const n = inFlight();
        process.stdout.write(`serve: ${signal}: stopped accepting, finishing ${n} request${n === 1 ? "" : "s"} in flight\n`);
      });
      void Promise.all([closed, notListening]).then(() => {
        process.stdout.write("serve: stopped\n");
        resolve(0);
      });
    };
    process.on("SIGTERM", stop).on("SIGINT", stop);
  });
}

if (require.main === module) runMain("serve", () => main(process.argv.slice(2)));
