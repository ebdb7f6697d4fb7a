// tt.backends.cuda.isBuilt() and tt.distributed.isNcclAvailable(), PyTorch's
// names, checked against the libraries the process actually loaded.
import * as fs from "fs";
import * as tt from "../lib";

const mapped = (library: string): boolean => fs.readFileSync("/proc/self/maps", "utf8").includes(library);

test("backends.cuda.isBuilt() is true exactly when the addon loaded libtorch's CUDA library", () => {
  expect(tt.libtorchVersion()).toMatch(/^\d+\.\d+\.\d+$/); // the addon is loaded
  expect(tt.backends.cuda.isBuilt()).toBe(mapped("libc10_cuda"));
});

test("distributed.isNcclAvailable() only where CUDA is built and NCCL was loaded", () => {
  const nccl = tt.distributed.isNcclAvailable();
  expect(typeof nccl).toBe("boolean");
  expect(nccl && !(tt.backends.cuda.isBuilt() && mapped("libnccl"))).toBe(false);
});

test("cuda.isAvailable() implies isBuilt(): no CUDA device without a CUDA build", () => {
  expect(tt.cuda.isAvailable() && !tt.backends.cuda.isBuilt()).toBe(false);
});
