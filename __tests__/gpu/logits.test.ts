// CPU against CUDA on the same weights: ResNet-18's logits within 1e-4 of the
// largest in float32 with TF32 off, and within 1e-2 under float16 autocast.
import * as tt from "../../lib";
import { DEVICE, images, maxAbs, maxDiff, requireCuda, values } from "./gpu";

beforeAll(requireCuda);

async function cpuAndCuda(autocast: boolean): Promise<{ cpu: number[]; cuda: number[]; dtype: string }> {
  tt.manualSeed(7);
  const model = tt.models.resnet18({ numClasses: 10 });
  model.eval();
  const x = images(4);
  const cpu = await values(await tt.noGrad(() => model.forward(x)));
  model.to(DEVICE);
  const onGpu = x.to(DEVICE, { nonBlocking: true });
  const out = await tt.noGrad(() => tt.amp.autocast({ deviceType: "cuda", enabled: autocast }, () => model.forward(onGpu)));
  const dtype = out.dtype;
  const cuda = await values(out);
  [x, onGpu, out].forEach((t) => t.dispose());
  model.dispose();
  return { cpu, cuda, dtype };
}

test("float32, TF32 off: CUDA logits within 1e-4 of the largest CPU logit", async () => {
  const { cpu, cuda, dtype } = await cpuAndCuda(false);
  expect(dtype).toBe("float32");
  // Both float32; the kernels differ (cuDNN against oneDNN) only in summation
  // order over at most 512*3*3 products per output, about 1e-6 relative each
  // through 18 layers: 1e-4 of the largest logit is the bound.
  expect(maxDiff(cpu, cuda)).toBeLessThan(1e-4 * maxAbs(cpu));
});

test("float16 autocast: CUDA logits within 1e-2 of the largest CPU float32 logit", async () => {
  const { cpu, cuda, dtype } = await cpuAndCuda(true);
  // The last layer (linear) runs in float16 under autocast, so the logits are float16.
  expect(dtype).toBe("float16");
  // float16 keeps 11 significant bits (2^-11 = 5e-4 per rounding); 1e-2 of
  // the largest logit is the bound for mixed precision.
  expect(maxDiff(cpu, cuda)).toBeLessThan(1e-2 * maxAbs(cpu));
  // ...and not float32 by accident.
  expect(maxDiff(cpu, cuda)).toBeGreaterThan(0);
});

test("pinned host memory and a non-blocking copy give the same values", async () => {
  const x = images(2, 32);
  const pinned = x.pinMemory();
  expect(pinned.isPinned).toBe(true);
  expect(x.isPinned).toBe(false);
  const onGpu = pinned.to(DEVICE, { nonBlocking: true });
  expect(onGpu.device).toBe(DEVICE);
  // data() runs on the compute queue after the copy, on the same stream.
  expect(await values(onGpu)).toEqual(await values(x));
  [x, pinned, onGpu].forEach((t) => t.dispose());
});
