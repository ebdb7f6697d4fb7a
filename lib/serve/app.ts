// The HTTP server around a Classifier: body parsing, limits, errors and
// metrics. The routes are in routes.ts; batching is the Classifier's own.
import multipart from "@fastify/multipart";
import Fastify, { FastifyError, FastifyInstance } from "fastify";
import { checkInteger, checkOptions } from "../check";
import { Classifier } from "../classifier";
import { createMetrics } from "./metrics";
import { IMAGE_TYPES, registerRoutes } from "./routes";

export interface ServeOptions {
  /** The largest request body, raw or multipart, in bytes; larger ones are answered 413. Default 10 MiB. */
  maxBodyBytes?: number;
  /** The most classify requests in flight at once; more are answered 503 with Retry-After. Default 64. */
  queue?: number;
  /** How long a classify request may wait for its answer, once its body is in; then 503. Default 30000. */
  timeoutMs?: number;
  /** Log each request (pino, JSON lines on stdout). Default false. */
  logger?: boolean;
}

export interface Server {
  app: FastifyInstance;
  /** Classify requests admitted and not yet finished with the model (a timed-out one counts until the model is done with it). */
  inFlight(): number;
}

export function createServer(classifier: Classifier, options: ServeOptions = {}): Server {
  const { maxBodyBytes = 10 * 1024 * 1024, queue = 64, timeoutMs = 30_000, logger = false } = checkOptions(
    options, { maxBodyBytes: true, queue: true, timeoutMs: true, logger: true }, "createServer");
  checkInteger(maxBodyBytes, "maxBodyBytes", 1);
  checkInteger(queue, "queue", 1);
  checkInteger(timeoutMs, "timeoutMs", 1);
  const app = Fastify({ logger, bodyLimit: maxBodyBytes });
  const metrics = createMetrics(classifier);
  let inFlight = 0;

  // Only images (and multipart, registered below) are bodies here: no JSON or text parser to fall through to.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(IMAGE_TYPES, { parseAs: "buffer" }, (_request, body, done) => done(null, body));
  void app.register(multipart, { limits: { fileSize: maxBodyBytes, files: 1, fields: 0, parts: 1 } });

  // Closing waits for every connection to end: a request finished while closing says so, or its kept-alive
  // connection would hold the exit for the keep-alive timeout.
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onSend", async (_request, reply) => {
    if (closing) void reply.header("connection", "close");
  });

  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    metrics.requests.inc({ route, status: String(reply.statusCode) });
    metrics.latency.observe({ route }, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500 && status !== 503) request.log.error(error);
    const headers = (error as { headers?: Record<string, string> }).headers;
    if (headers) void reply.headers(headers);
    void reply.code(status).send({ error: explain(error, request.headers["content-type"], maxBodyBytes) });
  });

  registerRoutes(app, {
    classifier,
    metrics,
    timeoutMs,
    inFlight: () => inFlight,
    admit() {
      if (inFlight >= queue) return undefined;
      inFlight++;
      metrics.inFlight.set(inFlight);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        inFlight--;
        metrics.inFlight.set(inFlight);
      };
    },
  });
  return { app, inFlight: () => inFlight };
}

/** Fastify's and multipart's messages for the limits, said in the server's terms. */
function explain(error: FastifyError, contentType: string | undefined, maxBodyBytes: number): string {
  switch (error.code) {
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      if (error.statusCode !== 415) return error.message;
      return `expected an image (Content-Type image/* or application/octet-stream) or multipart/form-data with a file field "image", got ${contentType ? `Content-Type ${contentType}` : "no Content-Type"}`;
    case "FST_ERR_CTP_BODY_TOO_LARGE":
    case "FST_REQ_FILE_TOO_LARGE":
      return `request body over the limit of ${maxBodyBytes} bytes (--max-body-bytes)`;
    case "FST_FILES_LIMIT":
    case "FST_PARTS_LIMIT":
    case "FST_FIELDS_LIMIT":
      return 'multipart body with more than one part: send one file, in a field named "image"';
    default:
      return error.message;
  }
}
