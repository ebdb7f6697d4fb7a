// Before `npm test`: the parity tests compare against Debian's python3-torch and
// python3-torchvision (the same libtorch), and the ONNX tests check files with
// python3-onnx's checker; install them where we may.
"use strict";
const fs = require("fs");
const { spawnSync } = require("child_process");
const { aptInstall } = require("./apt");

const python = fs.existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
const probe = () => spawnSync(python, ["-c", "import torch, torchvision, PIL, onnx"], { stdio: "ignore" }).status === 0;
if (!probe()) {
  aptInstall(["python3-torch", "python3-torchvision", "python3-pil", "python3-onnx"], "parity tests compare against PyTorch; ONNX tests run onnx.checker");
  if (!probe()) console.warn("torch-transfer: Python's torch/torchvision/onnx not found; parity and ONNX tests will fail (install python3-torchvision python3-onnx)");
}

// The multi-node test joins two network namespaces with `ip` (iproute2).
if (spawnSync("ip", ["-V"], { stdio: "ignore" }).status !== 0) aptInstall(["iproute2"], "the multi-node test makes network namespaces");

// The report test opens report.html in headless Chromium.
require("./viz-deps").ensureVizPackages({ tests: true });
