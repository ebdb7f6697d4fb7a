// tt.backends.cuda.isBuilt() and tt.distributed.isNcclAvailable(), PyTorch's
// names, checked against the libraries the process actually loaded.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as tt from "../lib";
import { runPython } from "./helpers/python";

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

// Linux builds /sys/devices/system/cpu/cpu0/cache from the same CPUID leaves
// (4, 0x8000001D) the addon reads: no such folder is the kernel's word that
// CPUID describes no cache, where oneDNN 3.x (libtorch 2.x) divides by zero.
test("backends.mkldnn: off from the start exactly on libtorch 2.x where CPUID describes no cache, or with TORCH_TRANSFER_ONEDNN=0; settable as in PyTorch", async () => {
  const major = Number(tt.libtorchVersion().split(".")[0]);
  const hidden = process.platform === "linux" && process.arch === "x64" && !fs.existsSync("/sys/devices/system/cpu/cpu0/cache");
  const forced = process.env.TORCH_TRANSFER_ONEDNN;
  const off = forced === "0" || (forced !== "1" && major >= 2 && hidden);
  expect(tt.backends.mkldnn.enabled).toBe(!off);
  const why = forced === "0" ? /^turned off by TORCH_TRANSFER_ONEDNN=0$/ : off ? /CPUID describes no cache.*TORCH_TRANSFER_ONEDNN=1/ : /^$/;
  expect(tt.backends.mkldnn.whyOff).toMatch(why);

  const child = (env: Record<string, string>) => {
    const script = `const tt = require(${JSON.stringify(path.resolve(__dirname, "../dist"))});
      require(${JSON.stringify(path.resolve(__dirname, "../dist/layoutProbe"))}).probeLayouts().then((p) =>
        console.log(JSON.stringify({ enabled: tt.backends.mkldnn.enabled, whyOff: tt.backends.mkldnn.whyOff, mkldnn: p.mkldnn })));`;
    return JSON.parse(execFileSync(process.execPath, ["-e", script], { encoding: "utf8", env: { ...process.env, ...env } }));
  };
  const forcedOff = child({ TORCH_TRANSFER_ONEDNN: "0" });
  expect(forcedOff).toEqual({ enabled: false, whyOff: "turned off by TORCH_TRANSFER_ONEDNN=0", mkldnn: { usable: false, why: "oneDNN is off: turned off by TORCH_TRANSFER_ONEDNN=0" } });
  expect(child({ TORCH_TRANSFER_ONEDNN: "1", TORCH_TRANSFER_FAST_LAYOUTS: "1" })).toMatchObject({ enabled: true, whyOff: "" });

  const was = tt.backends.mkldnn.enabled;
  tt.backends.mkldnn.enabled = !was;
  expect(tt.backends.mkldnn.enabled).toBe(!was);
  tt.backends.mkldnn.enabled = was;
  expect(() => {
    (tt.backends.mkldnn as { enabled: unknown }).enabled = "no";
  }).toThrow(/boolean.*enabled/s);
});

// The parity tests' references must run the kernels ours run: where the addon
// starts with oneDNN off, every Python the tests start turns it off as torch is
// imported (helpers/pythonSite/sitecustomize.py), however torch comes in.
test("the tests' reference Python has oneDNN on or off as the addon does, and a Python that never imports torch does not load it", () => {
  const expected = tt.backends.mkldnn.enabled ? "True" : "False";
  expect(runPython("import torch; print(torch.backends.mkldnn.enabled)").trim()).toBe(expected);
  expect(runPython("from torchvision import models; import torch; print(torch.backends.mkldnn.enabled)").trim()).toBe(expected);
  expect(runPython("import json, sys; print('torch' in sys.modules)").trim()).toBe("False");
});
