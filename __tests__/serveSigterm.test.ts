// `npm run serve` in a child process: on SIGTERM it stops accepting connections, finishes the request in
// flight, and exits 0. The child holds its model busy on our word (stdin), so the request is certainly in
// flight when the signal comes, whatever the machine's speed.
import { spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import * as tt from "../lib";
import { DATA, saveServeModel, until } from "./helpers/serveModel";

const DIST = path.resolve(__dirname, "../dist");

// The real command's main (and its exit through runMain), with a hold on the compute queue the test controls.
const CHILD = `
const { addon } = require(${JSON.stringify(path.join(DIST, "native"))});
const { runMain } = require(${JSON.stringify(path.join(DIST, "cli/usage"))});
const { main } = require(${JSON.stringify(path.join(DIST, "cli/serve"))});
let release;
require("readline").createInterface({ input: process.stdin }).on("line", (line) => {
  if (line === "hold") { release = addon.holdComputeQueue(); process.stdout.write("held\\n"); }
  if (line === "release") release();
});
runMain("serve", () => main(process.argv.slice(1)));
`;

let dir: string;
let checkpoint: string;

beforeAll(async () => ({ dir, checkpoint } = await saveServeModel("tt-serve-sigterm-")));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test("SIGTERM: new connections refused, the request in flight answered, exit status 0", async () => {
  const folder = path.join(DATA, "val", "bees");
  const image = fs.readFileSync(path.join(folder, fs.readdirSync(folder).sort()[0]));
  const expected = await (await tt.loadClassifier(checkpoint)).classify(image);

  const child = spawn(process.execPath, ["-e", CHILD, "--", "--model", checkpoint, "--port", "0"], { stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  try {
    await until(() => /listening on http:\/\/127\.0\.0\.1:\d+\n/.test(stdout) || child.exitCode !== null);
    const url = /listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(stdout);
    if (!url) throw new Error(`serve did not start: ${stdout}${stderr}`);
    const port = Number(url[2]);

    child.stdin.write("hold\n");
    await until(() => stdout.includes("held\n"));
    const inFlight = fetch(`${url[1]}/v1/classify`, { method: "POST", body: image, headers: { "content-type": "image/jpeg" } });
    await until(async () => ((await (await fetch(`${url[1]}/healthz`)).json()) as { inFlight: number }).inFlight === 1);

    child.kill("SIGTERM");
    await until(() => stdout.includes("stopped accepting"));
    expect(stdout).toContain("serve: SIGTERM: stopped accepting, finishing 1 request in flight\n");
    const refused = await new Promise<string>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.on("connect", () => {
        socket.destroy();
        resolve("connected");
      });
      socket.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    expect(refused).toBe("ECONNREFUSED");
    expect(child.exitCode).toBeNull(); // still finishing

    child.stdin.write("release\n");
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(expected);
    expect(await exited).toBe(0);
    expect(stdout).toMatch(/stopped accepting, finishing 1 request in flight\nserve: stopped\n$/);
    expect(stderr).toBe("");
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});
