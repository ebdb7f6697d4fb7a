// `npm install` / `npm ci` / `npm run build`: find libtorch (installing Debian's
// where it may), then build the addon with cmake-js against it.
"use strict";
const path = require("path");
const { spawnSync } = require("child_process");
const { findLibtorch } = require("./find-libtorch");
const fs = require("fs");
const os = require("os");
const { aptInstall, canUseApt, isInstalled } = require("./apt");

const root = path.resolve(__dirname, "..");

function fail(message) {
  console.error(`torch-transfer: ${message}`);
  process.exit(1);
}

let found;
try {
  found = findLibtorch();
} catch (err) {
  fail(err.message);
}
if (!found) {
  if (canUseApt() && aptInstall(["libtorch-dev", "libopenblas0-pthread"], "no libtorch was found")) found = findLibtorch();
  if (!found) {
    fail(
      "no libtorch found. Any one of these works:\n" +
        "  - Debian/Ubuntu: apt-get install libtorch-dev libopenblas0-pthread (done for you when run as root)\n" +
        "  - a pip-installed PyTorch: python3 -m pip install torch (python3 must be the first on PATH)\n" +
        "  - the libtorch zip from pytorch.org (CPU or CUDA): unzip it and set LIBTORCH=/path/to/libtorch\n" +
        "  - any libtorch's CMake config: set Torch_DIR=/path/to/share/cmake/Torch\n" +
        "then run `npm run build`.",
    );
  }
}
// Debian's libtorch uses the system BLAS: OpenBLAS makes its matrix products
// over thirty times faster than the reference BLAS.
if (found.source === "the system") aptInstall(["libopenblas0-pthread"], "fast BLAS for Debian's libtorch");
// Debian's libtorch has c10d and Gloo built in, but Gloo's headers come apart:
// without them the addon builds without tt.distributed. Debian's CUDA libtorch
// (libtorch-cuda-dev) links libgloo-cuda-0, which conflicts with libgloo-dev:
// installing that would remove the CUDA libtorch, so its twin is used.
if (found.source === "the system") {
  const gloo = isInstalled("libgloo-cuda-0") ? "libgloo-cuda-dev" : "libgloo-dev";
  aptInstall([gloo], "headers for data-parallel training (tt.distributed)");
}
// JPEG decoding with the libjpeg-turbo PIL uses (the same pixels as
// torchvision); without its headers JPEG goes through sharp instead.
aptInstall(["libjpeg62-turbo-dev"], "JPEG decoding with PIL's libjpeg-turbo");
console.log(`torch-transfer: building against libtorch from ${found.source} (${found.dir})`);

// A fresh Debian or Ubuntu machine has no compiler or cmake yet.
const onPath = (cmd) => spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
if (!onPath("cmake") || !(onPath("c++") || onPath("g++"))) aptInstall(["cmake", "g++", "make"], "to build the addon");

// cmake-js downloads Node's headers from nodejs.org unless told where they
// are; a Node installed with its headers beside it (nodesource's packages,
// nodejs.org's tarballs) needs no download, so an offline build works.
const env = { ...process.env };
const nodePrefix = path.resolve(path.dirname(process.execPath), "..");
if (!env.npm_config_nodedir && fs.existsSync(path.join(nodePrefix, "include", "node", "node_api.h"))) {
  env.npm_config_nodedir = nodePrefix;
}

// cmake's Makefile generator (where ninja is not installed) builds one file at
// a time unless told otherwise; each file takes libtorch's headers, so use every core.
if (!env.CMAKE_BUILD_PARALLEL_LEVEL) env.CMAKE_BUILD_PARALLEL_LEVEL = String(os.availableParallelism());

const cmakeJs = require.resolve("cmake-js/bin/cmake-js");
const build = spawnSync(
  process.execPath,
  [cmakeJs, "compile", "--CDCMAKE_BUILD_TYPE=Release", `--CDTorch_DIR=${found.dir}`],
  { cwd: root, stdio: "inherit", env },
);
if (build.status !== 0) fail("the native build failed (see above)");

// Titles and charts in the pictures need a font.
require("./viz-deps").ensureVizPackages();
