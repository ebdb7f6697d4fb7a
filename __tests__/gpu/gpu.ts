// What every GPU test needs: a CUDA device, and TF32 off so float32 means float32.
import * as tt from "../../lib";

export const DEVICE = "cuda:0";

/** Fails (never skips) where there is no CUDA device: these tests are run only where one should be. */
export function requireCuda(): void {
  if (!tt.backends.cuda.isBuilt()) throw new Error(`npm run test:gpu needs a CUDA build of torch-transfer; this one is built against a CPU-only libtorch ${tt.libtorchVersion()}`);
  if (!tt.cuda.isAvailable()) throw new Error("npm run test:gpu needs a CUDA device, and this CUDA build finds none (no GPU, or no driver)");
  // PyTorch's default lets cuDNN convolutions use TF32 (10-bit mantissa): the fp32 bounds below assume true float32.
  tt.backends.cuda.matmul.allowTf32 = false;
  tt.backends.cudnn.allowTf32 = false;
}

export async function values(t: tt.Tensor): Promise<number[]> {
  return Array.from((await t.data()) as Float32Array);
}

export function maxAbs(a: number[]): number {
  return a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
}

export function maxDiff(a: number[], b: number[]): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} and ${b.length}`);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
}

/** A deterministic batch of `n` images, 3 x size x size, roughly normalised. */
export function images(n: number, size = 224, seed = 1): tt.Tensor {
  const x = new Float32Array(n * 3 * size * size);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(seed * 7919 + i * 0.0137) * 1.5;
  return tt.tensor(x, [n, 3, size, size]);
}
