// Writes dist/index.mjs so that `import { tensor } from "torch-transfer"` works
// beside `require`: named exports re-exported from the CommonJS build.
"use strict";
const fs = require("fs");
const path = require("path");

const dist = path.resolve(__dirname, "..", "dist");
const names = Object.keys(require(path.join(dist, "index.js"))).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== "default");
const body =
  'import cjs from "./index.js";\n' +
  "export default cjs;\n" +
  names.map((n) => `export const ${n} = cjs.${n};`).join("\n") +
  "\n";
fs.writeFileSync(path.join(dist, "index.mjs"), body);
fs.copyFileSync(path.join(dist, "index.d.ts"), path.join(dist, "index.d.mts"));
