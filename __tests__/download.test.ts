// Downloads against a local server: hash checks, HTTP errors, cut connections,
// offline hints, and the weights cache; a failure never leaves a partial file.
import { createHash, randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { download, hashPrefixFromName } from "../lib/hub/download";
import { resolveWeights } from "../lib/hub/weights";
import { main as fetchWeightsMain } from "../lib/cli/fetchWeights";
import { FileServer, serve } from "./helpers/fileServer";

const payload = randomBytes(300_000);
const hash = createHash("sha256").update(payload).digest("hex");
const named = `model-${hash.slice(0, 8)}.pth`;
let server: FileServer;
let dir: string;

beforeAll(async () => {
  server = await serve({
    [`/${named}`]: { body: payload },
    "/plain.bin": { body: payload },
    "/wrong-deadbeef.pth": { body: payload },
    "/moved": { redirect: `/${named}` },
    "/broken": { status: 500 },
    "/cut.bin": { cut: payload },
    "/models/resnet18-f37072fd.pth": { body: payload },
    "/models/efficientnet_b1_rwightman-bac287d4.pth": { body: payload },
  });
});
afterAll(() => server.close());
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "tt-download-"))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const files = () => fs.readdirSync(dir);

test("takes the hash prefix from the file name as torch.hub does", () => {
  expect(hashPrefixFromName("resnet18-f37072fd.pth")).toBe("f37072fd");
  expect(hashPrefixFromName("/models/resnet18-5c106cde.pth")).toBe("5c106cde");
  expect(hashPrefixFromName("hymenoptera_data.zip")).toBeNull();
});

test("downloads a file whose hash matches its name, following a redirect", async () => {
  await download(server.url("/moved"), path.join(dir, named), { sha256Prefix: hash.slice(0, 8) });
  expect(fs.readFileSync(path.join(dir, named)).equals(payload)).toBe(true);
  await download(server.url(`/${named}`), path.join(dir, "again.pth"));
  expect(files().sort()).toEqual([named, "again.pth"].sort());
});

test("rejects a hash mismatch, naming the URL and both hashes, and leaves nothing", async () => {
  const url = server.url("/wrong-deadbeef.pth");
  await expect(download(url, path.join(dir, "wrong-deadbeef.pth"))).rejects.toThrow(
    `cannot download ${url}: SHA-256 mismatch, expected a hash starting with deadbeef but got ${hash}`,
  );
  await expect(download(server.url("/plain.bin"), path.join(dir, "p.bin"), { sha256Prefix: "00" })).rejects.toThrow(/expected a hash starting with 00/);
  expect(files()).toEqual([]);
});

test("rejects 404 and other HTTP errors, naming the URL", async () => {
  const url = server.url("/missing.pth");
  await expect(download(url, path.join(dir, "m.pth"))).rejects.toThrow(`cannot download ${url}: HTTP 404 Not Found`);
  await expect(download(server.url("/broken"), path.join(dir, "b.pth"))).rejects.toThrow(/HTTP 500/);
  expect(files()).toEqual([]);
});

test("rejects a connection cut before content-length is reached, leaving no partial file", async () => {
  const url = server.url("/cut.bin");
  await expect(download(url, path.join(dir, "cut.bin"))).rejects.toThrow(new RegExp(`cannot download ${url}: connection closed after \\d+ of 300000 bytes`));
  expect(files()).toEqual([]);
});

test("tells where to put the file by hand when offline", async () => {
  const closed = await serve({});
  const url = closed.url("/x-00.pth");
  await closed.close();
  const dest = path.join(dir, "x-00.pth");
  await expect(download(url, dest)).rejects.toThrow(`cannot download ${url} (ECONNREFUSED): no network? Download it by hand on a connected machine and put it at ${dest}`);
  expect(files()).toEqual([]);
});

test("checks its arguments", async () => {
  await expect(download(3 as unknown as string, "x")).rejects.toThrow("Expected non-empty string for url but received 3 of type number");
  await expect(download("ftp://example.com/a", path.join(dir, "a"))).rejects.toThrow("only http and https");
});

