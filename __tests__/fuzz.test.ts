// Fuzzing our own parsers (unpickler, zip reader, torch.save and safetensors
// readers, BMP, PPM/PGM and JPEG decoding) with seeded mutations of real
// files: every case is read or refused with an Error naming the file; none
// crashes, hangs, or allocates past what the file's size claims allow. The
// case count is fixed, so the test does the same work on every machine;
// `npm run fuzz -- --minutes N` runs more.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { decodeImage } from "../lib/data/decode";
import { MAX_IMAGE_PIXELS } from "../lib/data/image";
import { load, save, unpickle } from "../lib/serialization";
import { makeTensor, MAX_OVERLAPPING_NUMEL } from "../lib/serialization/storage";
import { requireTorchPython } from "./helpers/python";

/* eslint-disable @typescript-eslint/no-var-requires */
const { makeSeeds } = require("../scripts/fuzz/seeds") as {
  makeSeeds(lib: object, dir: string, dataRoot: string): Promise<Seed[]>;
};
interface Seed { name: string; target: string; bytes: Buffer }
interface Failure { seed: number; index: number; seedFile: string; how: string; problem: string }
interface Stats { cases: number; read: number; refused: number; failures: Failure[]; bySeed: Record<string, { cases: number; refused: number }> }
const { runCases } = require("../scripts/fuzz/run") as {
  runCases(options: { lib: object; seeds: object[]; seed: number; count: number; dir: string }): Promise<Stats>;
};

const DATA = path.resolve(__dirname, "../../shared/data/hymenoptera_data");
// About 250 cases for each of the 15 seed files and the 4 pickles cut from them.
const CASES = 5000;
const lib = { load, save, decodeImage, unpickle, MAX_IMAGE_PIXELS, MAX_OVERLAPPING_NUMEL };

let dir: string;
let seeds: Seed[];

