// What the pictures and the report need from the system, installed where we may
// (root on Debian/Ubuntu): a font for the titles and charts that sharp's librsvg
// renders (fonts-dejavu-core, found through fontconfig), and for the report's
// test, a headless Chromium. Call ensureVizPackages() from the setup, or run
// `node scripts/viz-deps.js [--tests]`.
"use strict";
const fs = require("fs");
const { aptInstall, canUseApt } = require("./apt");

const FONT_PACKAGES = ["fonts-dejavu-core"];
const TEST_PACKAGES = ["chromium"];

function hasDejaVu() {
  return ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans.ttf"].some((f) => fs.existsSync(f));
}

/** Installs the font (and, with { tests: true }, Chromium) when missing; returns what is still missing. */
function ensureVizPackages({ tests = false } = {}) {
  const missing = [];
  if (!hasDejaVu() && !aptInstall(FONT_PACKAGES, "titles and charts are drawn with DejaVu Sans")) missing.push(...FONT_PACKAGES);
  if (tests && !fs.existsSync("/usr/bin/chromium") && !aptInstall(TEST_PACKAGES, "the report test opens report.html in headless Chromium")) {
    missing.push(...TEST_PACKAGES);
  }
  if (missing.length) {
    console.warn(
      `torch-transfer: missing ${missing.join(", ")}` +
        (canUseApt() ? " (apt-get failed)" : `; install them with: apt-get install ${missing.join(" ")}`),
    );
  }
  return missing;
}

module.exports = { ensureVizPackages, FONT_PACKAGES, TEST_PACKAGES };

if (require.main === module) ensureVizPackages({ tests: process.argv.includes("--tests") });
