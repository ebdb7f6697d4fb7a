// Running the built commands as child processes, on small copies of the tutorial's data.
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

export const ROOT = path.resolve(__dirname, "..", "..");
export const DATA = path.resolve(ROOT, "../shared/data/hymenoptera_data");
export const CLI = (name: string) => path.join(ROOT, "dist", "cli", `${name}.js`);

export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(name: string, args: string[], env: NodeJS.ProcessEnv = {}): Ran {
  const r = spawnSync(process.execPath, [CLI(name), ...args], { encoding: "utf8", timeout: 600_000, env: { ...process.env, FORCE_COLOR: "0", ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Starts a command in its own process group and, the first time its stdout
 * satisfies `when`, does `then` to it (a signal to the whole group, say); resolves when it exits.
 */
export function runCliUntil(name: string, args: string[], when: (stdout: string) => boolean, then: (pid: number) => void): Promise<Ran & { acted: boolean }> {
  const child = spawn(process.execPath, [CLI(name), ...args], { stdio: ["ignore", "pipe", "pipe"], detached: true, env: { ...process.env, FORCE_COLOR: "0" } });
  let stdout = "";
  let stderr = "";
  let acted = false;
  child.stderr.on("data", (d) => (stderr += d));
  child.stdout.on("data", (d) => {
    stdout += d;
    if (!acted && when(stdout)) {
      acted = true;
      then(child.pid!);
    }
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ status: code, stdout, stderr, acted })));
}

/** Links to the first `n` images of each class and phase of the tutorial's data, under `dir`. */
export function subset(dir: string, n: number, classes = ["ants", "bees"]): string {
  for (const phase of ["train", "val"]) {
    for (const cls of classes) {
      const src = path.join(DATA, phase, cls);
      const dst = path.join(dir, phase, cls);
      fs.mkdirSync(dst, { recursive: true });
      for (const f of fs.readdirSync(src).filter((f) => f.endsWith(".jpg")).sort().slice(0, n)) fs.symlinkSync(path.join(src, f), path.join(dst, f));
    }
  }
  return dir;
}

/** The JSON lines a --json run printed. */
export function jsonLines(stdout: string): Record<string, any>[] {
  return stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

export async function freePort(): Promise<number> {
  const net = await import("net");
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}
