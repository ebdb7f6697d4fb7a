// `npm install` / `npm ci` / `npm run build`: find libtorch (installing Debian's
// where it may), then build the addon with cmake-js against it.
"use strict";
const path = require("path");
const { spawnSync } = require("child_process");
const { findLibtorch } = require("./find-libtorch");
const { aptInstall, canUseApt } = require("./apt");

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
// without them the addon builds without tt.distributed.
if (found.source === "the system") aptInstall(["libgloo-dev"], "headers for data-parallel training (tt.distributed)");
// JPEG decoding with the libjpeg-turbo PIL uses (the same pixels as
// torchvision); without its headers JPEG goes through sharp instead.
aptInstall(["libjpeg62-turbo-dev"], "JPEG decoding with PIL's libjpeg-turbo");
console.log(`torch-transfer: building against libtorch from ${found.source} (${found.dir})`);

const cmakeJs = require.resolve("cmake-js/bin/cmake-js");
const build = spawnSync(
  process.execPath,
  [cmakeJs, "compile", "--CDCMAKE_BUILD_TYPE=Release", `--CDTorch_DIR=${found.dir}`],
  { cwd: root, stdio: "inherit" },
);
if (build.status !== 0) fail("the native build failed (see above)");

// Titles and charts in the pictures need a font.
require("./viz-deps").ensureVizPackages();
