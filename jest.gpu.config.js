/** The GPU tests (__tests__/gpu/), which `npm test` leaves out: `npm run test:gpu` on a machine with a CUDA device and a CUDA build. */
const base = require("./jest.config.js");
module.exports = {
  ...base,
  roots: ["<rootDir>/__tests__/gpu"],
  testPathIgnorePatterns: ["/node_modules/"],
  testTimeout: 600000,
};
