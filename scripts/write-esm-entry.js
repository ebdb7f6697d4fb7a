// Writes dist/entry.mjs and dist/entry.d.mts, the ESM face of the CommonJS
// build, so that `import tt, { tensor } from "torch-transfer"` works beside
// `require`, with types, under TypeScript's nodenext as well as commonjs.
"use strict";
const fs = require("fs");
const path = require("path");

const dist = path.resolve(__dirname, "..", "dist");
const names = Object.keys(require(path.join(dist, "entry.js"))).filter((n) => /^[A-Za-z_$][\w$]*$/.test(n) && n !== "default");
// Node gives an ES module that imports CommonJS its module.exports as the default.
const body =
  'import cjs from "./entry.js";\n' +
  "export default cjs;\n" +
  names.map((n) => `export const ${n} = cjs.${n};`).join("\n") +
  "\n";
fs.writeFileSync(path.join(dist, "entry.mjs"), body);
// The declarations point back at the CommonJS ones rather than copying them: a
// copy would be read as ESM, whose relative imports need extensions the
// CommonJS declarations do not have. TypeScript, like Node, types the default
// import of a CommonJS module as its whole module.exports.
const types =
  'import cjs from "./entry.js";\n' +
  'export * from "./entry.js";\n' +
  "export default cjs;\n";
fs.writeFileSync(path.join(dist, "entry.d.mts"), types);
