// The HTTP API of `npm run serve`: answers equal to classify(), and every limit (413, 415, 400, 503 when the
// queue is full, 503 past the timeout) made certain by holding the model busy, not by timing.
import * as fs from "fs";
import * as path from "path";
import * as tt from "../lib";
import { addon } from "../lib/native";
import { DATA, saveServeModel, until } from "./helpers/serveModel";
// From the package entry, as a service that embeds the server imports it.
const { createServer } = tt;
type Server = tt.Server;

let dir: string;
let checkpoint: string;
let classifier: tt.Classifier;
let jpeg: Buffer;
let png: Buffer;
const servers: Server[] = [];

beforeAll(async () => {
  ({ dir, checkpoint } = await saveServeModel("tt-serve-"));
  classifier = await tt.loadClassifier(checkpoint, { maxBatch: 4 });
  const folder = path.join(DATA, "val", "ants");
  jpeg = fs.readFileSync(path.join(folder, fs.readdirSync(folder).sort()[0]));
  png = await import("sharp").then(({ default: sharp }) => sharp(jpeg).png().toBuffer());
});

afterAll(async () => {
  for (const s of servers) await s.app.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A server on a free loopback port, and its base URL. */
async function start(options: Parameters<typeof createServer>[1] = {}, model = classifier): Promise<{ server: Server; url: string }> {
  const server = createServer(model, options);
  servers.push(server);
  const url = await server.app.listen({ host: "127.0.0.1", port: 0 });
  return { server, url };
}

/** The `error` field of a JSON error answer. */
const errorOf = async (response: Response): Promise<string> => ((await response.json()) as { error: string }).error;

const post = (url: string, body: NonNullable<RequestInit["body"]>, type?: string) =>
  fetch(`${url}/v1/classify`, { method: "POST", body, headers: type === undefined ? {} : { "content-type": type } });

describe("POST /v1/classify", () => {
  let url: string;
  beforeAll(async () => ({ url } = await start()));

  test("raw JPEG bytes: the answer classify() gives, most likely first", async () => {
    const expected = await classifier.classify(jpeg);
    const response = await post(url, jpeg, "image/jpeg");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(expected);
    expect(expected).toHaveLength(2);
  });

  test("any image/* type and application/octet-stream are taken as the image's bytes", async () => {
    const expected = await classifier.classify(png);
    for (const type of ["image/png", "image/x-anything", "IMAGE/PNG", "image/png; name=ant", "application/octet-stream"]) {
      const response = await post(url, png, type);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual(expected);
    }
  });

  test("a multipart upload in field image gives the same answer", async () => {
    const form = new FormData();
    form.append("image", new Blob([jpeg], { type: "image/jpeg" }), "ant.jpg");
    const response = await post(url, form);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(await classifier.classify(jpeg));
  });

  test("?topk=1 gives the top class only; a topk above the number of classes gives them all", async () => {
    const all = await classifier.classify(jpeg);
    expect(await (await fetch(`${url}/v1/classify?topk=1`, { method: "POST", body: jpeg, headers: { "content-type": "image/jpeg" } })).json()).toEqual(all.slice(0, 1));
    expect(await (await fetch(`${url}/v1/classify?topk=5`, { method: "POST", body: jpeg, headers: { "content-type": "image/jpeg" } })).json()).toEqual(all);
  });

  test.each(["0", "1.5", "two"])("?topk=%s is answered 400 naming topk", async (topk) => {
    const response = await fetch(`${url}/v1/classify?topk=${topk}`, { method: "POST", body: jpeg, headers: { "content-type": "image/jpeg" } });
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toMatch(/topk/);
  });

  test("a body that is not an image type is answered 415 saying what is expected", async () => {
    for (const [body, type] of [["hello", "text/plain"], ['{"image": 1}', "application/json"]]) {
      const response = await post(url, body, type);
      expect(response.status).toBe(415);
      expect(await errorOf(response)).toBe(`expected an image (Content-Type image/* or application/octet-stream) or multipart/form-data with a file field "image", got Content-Type ${type}`);
    }
  });

  test("a multipart file that is not an image type is answered 415", async () => {
    const form = new FormData();
    form.append("image", new Blob(["hello"], { type: "text/plain" }), "notes.txt");
    const response = await post(url, form);
    expect(response.status).toBe(415);
    expect(await errorOf(response)).toMatch(/field "image" has Content-Type text\/plain/);
  });

  test("image bytes that do not decode are answered 400 with the decoder's reason", async () => {
    const response = await post(url, Buffer.from("not a picture at all"), "image/png");
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toMatch(/^Could not decode image bytes: .+/);
    const truncated = await post(url, jpeg.subarray(0, 600), "image/jpeg");
    expect(truncated.status).toBe(400);
    expect(await errorOf(truncated)).toMatch(/^Could not decode image bytes/);
  });

  test("a multipart body that does not parse is answered 400 saying so", async () => {
    const noBoundary = await post(url, "garbage", "multipart/form-data");
    expect(noBoundary.status).toBe(400);
    expect(await errorOf(noBoundary)).toBe("malformed multipart body: Multipart: Boundary not found");
    const noParts = await post(url, "--xyz--\r\n", "multipart/form-data; boundary=xyz");
    expect(noParts.status).toBe(400);
    expect(await errorOf(noParts)).toMatch(/without a file/);
  });

  test("an empty body, or a multipart file in another field, is answered 400 saying where the image goes", async () => {
    const empty = await post(url, Buffer.alloc(0), "image/jpeg");
    expect(empty.status).toBe(400);
    expect(await errorOf(empty)).toMatch(/empty body/);
    const form = new FormData();
    form.append("photo", new Blob([jpeg], { type: "image/jpeg" }), "ant.jpg");
    const wrongField = await post(url, form);
    expect(wrongField.status).toBe(400);
    expect(await errorOf(wrongField)).toMatch(/field "photo".*named "image"/);
  });
});

describe("limits", () => {
  test("a body over maxBodyBytes is answered 413, raw or multipart, naming the limit", async () => {
    const { url } = await start({ maxBodyBytes: jpeg.length - 1 });
    const raw = await post(url, jpeg, "image/jpeg");
    expect(raw.status).toBe(413);
    expect(await errorOf(raw)).toBe(`request body over the limit of ${jpeg.length - 1} bytes (--max-body-bytes)`);
    const form = new FormData();
    form.append("image", new Blob([jpeg], { type: "image/jpeg" }), "ant.jpg");
    const multi = await post(url, form);
    expect(multi.status).toBe(413);
    expect(await errorOf(multi)).toMatch(/over the limit/);
    // exactly at the limit is fine
    const { url: exact } = await start({ maxBodyBytes: jpeg.length });
    expect((await post(exact, jpeg, "image/jpeg")).status).toBe(200);
  });

  test("with the queue full, one more request is answered 503 with Retry-After; the admitted ones finish", async () => {
    const { server, url } = await start({ queue: 2 });
    const release = addon.holdComputeQueue();
    let admitted: Promise<Response>[];
    try {
      admitted = [post(url, jpeg, "image/jpeg"), post(url, png, "image/png")];
      await until(() => server.inFlight() === 2);
      const refused = await post(url, jpeg, "image/jpeg");
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("1");
      expect(await errorOf(refused)).toMatch(/queue .* is full/);
      expect(server.inFlight()).toBe(2);
    } finally {
      release();
    }
    const answers = await Promise.all(admitted);
    expect(answers.map((r) => r.status)).toEqual([200, 200]);
    expect(await answers[0].json()).toEqual(await classifier.classify(jpeg));
    expect(server.inFlight()).toBe(0);
    expect((await post(url, jpeg, "image/jpeg")).status).toBe(200); // room again
  });

  test("past timeoutMs a request is answered 503 with Retry-After, and keeps its queue slot until the model is done", async () => {
    const { server, url } = await start({ queue: 1, timeoutMs: 50 });
    const release = addon.holdComputeQueue();
    try {
      // The model is held: no answer can come within any timeout, however fast the machine.
      const late = await post(url, jpeg, "image/jpeg");
      expect(late.status).toBe(503);
      expect(late.headers.get("retry-after")).toBe("1");
      expect(await errorOf(late)).toBe("no answer within 50 ms (--timeout-ms): the model is busy; retry later");
      expect(server.inFlight()).toBe(1);
      expect((await post(url, jpeg, "image/jpeg")).status).toBe(503); // its slot is still taken
    } finally {
      release();
    }
    await until(() => server.inFlight() === 0);
  });
});

describe("other routes", () => {
  let server: Server;
  let url: string;
  let own: tt.Classifier; // its batches are this server's alone
  beforeAll(async () => {
    own = await tt.loadClassifier(checkpoint, { maxBatch: 4 });
    ({ server, url } = await start({}, own));
  });

  test("GET /healthz says ok, with the classes", async () => {
    const response = await fetch(`${url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok", classes: ["ants", "bees"], inFlight: 0 });
  });

  test("GET / is one self-contained page: no scripts, styles or pictures from elsewhere", async () => {
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await response.text();
    expect(html).not.toMatch(/(src|href)=/i);
    expect(html).not.toMatch(/\burl\(|@import/); // CSS url(), not URL.createObjectURL
    expect(html).toContain('fetch("/v1/classify?topk="');
  });

  test("GET /metrics: requests by status, latency, batch sizes, in flight and queue depth, in Prometheus text", async () => {
    const release = addon.holdComputeQueue();
    let pending: Promise<Response>[];
    let busy: string;
    try {
      pending = [jpeg, png, jpeg].map((image, i) => post(url, image, i === 1 ? "image/png" : "image/jpeg"));
      // One image goes to the (held) model; the other two wait for it, decoded.
      await until(() => own.queueDepth === 2);
      busy = await (await fetch(`${url}/metrics`)).text();
    } finally {
      release();
    }
    expect(busy).toMatch(/^tt_serve_in_flight 3$/m);
    expect(busy).toMatch(/^tt_serve_queue_depth 2$/m);
    expect((await Promise.all(pending)).map((r) => r.status)).toEqual([200, 200, 200]);
    expect((await post(url, "x", "text/plain")).status).toBe(415);

    const response = await fetch(`${url}/metrics`);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(text).toMatch(/^tt_serve_requests_total\{route="\/v1\/classify",status="200"\} 3$/m);
    expect(text).toMatch(/^tt_serve_requests_total\{route="\/v1\/classify",status="415"\} 1$/m);
    expect(text).toMatch(/^tt_serve_request_duration_seconds_count\{route="\/v1\/classify"\} 4$/m);
    expect(text).toMatch(/^tt_serve_in_flight 0$/m);
    expect(text).toMatch(/^tt_serve_queue_depth 0$/m);
    // The first image ran alone (held); the two that waited for it went through together.
    expect(text).toMatch(/^tt_serve_batch_size_bucket\{le="1"\} 1$/m);
    expect(text).toMatch(/^tt_serve_batch_size_bucket\{le="2"\} 2$/m);
    expect(text).toMatch(/^tt_serve_batch_size_sum 3$/m);
    expect(text).toMatch(/^tt_serve_batch_size_count 2$/m);
    expect(server.inFlight()).toBe(0);
  });
});

describe("npm run serve's flags", () => {
  // Each refusal comes before the model is loaded or a port is taken.
  test.each([
    [[], "--model is required (a run folder or its model.safetensors; see --help)"],
    [["--model", "m", "--port", "70000"], '--port expects an integer of at most 65535, got "70000"'],
    [["--model", "m", "--port", "-1"], '--port expects an integer of at least 0, got "-1"'],
    [["--model", "m", "--queue", "0"], '--queue expects an integer of at least 1, got "0"'],
    [["--model", "m", "--max-body-bytes", "1e6"], '--max-body-bytes expects an integer of at least 1, got "1e6"'],
    [["--model", "m", "--timeout-ms", "soon"], '--timeout-ms expects an integer of at least 1, got "soon"'],
    [["--model", "m", "--max-batch", "0"], '--max-batch expects an integer of at least 1, got "0"'],
    [["--model", "m", "--max-bach", "2"], "unknown option --max-bach; did you mean --max-batch? (see --help)"],
  ])("%j is a usage error: %s", async (argv, message) => {
    const { main } = await import("../lib/cli/serve");
    const { UsageError } = await import("../lib/cli/usage");
    const err = await main(argv as string[]).catch((e: Error) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe(message);
  });

  test("a --model that does not exist is a usage error naming it", async () => {
    const { main } = await import("../lib/cli/serve");
    const missing = path.join(dir, "nowhere", "model.safetensors");
    const err = await main(["--model", missing]).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/^--model: .*nowhere/);
  });
});

test("createServer checks its options: positive integers, known keys", () => {
  expect(() => createServer(classifier, { queue: 0 })).toThrow("Expected positive integer for queue but received 0");
  expect(() => createServer(classifier, { timeoutMs: 1.5 })).toThrow(/timeoutMs/);
  expect(() => createServer(classifier, { maxBodyBytes: -1 })).toThrow(/maxBodyBytes/);
  expect(() => createServer(classifier, { max_body_bytes: 10 } as never)).toThrow(/maxBodyBytes/);
});
