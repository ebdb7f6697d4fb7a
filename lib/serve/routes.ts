// The routes: POST /v1/classify, GET / (the page), /healthz and /metrics.
import { FastifyInstance, FastifyRequest } from "fastify";
import { Classifier, Prediction } from "../classifier";
import { ServeMetrics } from "./metrics";
import { pageHtml } from "./page";

export interface RouteContext {
  classifier: Classifier;
  metrics: ServeMetrics;
  timeoutMs: number;
  inFlight(): number;
  /** A slot among --queue, and the function that gives it back; undefined when all are taken. */
  admit(): (() => void) | undefined;
}

/** An error with the HTTP status (and headers) the error handler answers with. */
export function httpError(statusCode: number, message: string, headers?: Record<string, string>): Error {
  return Object.assign(new Error(message), { statusCode, headers });
}

/** Content types taken as an image's raw bytes; anything else but multipart is answered 415. */
export const IMAGE_TYPES = /^(image\/[\w.+-]+|application\/octet-stream)\s*(;.*)?$/i;

// The client should come back later: a second is about one batch on a slow CPU.
const RETRY_AFTER = { "retry-after": "1" };

export function registerRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { classifier, metrics, timeoutMs } = ctx;
  const page = pageHtml("torch-transfer classifier", classifier.classes);

  app.get("/", async (_request, reply) => reply.type("text/html; charset=utf-8").send(page));
  app.get("/healthz", async () => ({ status: "ok", classes: classifier.classes, inFlight: ctx.inFlight() }));
  app.get("/metrics", async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));

  app.post<{ Querystring: { topk?: number } }>("/v1/classify", {
    schema: { querystring: { type: "object", properties: { topk: { type: "integer", minimum: 1 } }, additionalProperties: false } },
    // Admission before the body is read: a full server does not take in another upload first.
    onRequest: async (request) => {
      const release = ctx.admit();
      if (!release) throw httpError(503, "server busy: the queue of requests in flight is full (--queue); retry later", RETRY_AFTER);
      slots.set(request, release);
    },
    onResponse: async (request) => {
      // A request that never reached the model (a body refused, a timeout aside) gives its slot back here.
      if (!handedOver.has(request)) slots.get(request)?.();
    },
  }, async (request) => {
    const bytes = await imageBytes(request);
    const release = slots.get(request) as () => void;
    handedOver.add(request);
    const answer = classifier.classify(bytes, { topk: request.query.topk });
    // The slot stays taken until the model is done with the image, even after a timeout: a timed-out request
    // still costs its place in the batch, and the bound on work in flight must hold.
    answer.then(release, release);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(httpError(503, `no answer within ${timeoutMs} ms (--timeout-ms): the model is busy; retry later`, RETRY_AFTER)), timeoutMs);
    });
    try {
      return await Promise.race([answer.catch(asHttpError), timeout]) as Prediction[];
    } finally {
      clearTimeout(timer);
    }
  });
}

const slots = new WeakMap<FastifyRequest, () => void>();
const handedOver = new WeakSet<FastifyRequest>();

/** The image's bytes: the raw body, or the multipart file in field "image". */
async function imageBytes(request: FastifyRequest): Promise<Buffer> {
  if (request.isMultipart()) {
    const part = await request.file().catch((err: Error & { statusCode?: number }) => {
      // busboy's complaints about the body itself (no boundary, a torn part) are the client's mistake.
      throw err.statusCode ? err : httpError(400, `malformed multipart body: ${err.message}`);
    });
    if (!part) throw httpError(400, 'multipart body without a file: send the image in a file field named "image"');
    if (part.fieldname !== "image") {
      part.file.resume();
      throw httpError(400, `multipart file in field "${part.fieldname}": send the image in a field named "image"`);
    }
    if (!IMAGE_TYPES.test(part.mimetype)) {
      part.file.resume();
      throw httpError(415, `multipart field "image" has Content-Type ${part.mimetype}: expected image/* or application/octet-stream`);
    }
    return part.toBuffer();
  }
  const body = request.body;
  if (!Buffer.isBuffer(body) || body.length === 0) throw httpError(400, "empty body: send the image's bytes, or multipart/form-data with a file field \"image\"");
  return body;
}

/** A picture that does not decode is the client's mistake (400, with the decoder's reason); the rest are ours. */
function asHttpError(err: unknown): never {
  const message = err instanceof Error ? err.message : String(err);
  if (/^Could not decode/.test(message)) throw httpError(400, message);
  throw err;
}
