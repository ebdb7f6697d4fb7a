// Once per jest run: which Python has torch and torchvision. Each test file
// has its own module registry, so without this every file that compares
// against PyTorch would import torch once more just to find it (2 s of CPU
// each, about a minute per run). Test files read it from process.env, which
// jest copies from this process after global set-up.
import { findTorchPython, FOUND_PYTHON_ENV } from "./python";

export default function globalSetup(): void {
  process.env[FOUND_PYTHON_ENV] = findTorchPython() ?? "";
}
