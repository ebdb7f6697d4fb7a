// The package's entry point: everything index.ts exports, and the same as a
// default export, so `import tt from "torch-transfer"` type-checks and works in
// ESM and in TypeScript's CommonJS (esModuleInterop) alike. It lives apart from
// index.ts because a module cannot import itself to name its own namespace.
import * as torchTransfer from "./index";

export * from "./index";
export default torchTransfer;
