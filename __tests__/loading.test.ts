// Loading the addon leaves the process as Node set it up, whatever libtorch
// brings along: Debian 13's links OpenMPI, whose UCX would otherwise take over
// SIGSEGV (V8's WebAssembly bounds checks) and SIGHUP (lib/native.ts).
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ts from "typescript";

const ROOT = path.resolve(__dirname, "..");

// lib/native.ts as JavaScript in a scratch folder whose build/ is this
// checkout's, so that a child process loads the addon exactly as the package
// does, from the current source.
let loader = "";
beforeAll(() => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tt-loading-"));
  fs.mkdirSync(path.join(dir, "lib"));
  fs.symlinkSync(path.join(ROOT, "build"), path.join(dir, "build"));
  const source = fs.readFileSync(path.join(ROOT, "lib", "native.ts"), "utf8");
  const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020 } });
  loader = path.join(dir, "lib", "native.js");
  fs.writeFileSync(loader, js.outputText);
});
afterAll(() => {
  if (loader) fs.rmSync(path.dirname(path.dirname(loader)), { recursive: true, force: true });
});

// Prints the signals this process catches (/proc's SigCgt mask) before and
// after loading, then what a WebAssembly load far out of its memory's bounds
// gives: a module with one page of memory and load(i32) -> i32.
const CHILD = `
const fs = require("fs");
const caught = () => fs.readFileSync("/proc/self/status", "utf8").match(/^SigCgt:\\s*(\\w+)$/m)[1];
const before = caught();
require(process.argv[1]);
const after = caught();
const wasm = Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0, 1, 6, 1, 96, 1, 127, 1, 127, 3, 2, 1, 0, 5, 3, 1, 0, 1,
  7, 8, 1, 4, 108, 111, 97, 100, 0, 0, 10, 9, 1, 7, 0, 32, 0, 40, 2, 0, 11]);
const { load } = new WebAssembly.Instance(new WebAssembly.Module(wasm), {}).exports;
let trap = null;
try { load(0x7fff0000); } catch (e) { trap = e.constructor.name + ": " + e.message; }
const ucx = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("UCX_")));
console.log(JSON.stringify({ before, after, inBounds: load(16), trap, env: process.env.UCX_ERROR_SIGNALS ?? null, ucx }));
`;

function child(env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, ["-e", CHILD, loader], { encoding: "utf8", env: { ...process.env, ...env } });
  const line = r.stdout.trim().split("\n").pop() ?? "";
  let out: { before: string; after: string; inBounds: number; trap: string | null; env: string | null; ucx: Record<string, string> } | null = null;
  try {
    out = JSON.parse(line);
  } catch {
    /* reported below */
  }
  return { status: r.status, signal: r.signal, stderr: r.stderr, out };
}

test("loading the addon takes over none of the signals Node catches", () => {
  const r = child();
  expect({ status: r.status, signal: r.signal, stderr: r.stderr.slice(-1500) }).toEqual({ status: 0, signal: null, stderr: "" });
  expect(r.out!.after).toBe(r.out!.before);
});

test("after loading, a WebAssembly access out of bounds is still V8's RuntimeError, not a crash", () => {
  const r = child();
  expect(r.signal).toBeNull();
  expect(r.out).not.toBeNull();
  expect(r.out!.inBounds).toBe(0);
  expect(r.out!.trap).toBe("RuntimeError: memory access out of bounds");
});

// UCX's memory hooks (libucm patching malloc and mmap as libtorch 2.6's
// OpenMPI loads it) made about one start in 70 die in V8's allocator during
// the addon's init on Debian 13. They must be off before the addon loads:
// UCX reads its settings once, from the environment, as libucs loads.
test("UCX's signal handlers and memory hooks are off in the process that loaded the addon", () => {
  const r = child(Object.fromEntries(["UCX_ERROR_SIGNALS", "UCX_DEBUG_SIGNO", "UCX_MEM_EVENTS", "UCX_MEM_MALLOC_HOOKS", "UCX_MEM_MMAP_HOOK_MODE"].map((k) => [k, undefined])));
  expect(r.status === 0 ? 0 : `exit status ${r.status}, stderr: ${r.stderr}`).toBe(0);
  expect(r.out!.ucx).toEqual({ UCX_ERROR_SIGNALS: "", UCX_DEBUG_SIGNO: "0", UCX_MEM_EVENTS: "no", UCX_MEM_MALLOC_HOOKS: "no", UCX_MEM_MMAP_HOOK_MODE: "none" });
});

test("a UCX setting the user made is kept", () => {
  const r = child({ UCX_ERROR_SIGNALS: "SIGILL" });
  expect(r.status === 0 ? 0 : `exit status ${r.status}, stderr: ${r.stderr}`).toBe(0);  // a failure shows its stderr
  expect(r.out!.env).toBe("SIGILL");
});