beforeAll(async () => {
  requireTorchPython();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tt-fuzz-"));
  fs.mkdirSync(path.join(dir, "seeds"));
  fs.mkdirSync(path.join(dir, "cases"));
  seeds = await makeSeeds(lib, path.join(dir, "seeds"), DATA);
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test("every seed is read as it is: the mutations start from valid files of each kind", async () => {
  for (const s of seeds) {
    const file = path.join(dir, "seeds", s.name);
    if (s.target === "image") expect({ name: s.name, width: (await decodeImage(file)).width }).toEqual({ name: s.name, width: 24 });
    if (s.target === "load") for (const t of (await load(file)).values()) t.dispose();
    if (s.target === "pickle") expect(unpickle(s.bytes, { fileName: s.name, persistentLoad: (p) => p }).value).toBeDefined();
  }
  const count = (target: string) => seeds.filter((s) => s.target === target).length;
  expect({ load: count("load"), image: count("image"), somePickles: count("pickle") >= 3 }).toEqual({ load: 4, image: 11, somePickles: true });
});

test(`${CASES} mutated files: each is read or refused with an Error naming it, within its size claims, leaving no file open`, async () => {
  const openFiles = () => fs.readdirSync("/proc/self/fd").length;
  const before = openFiles();
  const stats = await runCases({ lib, seeds, seed: 1, count: CASES, dir: path.join(dir, "cases") });
  expect(stats.failures).toEqual([]);
  // Every refused archive closed its file (the zip reader shares one descriptor among streams).
  expect(openFiles()).toBe(before);
  expect(stats.cases).toBe(CASES);
  // The mutations reach past the first check: most cases are refused, and each seed has some refused.
  expect(stats.refused).toBeGreaterThan(CASES / 2);
  for (const [name, per] of Object.entries(stats.bySeed)) expect({ name, refusedSome: per.refused > 0 }).toEqual({ name, refusedSome: true });
}, 300_000);

describe("what fuzzing and reading found stays fixed", () => {
  const seedBytes = (name: string) => Buffer.from(seeds.find((s) => s.name === name)!.bytes);
  const write = (name: string, bytes: Uint8Array) => {
    const file = path.join(dir, "cases", name);
    fs.writeFileSync(file, bytes);
    return file;
  };

  test("a zip64 locator pointing past 2^53 is refused, naming the file (it ended the process from inside yauzl)", async () => {
    const zip = seedBytes("zip.pth");
    const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    const eocd = Buffer.from(zip.subarray(end));
    eocd.writeUInt32LE(0xffffffff, 16); // the central directory offset: "see the zip64 record"
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(2n ** 60n, 8);
    locator.writeUInt32LE(1, 16);
    const file = write("zip64.pth", Buffer.concat([zip.subarray(0, end), locator, eocd]));
    await expect(load(file)).rejects.toThrow(`${file}: not a readable zip archive (a read of bytes`);
  });

  test("a stored zip entry claiming 4 GB is refused before anything is allocated for it", async () => {
    const zip = seedBytes("zip.pth");
    const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    let cd = zip.readUInt32LE(end + 16);
    while (!zip.subarray(cd + 46, cd + 46 + zip.readUInt16LE(cd + 28)).toString("latin1").endsWith("data/0")) {
      cd += 46 + zip.readUInt16LE(cd + 28) + zip.readUInt16LE(cd + 30) + zip.readUInt16LE(cd + 32);
    }
    zip.writeUInt32LE(0xfffffff0, cd + 20);
    zip.writeUInt32LE(0xfffffff0, cd + 24);
    const file = write("huge-entry.pth", zip);
    await expect(load(file)).rejects.toThrow(new RegExp(`${file}: zip entry ".*data/0" claims 4294967280 bytes at offset \\d+, past the end`));
  });

  test("BMP and PPM/PGM headers that are cut short or claim billions of pixels are refused by a check, naming the file", async () => {
    const cut = write("cut.bmp", seedBytes("mono.bmp").subarray(0, 40));
    await expect(decodeImage(cut)).rejects.toThrow(`Could not decode image ${cut}: BMP header is truncated (40 bytes)`);
    const text = seedBytes("text.pgm").toString("latin1").replace(/\n24 16\n/, "\n4294967295 16\n");
    const wide = write("wide.pgm", Buffer.from(text, "latin1"));
    await expect(decodeImage(wide)).rejects.toThrow(`Could not decode image ${wide}: image of 4294967295x16 pixels is over the limit of ${MAX_IMAGE_PIXELS}`);
    const long = write("digits.ppm", Buffer.from(`P6\n${"9".repeat(100_000)} 1\n255\n`, "latin1"));
    await expect(decodeImage(long)).rejects.toThrow(`Could not decode image ${long}: image of 4294967296x1 pixels is over the limit`);
  });

  test("a JPEG whose header claims 65500 x 65500 pixels (libjpeg's largest) is refused before they are allocated", async () => {
    const jpeg = seedBytes("baseline.jpg");
    const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
    jpeg.writeUInt16BE(65500, sof + 5);
    jpeg.writeUInt16BE(65500, sof + 7);
    const file = write("bomb.jpg", jpeg);
    await expect(decodeImage(file)).rejects.toThrow(`Could not decode image ${file}: image of 65500x65500 pixels is over the limit of ${MAX_IMAGE_PIXELS}`);
  });

  test("a view with 2^40 elements over a 1-element storage is refused, naming the file and key", () => {
    expect(() => makeTensor("f.pth", "w", new Uint8Array(4), { dtype: "float32", shape: [2 ** 20, 2 ** 20], strides: [0, 0], storageOffset: 0 }))
      .toThrow("f.pth: tensor w of shape [1048576, 1048576] has 1099511627776 elements but its storage holds 1");
  });

  test("a pickle with 200,000 APPENDS items and a 100 kB LONG4 is read (no stack overflow, no quadratic decode)", () => {
    const items = Buffer.alloc(200_000 * 2);
    for (let i = 0; i < 200_000; i++) items.set([0x4b, i & 0xff], i * 2); // BININT1
    const long4 = Buffer.alloc(5 + 100_000, 0x11);
    long4[0] = 0x8b;
    long4.writeUInt32LE(100_000, 1);
    const pickle = Buffer.concat([Buffer.from([0x80, 0x02, 0x5d, 0x28]), items, Buffer.from([0x65]), long4, Buffer.from([0x61, 0x2e])]);
    const value = unpickle(pickle, { fileName: "big.pkl" }).value as unknown[];
    expect(value.length).toBe(200_001);
    expect((value[200_000] as bigint).toString(16)).toBe("11".repeat(100_000));
  });
});
