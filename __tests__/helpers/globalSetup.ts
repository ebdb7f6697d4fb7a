// Once per jest run, before any test file:
// - which Python has torch and torchvision. Each test file has its own module
//   registry, so without this every file that compares against PyTorch would
//   import torch once more just to find it (2 s of CPU each, about a minute
//   per run). Test files read it from process.env, which jest copies from
//   this process after global set-up, and child processes inherit.
// - where the addon starts with oneDNN off, the Python references run with it
//   off too (pythonSite/sitecustomize.py says why).
import * as path from "path";
import { addon } from "../../lib/native";
import { findTorchPython, FOUND_PYTHON_ENV } from "./python";

export default function globalSetup(): void {
  process.env[FOUND_PYTHON_ENV] = findTorchPython() ?? "";
  if (addon.oneDnnOff) {
    process.env.TT_REFERENCE_MKLDNN = "0";
    const site = path.join(__dirname, "pythonSite");
    process.env.PYTHONPATH = process.env.PYTHONPATH ? `${site}${path.delimiter}${process.env.PYTHONPATH}` : site;
  }
}
