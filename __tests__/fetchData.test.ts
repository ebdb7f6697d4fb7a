// fetch-data against a local server: a small zip built by Python is extracted
// into data/hymenoptera_data only when whole; a zip-slip entry is refused.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { fetchData } from "../lib/hub/fetchData";
import { main as fetchDataMain } from "../lib/cli/fetchData";
import { FileServer, serve } from "./helpers/fileServer";
import { runPython } from "./helpers/python";

const MAKE_ZIPS = String.raw`
import sys, zipfile
folder = sys.argv[1]
with zipfile.ZipFile(folder + "/good.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("hymenoptera_data/", "")
    z.writestr("hymenoptera_data/train/ants/a1.jpg", b"ant one")
    z.writestr("hymenoptera_data/train/bees/b1.jpg", b"bee one")
    z.writestr("hymenoptera_data/val/ants/a2.jpg", b"ant two" * 1000)
with zipfile.ZipFile(folder + "/evil.zip", "w") as z:
    z.writestr("hymenoptera_data/train/ants/a1.jpg", b"ant one")
    z.writestr("../evil.txt", b"escaped")
`;

let server: FileServer;
let zips: string;
let dest: string;

beforeAll(async () => {
  zips = fs.mkdtempSync(path.join(os.tmpdir(), "tt-zips-"));
  runPython(MAKE_ZIPS, [zips]);
  server = await serve({
    "/good.zip": { body: fs.readFileSync(path.join(zips, "good.zip")) },
    "/evil.zip": { body: fs.readFileSync(path.join(zips, "evil.zip")) },
    "/cut.zip": { cut: fs.readFileSync(path.join(zips, "good.zip")) },
  });
});
afterAll(async () => {
  await server.close();
  fs.rmSync(zips, { recursive: true, force: true });
});
beforeEach(() => (dest = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tt-fetch-")), "data")));
afterEach(() => fs.rmSync(path.dirname(dest), { recursive: true, force: true }));

test("downloads and extracts the data set into dest/hymenoptera_data, leaving nothing else", async () => {
  const folder = await fetchData({ url: server.url("/good.zip"), dest, progress: false });
  expect(folder).toBe(path.join(dest, "hymenoptera_data"));
  expect(fs.readFileSync(path.join(folder, "train/bees/b1.jpg"), "utf8")).toBe("bee one");
  expect(fs.readFileSync(path.join(folder, "val/ants/a2.jpg"), "utf8")).toBe("ant two".repeat(1000));
  expect(fs.readdirSync(dest)).toEqual(["hymenoptera_data"]);
  // Already there: no download at all (the URL would fail).
  expect(await fetchData({ url: server.url("/missing.zip"), dest })).toBe(folder);
});

test("refuses an entry that would land outside the target, naming it, and leaves nothing", async () => {
  await expect(fetchData({ url: server.url("/evil.zip"), dest })).rejects.toThrow(
    /refusing zip entry "\.\.\/evil\.txt": it would be written outside/,
  );
  expect(fs.readdirSync(dest)).toEqual([]);
  expect(fs.existsSync(path.join(path.dirname(dest), "evil.txt"))).toBe(false);
});

test("offline: a zip put by hand where the error says is extracted without a download, and kept", async () => {
  fs.mkdirSync(dest, { recursive: true });
  fs.copyFileSync(path.join(zips, "good.zip"), path.join(dest, "hymenoptera_data.zip"));
  const folder = await fetchData({ url: "http://127.0.0.1:9/unreachable.zip", dest, progress: false });
  expect(fs.readFileSync(path.join(folder, "train/ants/a1.jpg"), "utf8")).toBe("ant one");
  expect(fs.readdirSync(dest).sort()).toEqual(["hymenoptera_data", "hymenoptera_data.zip"]);
});

test("a cut download leaves no data folder and no partial file", async () => {
  await expect(fetchData({ url: server.url("/cut.zip"), dest })).rejects.toThrow(/cannot download .*cut\.zip/);
  expect(fs.readdirSync(dest)).toEqual([]);
});

test("the command prints the folder, or one line on stderr with status 1; bad flags give status 2", async () => {
  const out: string[] = [], err: string[] = [];
  const o = jest.spyOn(process.stdout, "write").mockImplementation((s) => (out.push(String(s)), true));
  const e = jest.spyOn(process.stderr, "write").mockImplementation((s) => (err.push(String(s)), true));
  try {
    expect(await fetchDataMain(["--dest", dest, "--url", server.url("/good.zip")])).toBe(0);
    expect(out.join("")).toBe(`${path.join(dest, "hymenoptera_data")}\n`);
    expect(await fetchDataMain(["--dest", path.join(dest, "other"), "--url", server.url("/nope.zip")])).toBe(1);
    expect(err.join("")).toMatch(/^fetch-data: cannot download .*nope\.zip: HTTP 404 Not Found\n$/);
    expect(await fetchDataMain(["--frobnicate"])).toBe(2);
    expect(await fetchDataMain(["--dest"])).toBe(2);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
});
