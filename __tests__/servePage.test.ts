// The page at GET / in headless Chromium: pick an image, and the top-1 label it shows is classify()'s.
import * as fs from "fs";
import * as path from "path";
import { chromium } from "playwright-core";
import * as tt from "../lib";
import { createServer, Server } from "../lib/serve/app";
import { DATA, saveServeModel } from "./helpers/serveModel";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

let dir: string;
let server: Server;
let url: string;
let classifier: tt.Classifier;

beforeAll(async () => {
  const saved = await saveServeModel("tt-serve-page-");
  dir = saved.dir;
  classifier = await tt.loadClassifier(saved.checkpoint);
  server = createServer(classifier);
  url = await server.app.listen({ host: "127.0.0.1", port: 0 });
});

afterAll(async () => {
  await server?.app.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("picking an image shows classify()'s top-k as bars, asking nothing of any other host", async () => {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`);
  }
  const folder = path.join(DATA, "val", "ants");
  const image = path.join(folder, fs.readdirSync(folder).sort()[1]);
  const expected = await classifier.classify(image);

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run", "--disable-component-update", "--disable-sync"],
  });
  try {
    const page = await browser.newPage();
    const elsewhere: string[] = [];
    page.on("request", (r) => {
      if (!r.url().startsWith(url) && !r.url().startsWith("blob:")) elsewhere.push(r.url());
    });
    await page.goto(url, { waitUntil: "load" });
    await page.setInputFiles("#file", image);
    await page.waitForSelector('#status[data-state="done"], #status[data-state="error"]');
    expect(await page.getAttribute("#status", "data-state")).toBe("done");
    const rows = await page.$$eval("#results .prediction", (items) => items.map((li) => ({
      label: li.querySelector(".label")?.textContent,
      shown: li.querySelector(".probability")?.textContent,
      width: (li.querySelector(".bar") as unknown as { style: { width: string } }).style.width,
    })));
    expect(rows[0].label).toBe(expected[0].label);
    expect(rows.map((r) => r.label)).toEqual(expected.map((p) => p.label));
    expect(rows.map((r) => r.shown)).toEqual(expected.map((p) => `${(p.probability * 100).toFixed(1)}%`));
    expect(rows.map((r) => r.width)).toEqual(expected.map((p) => `${(p.probability * 100).toFixed(1)}%`));
    expect(elsewhere).toEqual([]);
  } finally {
    await browser.close();
  }
});
