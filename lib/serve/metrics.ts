// The server's Prometheus metrics, in a registry of its own (not prom-client's
// global one), so that two servers in one process, as in the tests, do not mix.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { Classifier } from "../classifier";

export interface ServeMetrics {
  registry: Registry;
  requests: Counter<"route" | "status">;
  latency: Histogram<"route">;
  inFlight: Gauge;
}

export function createMetrics(classifier: Classifier): ServeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "tt_serve_" });
  const requests = new Counter({
    name: "tt_serve_requests_total",
    help: "HTTP requests answered, by route and status code",
    labelNames: ["route", "status"] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: "tt_serve_request_duration_seconds",
    help: "Time from a request's arrival to its answer, by route",
    labelNames: ["route"] as const,
    // A ResNet-18 forward takes tens of milliseconds to a few seconds on a CPU, depending on the batch and the cores.
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const batchSizes = new Histogram({
    name: "tt_serve_batch_size",
    help: "Images per model call (dynamic batching up to --max-batch)",
    buckets: Array.from({ length: classifier.maxBatch }, (_, i) => i + 1),
    registers: [registry],
  });
  classifier.onBatch((size) => batchSizes.observe(size));
  const inFlight = new Gauge({
    name: "tt_serve_in_flight",
    help: "Classify requests admitted and not yet finished (bounded by --queue)",
    registers: [registry],
  });
  new Gauge({
    name: "tt_serve_queue_depth",
    help: "Decoded images waiting for the model",
    registers: [registry],
    collect() {
      this.set(classifier.queueDepth);
    },
  });
  return { registry, requests, latency, inFlight };
}
