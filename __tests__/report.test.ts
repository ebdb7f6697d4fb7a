// writeReport: the files it writes, and report.html opened in headless Chromium
// from disk (every picture loads, one table row per epoch, a page that is not blank).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { chromium } from "playwright-core";
import sharp from "sharp";
import * as tt from "../lib";
import { EpochRecord } from "../lib/train";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const EPOCHS = 4;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tt-report-"));
});
afterAll(() => {
  if (!process.env.KEEP_REPORT) fs.rmSync(dir, { recursive: true, force: true });
});

function history(): EpochRecord[] {
  return Array.from({ length: EPOCHS }, (_, epoch) => [
    { epoch, phase: "train" as const, loss: 0.7 * Math.exp(-epoch / 2), acc: 0.6 + 0.08 * epoch, seconds: 11.5 + epoch, images: 244 },
    { epoch, phase: "val" as const, loss: 0.6 * Math.exp(-epoch / 3), acc: 0.65 + 0.07 * epoch - (epoch === 3 ? 0.1 : 0), seconds: 4.25, images: 153 },
  ]).flat();
}

/** Validation batches: 10 images of 64 x 64 in batches of 4, with labels alternating. */
function valLoader() {
  return {
    length: 3,
    async *[Symbol.asyncIterator](): AsyncGenerator<[tt.Tensor, tt.Tensor]> {
      for (let b = 0, k = 0; b < 3; b++) {
        const n = b < 2 ? 4 : 2;
        const size = 64;
        const data = new Float32Array(n * 3 * size * size);
        const labels: bigint[] = [];
        for (let i = 0; i < n; i++, k++) {
          for (let c = 0; c < 3; c++) {
            for (let y = 0; y < size; y++) {
              for (let x = 0; x < size; x++) {
                data[((i * 3 + c) * size + y) * size + x] = Math.sin((x + k * 7) / (4 + c)) + Math.cos((y - k * 3) / (5 + c)) - 0.3 * c;
              }
            }
          }
          labels.push(BigInt(k % 2));
        }
        yield [tt.tensor(data, [n, 3, size, size]), tt.tensor(BigInt64Array.from(labels), [n])];
      }
    },
  };
}

async function pixelVariance(png: Buffer | string): Promise<number> {
  const { data } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  let sum = 0, sq = 0;
  for (const v of data) {
    sum += v;
    sq += v * v;
  }
  const mean = sum / data.length;
  return sq / data.length - mean * mean;
}

describe("writeReport", () => {
  let result: Awaited<ReturnType<typeof tt.writeReport>>;
  let model: tt.models.ResNet;

  beforeAll(async () => {
    model = tt.models.resnet18({ numClasses: 2 });
    model.train();
    result = await tt.writeReport({
      outDir: path.join(dir, "run"),
      settings: { mode: "finetune", epochs: EPOCHS, batchSize: 4, lr: 0.001, momentum: 0.9, weights: "imagenet", device: "cpu", note: "<b>escaped</b>" },
      history: history(),
      classNames: ["ants", "bees"],
      model,
      valLoader: valLoader(),
      device: "cpu",
    });
  });

  test("writes the pictures and report.html, and leaves the model in train mode", async () => {
    const names = ["predictions.png", "curves.svg", "curves.png", "confusion.svg", "confusion.png", "report.html"];
    for (const name of names) expect(fs.statSync(path.join(dir, "run", name)).size).toBeGreaterThan(100);
    expect(fs.readdirSync(path.join(dir, "run")).sort()).toEqual([...names].sort());
    expect(model.training).toBe(true);
    for (const png of ["predictions.png", "curves.png", "confusion.png"]) expect(await pixelVariance(path.join(dir, "run", png))).toBeGreaterThan(50);
    expect(result.confusion.total).toBe(10);
    expect(result.confusion.counts.flat().reduce((a, b) => a + b, 0)).toBe(10);
    expect(result.predictions).toHaveLength(6);
  });

  test("report.html is self-contained: data: pictures, no scripts, no links out", () => {
    const html = fs.readFileSync(result.files.report, "utf8");
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link/i);
    expect(html).not.toMatch(/(src|href)="(?!data:)/i);
    expect(html).not.toMatch(/url\(/i);
    expect(html.match(/<img /g)).toHaveLength(3);
    expect(html).toContain("&lt;b&gt;escaped&lt;/b&gt;");
  });

  test("opens from disk in headless Chromium: pictures load, one row per epoch, not blank", async () => {
    if (!fs.existsSync(CHROMIUM)) {
      throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium (apt-get install chromium fonts-dejavu-core) or set CHROMIUM_PATH`);
    }
    // launch() gives the browser a fresh temporary profile of its own.
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const requests: string[] = [];
      page.on("request", (r) => {
        if (!r.url().startsWith("data:") && !r.url().startsWith("file:")) requests.push(r.url());
      });
      await page.goto("file://" + path.resolve(result.files.report), { waitUntil: "load" });
      const images = await page.$$eval("img", (imgs) => imgs.map((img) => ({ id: img.id, complete: img.complete, width: img.naturalWidth })));
      expect(images.map((i) => i.id)).toEqual(["curves", "confusion", "predictions"]);
      for (const img of images) {
        expect(img.complete).toBe(true);
        expect(img.width).toBeGreaterThan(0);
      }
      expect(await page.$$eval("table.epochs tbody tr", (rows) => rows.length)).toBe(EPOCHS);
      const firstRow = await page.$$eval("table.epochs tbody tr:first-child td", (cells) => cells.map((c) => c.textContent));
      expect(firstRow).toEqual(["0", "0.7000", "0.6000", "0.6000", "0.6500", "15.8"]);
      expect(await page.$$eval("table.epochs tr.best td:first-child", (c) => c.map((x) => x.textContent))).toEqual(["2"]);
      expect(requests).toEqual([]);
      const shot = await page.screenshot({ fullPage: true });
      fs.writeFileSync(path.join(dir, "screenshot.png"), shot);
      expect(await pixelVariance(shot)).toBeGreaterThan(100);
    } finally {
      await browser.close();
    }
  });

  test("rejects missing arguments with plain messages", async () => {
    await expect(tt.writeReport({} as never)).rejects.toThrow("Expected non-empty string for outDir but received undefined of type undefined");
    await expect(
      tt.writeReport({ outDir: dir, history: "x", classNames: [], model, valLoader: valLoader() } as never),
    ).rejects.toThrow('Expected array of epoch records for history but received "x" of type string');
  });
});
