/** Tests run against the TypeScript sources through ts-jest; the native addon comes from build/. */

// UCX's signal handlers and memory hooks off before the addon loads, as
// lib/native.ts does for every process that loads it (Debian 13's libtorch
// brings UCX in through OpenMPI). The tests load the addon in this process
// (--runInBand), and the process.env a test sees is jest's copy, so
// lib/native.ts's settings would not reach the real environment UCX reads.
for (const [name, value] of Object.entries({
  UCX_ERROR_SIGNALS: "", UCX_DEBUG_SIGNO: "0", UCX_MEM_EVENTS: "no", UCX_MEM_MALLOC_HOOKS: "no", UCX_MEM_MMAP_HOOK_MODE: "none",
})) {
  if (process.env[name] === undefined) process.env[name] = value;
}

module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  testMatch: ["**/*.test.ts"],
  globalSetup: "<rootDir>/__tests__/helpers/globalSetup.ts",
  // The GPU tests need a CUDA device: `npm run test:gpu` (jest.gpu.config.js) runs them.
  testPathIgnorePatterns: ["/node_modules/", "<rootDir>/__tests__/gpu/"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }] },
  testTimeout: 120000,
};
