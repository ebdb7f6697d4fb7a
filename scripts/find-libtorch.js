// Finds libtorch's CMake config, in the README's order: LIBTORCH or Torch_DIR
// from the environment, python3's torch package, then the system's
// (Debian/Ubuntu libtorch-dev). Returns the folder holding TorchConfig.cmake.
"use strict";
const fs = require("fs");
const path = require("path");
const { spawnSync } = require("child_process");

function hasConfig(dir) {
  return dir && fs.existsSync(path.join(dir, "TorchConfig.cmake")) ? dir : null;
}

function fromPrefix(prefix) {
  return hasConfig(path.join(prefix, "share", "cmake", "Torch")) || hasConfig(path.join(prefix, "Torch"));
}

function findLibtorch(env = process.env) {
  if (env.LIBTORCH) {
    const dir = fromPrefix(env.LIBTORCH);
    if (!dir) throw new Error(`LIBTORCH=${env.LIBTORCH} holds no share/cmake/Torch/TorchConfig.cmake`);
    return { dir, source: "LIBTORCH" };
  }
  if (env.Torch_DIR) {
    const dir = hasConfig(env.Torch_DIR);
    if (!dir) throw new Error(`Torch_DIR=${env.Torch_DIR} holds no TorchConfig.cmake`);
    return { dir, source: "Torch_DIR" };
  }
  const py = spawnSync("python3", ["-c", "import torch.utils; print(torch.utils.cmake_prefix_path)"], { encoding: "utf8" });
  if (py.status === 0) {
    const dir = hasConfig(path.join(py.stdout.trim(), "Torch"));
    if (dir) return { dir, source: "python3's torch" };
  }
  for (const libdir of ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib"]) {
    const dir = hasConfig(path.join(libdir, "cmake", "Torch"));
    if (dir) return { dir, source: "the system" };
  }
  return null;
}

module.exports = { findLibtorch };

if (require.main === module) {
  const found = findLibtorch();
  console.log(found ? found.dir : "");
  process.exit(found ? 0 : 1);
}
