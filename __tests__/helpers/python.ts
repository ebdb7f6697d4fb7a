// Runs Python with PyTorch/torchvision for parity tests. Debian's packages
// belong to /usr/bin/python3, which may not be the python3 first on PATH.
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";

const CANDIDATES = [process.env.TORCH_TRANSFER_PYTHON, "/usr/bin/python3", "python3"].filter(Boolean) as string[];

let cached: string | null | undefined;

/** Where jest's global set-up (globalSetup.ts) leaves the Python it found: a path, or "" for none. */
export const FOUND_PYTHON_ENV = "TT_TEST_TORCH_PYTHON_FOUND";

/** The first Python that imports torch and torchvision, or null. */
export function findTorchPython(): string | null {
  if (cached !== undefined) return cached;
  const found = process.env[FOUND_PYTHON_ENV];
  if (found !== undefined) return (cached = found || null);
  cached = null;
  for (const candidate of CANDIDATES) {
    if (candidate.startsWith("/") && !fs.existsSync(candidate)) continue;
    const probe = spawnSync(candidate, ["-c", "import torch, torchvision"], { stdio: "ignore" });
    if (probe.status === 0) {
      cached = candidate;
      break;
    }
  }
  return cached;
}

/**
 * Python with torch, or a reason to fail: under CI=true a missing torch is an
 * error, never a skip; elsewhere the caller may skip with the returned reason.
 */
export function requireTorchPython(): string {
  const python = findTorchPython();
  if (!python) {
    throw new Error(
      "Python with torch and torchvision was not found (tried " + CANDIDATES.join(", ") + "). " +
        "Install Debian's python3-torch and python3-torchvision (apt-get install python3-torchvision).",
    );
  }
  return python;
}

/** Runs a Python script (given as source) with arguments; returns its stdout. */
export function runPython(source: string, args: string[] = [], timeoutMs = 300_000): string {
  const python = requireTorchPython();
  return execFileSync(python, ["-c", source, ...args], {
    encoding: "utf8",
    timeout: timeoutMs,
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? "2" },
  });
}
