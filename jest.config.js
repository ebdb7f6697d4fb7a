/** Tests run against the TypeScript sources through ts-jest; the native addon comes from build/. */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  testMatch: ["**/*.test.ts"],
  // The GPU tests need a CUDA device: `npm run test:gpu` (jest.gpu.config.js) runs them.
  testPathIgnorePatterns: ["/node_modules/", "<rootDir>/__tests__/gpu/"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }] },
  testTimeout: 120000,
};
