// Installs Debian/Ubuntu packages when we may (root on a Debian-like system).
"use strict";
const fs = require("fs");
const { spawnSync } = require("child_process");

function canUseApt() {
  return fs.existsSync("/etc/debian_version") && typeof process.getuid === "function" && process.getuid() === 0;
}

function isInstalled(pkg) {
  const r = spawnSync("dpkg-query", ["-W", "-f=${Status}", pkg], { encoding: "utf8" });
  return r.status === 0 && r.stdout.includes("install ok installed");
}

let updated = false;
function aptInstall(packages, why) {
  const missing = packages.filter((p) => !isInstalled(p));
  if (missing.length === 0) return true;
  if (!canUseApt()) return false;
  console.log(`torch-transfer: installing ${missing.join(" ")} (${why})`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  if (!updated) {
    spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
    updated = true;
  }
  // --no-remove: a package that conflicts with one installed (libgloo-dev
  // with Debian's CUDA libtorch) makes apt stop rather than remove it.
  const r = spawnSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", "--no-remove", ...missing], { stdio: "inherit", env });
  return r.status === 0;
}

module.exports = { aptInstall, canUseApt, isInstalled };
