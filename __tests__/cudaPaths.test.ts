// The CUDA paths as a CPU-only build meets them: every one either works on
// "cpu" or fails with an Error saying what is missing (never a crash). Their
// CUDA side runs in __tests__/gpu/ (npm run test:gpu) where a GPU is.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tt from "../lib";
import { runCli, subset } from "./helpers/cli";

const cpuOnly = !tt.backends.cuda.isBuilt();
const noGpu = !tt.cuda.isAvailable();

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "tt-cudapaths-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test("this is the machine the test is for: no CUDA device", () => {
  // Where a GPU is, __tests__/gpu/ covers these paths instead.
  expect(noGpu).toBe(true);
});

test("model.to and tensor.to take cpu strings, and say CUDA is missing for cuda:N", () => {
  const model = tt.models.resnet18({ numClasses: 2 });
  expect(model.to("cpu")).toBe(model);
  expect(() => model.to("cpu:0")).not.toThrow();
  const why = cpuOnly ? /device "cuda:1" needs CUDA, but this libtorch \(.*\) was built without CUDA/ : /device "cuda:1" needs CUDA, and this CUDA libtorch .* finds no CUDA device/;
  expect(() => model.to("cuda:1")).toThrow(why);
  expect(() => model.to("gpu")).toThrow(/Expected device string "cpu", "cuda" or "cuda:N" for device but received "gpu"/);

  const t = tt.tensor(new Float32Array([1, 2, 3]));
  const copy = t.to("cpu", { nonBlocking: true });
  const wide = t.to("cpu", "float64", { nonBlocking: true });
  expect(copy.device).toBe("cpu");
  expect(wide.dtype).toBe("float64");
  expect(() => t.to("cuda", { nonBlocking: true })).toThrow(/needs CUDA/);
  expect(() => t.to("cpu", { non_blocking: true } as never)).toThrow(/nonBlocking/);
  expect(() => t.to("cpu", { nonBlocking: "yes" } as never)).toThrow(/Expected boolean for nonBlocking/);
  expect(t.isPinned).toBe(false);
  expect(() => t.pinMemory()).toThrow(cpuOnly ? /pinMemory\(\) needs CUDA: .* was built without CUDA/ : /pinMemory\(\) needs CUDA: .* finds no CUDA device/);
  [t, copy, wide].forEach((x) => x.dispose());
});

test("DataLoader's pinMemory without CUDA warns once, as PyTorch's, and gives ordinary batches", async () => {
  const dataset = { length: 4, get: async (i: number): Promise<[unknown, number]> => [tt.tensor(new Float32Array([i, i]), [2]), i % 2] };
  // emitWarning is watched, not the "warning" event: jest's process object is not the one that emits it.
  const spy = jest.spyOn(process, "emitWarning").mockImplementation(() => undefined);
  const warned = () => spy.mock.calls.map(([w]) => String(w));
  try {
    const a = new tt.DataLoader(dataset, { batchSize: 2, pinMemory: true, numWorkers: 1 });
    const b = new tt.DataLoader(dataset, { batchSize: 2, pinMemory: true, numWorkers: 1 });
    expect(a.pinMemory).toBe(false);
    expect(b.pinMemory).toBe(false);
    const seen: number[] = [];
    for await (const [x, y] of a) {
      seen.push(...Array.from((await x.data()) as Float32Array));
      expect(x.isPinned).toBe(false);
      x.dispose();
      y.dispose();
    }
    expect(seen).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
    // Once, however many loaders ask (each test file has its own module registry, so this one's first is here).
    expect(warned().filter((w) => /pinMemory is true but/.test(w))).toEqual([
      `DataLoader: pinMemory is true but ${cpuOnly ? "this libtorch was built without CUDA" : "no CUDA device is available"}, so batches stay in ordinary memory`,
    ]);
  } finally {
    spy.mockRestore();
  }
  expect(() => new tt.DataLoader(dataset, { pinMemory: 1 as never })).toThrow(/Expected boolean for pinMemory/);
});

test("tt.load's mapLocation: cpu loads as before, cuda says it is missing, a bad key is named", async () => {
  const file = path.join(dir, "sd.safetensors");
  await tt.save(new Map([["w", tt.tensor(new Float32Array([1.5, -2]), [2])]]), file);
  const sd = await tt.load(file, { mapLocation: "cpu" });
  expect(Array.from((await sd.get("w")!.data()) as Float32Array)).toEqual([1.5, -2]);
  await expect(tt.load(file, { mapLocation: "cuda:0" })).rejects.toThrow(/mapLocation "cuda:0" needs CUDA/);
  await expect(tt.load(file, { map_location: "cpu" } as never)).rejects.toThrow(/mapLocation/);
});

test('initProcessGroup: "nccl", or a CUDA device (whose default it is), says NCCL is missing from this build', async () => {
  if (tt.distributed.isNcclAvailable()) return; // a CUDA build: the GPU tests cover it
  const one = { rank: 0, worldSize: 1, masterAddr: "127.0.0.1", masterPort: 1 };
  const why = /the "nccl" backend needs a CUDA libtorch with NCCL, and this build has no CUDA \(libtorch .* is CPU-only\); use backend "gloo" with CPU tensors/;
  await expect(tt.distributed.initProcessGroup({ ...one, backend: "nccl" })).rejects.toThrow(why);
  await expect(tt.distributed.initProcessGroup({ ...one, device: "cuda:0" })).rejects.toThrow(why);
  await expect(tt.distributed.initProcessGroup({ ...one, device: "tpu" })).rejects.toThrow(/Expected "cpu", "cuda" or "cuda:N" for device but received "tpu"/);
});

test("the commands: --device cuda and --nproc-per-node with cuda are usage errors naming CUDA; --amp on this CPU says float32 in one line", async () => {
  const small = subset(path.join(dir, "data"), 2);
  const cuda = runCli("finetune", ["--data", small, "--device", "cuda", "--nproc-per-node", "2", "--epochs", "1", "--weights", "none", "--no-report"]);
  expect(cuda.status).toBe(2);
  expect(cuda.stderr).toMatch(/--device "cuda" needs CUDA/);
  const probe = runCli("featureExtract", ["--data", small, "--amp", "--cache-features", "--epochs", "1", "--weights", "none", "--no-report"]);
  expect(probe.status).toBe(2);
  expect(probe.stderr).toMatch(/--cache-features trains the head on cached float32 features; drop --amp/);
  const out = path.join(dir, "run");
  const r = runCli("finetune", ["--data", small, "--amp", "--epochs", "1", "--batch-size", "2", "--weights", "none", "--out", out, "--json", "--no-report"], { TORCH_TRANSFER_CPU_BF16: "0" });
  expect(r.status).toBe(0);
  const lines = r.stderr.split("\n").filter((l) => l.includes("amp on cpu"));
  expect(lines).toEqual(["finetune: amp on cpu runs float32: turned off by TORCH_TRANSFER_CPU_BF16=0"]);
  // The setting is the run's (so --resume keeps it).
  const meta = await tt.loadSafetensorsMetadata(path.join(out, "model.safetensors"));
  expect(JSON.parse(meta!.settings).amp).toBe(true);
}, 300_000);