describe("resolveWeights", () => {
  afterEach(() => delete process.env.TORCH_TRANSFER_WEIGHTS_URL);

  test("a file path resolves to itself; a missing one is named", async () => {
    const file = path.join(dir, "mine.pth");
    fs.writeFileSync(file, "x");
    expect(await resolveWeights(file)).toBe(file);
    await expect(resolveWeights(path.join(dir, "gone.pth"))).rejects.toThrow(/weights file .*gone\.pth does not exist/);
  });

  test("imagenet uses the cache when the file is there", async () => {
    fs.writeFileSync(path.join(dir, "resnet18-f37072fd.pth"), "cached");
    expect(await resolveWeights("IMAGENET1K_V1", { dir })).toBe(path.join(dir, "resnet18-f37072fd.pth"));
    expect(await resolveWeights("imagenet", { dir })).toBe(path.join(dir, "resnet18-f37072fd.pth"));
  });

  test("imagenet downloads from TORCH_TRANSFER_WEIGHTS_URL and checks torchvision's hash", async () => {
    process.env.TORCH_TRANSFER_WEIGHTS_URL = server.url("/models");
    // The served bytes are not torchvision's, so the f37072fd check must refuse them.
    await expect(resolveWeights("imagenet", { dir })).rejects.toThrow(
      `cannot download ${server.url("/models/resnet18-f37072fd.pth")}: SHA-256 mismatch, expected a hash starting with f37072fd`,
    );
    expect(files()).toEqual([]);
  });

  test("the fetch-weights command reports failures on one line with status 1, usage errors with 2", async () => {
    process.env.TORCH_TRANSFER_WEIGHTS_URL = server.url("/nothing-here");
    const errors: string[] = [];
    const spy = jest.spyOn(process.stderr, "write").mockImplementation((s) => (errors.push(String(s)), true));
    try {
      expect(await fetchWeightsMain(["--dir", dir])).toBe(1);
      expect(errors.join("")).toMatch(/^fetch-weights: cannot download .*HTTP 404 Not Found\n$/);
      expect(await fetchWeightsMain(["--bogus"])).toBe(2);
    } finally {
      spy.mockRestore();
    }
  });

  test("fetch-weights --arch/--weights downloads that weights file and checks its hash against the name's", async () => {
    process.env.TORCH_TRANSFER_WEIGHTS_URL = server.url("/models");
    const errors: string[] = [];
    const spy = jest.spyOn(process.stderr, "write").mockImplementation((s) => (errors.push(String(s)), true));
    try {
      // The served bytes are not torchvision's, so the bac287d4 check must refuse them; the URL shows which file was fetched.
      expect(await fetchWeightsMain(["--arch", "efficientnet_b1", "--weights", "IMAGENET1K_V1", "--dir", dir])).toBe(1);
      expect(errors.join("")).toContain(`cannot download ${server.url("/models/efficientnet_b1_rwightman-bac287d4.pth")}: SHA-256 mismatch, expected a hash starting with bac287d4`);
      expect(files()).toEqual([]);
    } finally {
      spy.mockRestore();
    }
  });

  test("weights an earlier torchvision cached under their former file are used, not downloaded again; the current file wins when both are there", async () => {
    // No server: a download would fail, so an answer means the cache was read.
    process.env.TORCH_TRANSFER_WEIGHTS_URL = server.url("/nothing-here");
    const out: string[] = [];
    const spy = jest.spyOn(process.stdout, "write").mockImplementation((s) => (out.push(String(s)), true));
    try {
      fs.writeFileSync(path.join(dir, "efficientnet_b0_rwightman-3dd342df.pth"), "cached by torchvision 0.14");
      expect(await fetchWeightsMain(["--arch", "efficientnet_b0", "--dir", dir])).toBe(0);
      fs.writeFileSync(path.join(dir, "efficientnet_b0_rwightman-7f5810bc.pth"), "cached by torchvision 0.21");
      expect(await fetchWeightsMain(["--arch", "efficientnet_b0", "--dir", dir])).toBe(0);
      expect(out).toEqual([`${path.join(dir, "efficientnet_b0_rwightman-3dd342df.pth")}\n`, `${path.join(dir, "efficientnet_b0_rwightman-7f5810bc.pth")}\n`]);
    } finally {
      spy.mockRestore();
    }
  });

  test("fetch-weights prints the cached file of the architecture's DEFAULT, and names unknown architectures and weights", async () => {
    fs.writeFileSync(path.join(dir, "efficientnet_b1-c27df63c.pth"), "cached");
    fs.writeFileSync(path.join(dir, "resnet18-f37072fd.pth"), "cached");
    const out: string[] = [];
    const errors: string[] = [];
    const outSpy = jest.spyOn(process.stdout, "write").mockImplementation((s) => (out.push(String(s)), true));
    const errSpy = jest.spyOn(process.stderr, "write").mockImplementation((s) => (errors.push(String(s)), true));
    try {
      expect(await fetchWeightsMain(["--arch", "efficientnet_b1", "--dir", dir])).toBe(0);  // DEFAULT is IMAGENET1K_V2
      expect(await fetchWeightsMain(["--dir", dir])).toBe(0);  // ResNet-18's, as before
      expect(out).toEqual([`${path.join(dir, "efficientnet_b1-c27df63c.pth")}\n`, `${path.join(dir, "resnet18-f37072fd.pth")}\n`]);
      expect(await fetchWeightsMain(["--arch", "resnet19", "--dir", dir])).toBe(2);
      expect(await fetchWeightsMain(["--arch", "vit_b_16", "--weights", "IMAGENET1K_V2", "--dir", dir])).toBe(2);
      expect(await fetchWeightsMain(["--arch", "vit_b_16", "--weights", "members", "--dir", dir])).toBe(2);
      const text = errors.join("");
      expect(text).toMatch(/--arch: unknown architecture resnet19 \(one of .*efficientnet_b0.*vit_b_16/);
      expect(text).toContain("--weights: vit_b_16 has no IMAGENET1K_V2 weights (it has DEFAULT, IMAGENET1K_V1, IMAGENET1K_SWAG_E2E_V1, IMAGENET1K_SWAG_LINEAR_V1)");
      expect(text).toContain("--weights: vit_b_16 has no members weights");
    } finally {
      outSpy.mockRestore();
      errSpy.mockRestore();
    }
  });
});
