// Threads, seeds and CUDA presence.
import * as os from "os";
import { checkInteger } from "./check";
import { addon } from "./native";

export const cuda = {
  isAvailable: (): boolean => addon.cudaIsAvailable(),
  deviceCount: (): number => addon.cudaDeviceCount(),
};

/** torch.backends: what the libtorch built against supports. */
export const backends = {
  cuda: {
    /** torch.backends.cuda.is_built(): CUDA compiled in, whether or not a GPU is here. */
    isBuilt: (): boolean => addon.cudaIsBuilt(),
  },
};

export function setNumThreads(n: number): void {
  addon.setNumThreads(checkInteger(n, "n", 1));
}

export function getNumThreads(): number {
  return addon.getNumThreads();
}

export function manualSeed(seed: number): void {
  addon.manualSeed(checkInteger(seed, "seed", 0));
}

export function libtorchVersion(): string {
  return addon.libtorchVersion();
}

// Debian's libtorch starts with one intra-op thread; PyTorch's default is the
// machine's cores. TORCH_TRANSFER_NUM_THREADS (or OMP_NUM_THREADS) overrides it.
const fromEnv = Number(process.env.TORCH_TRANSFER_NUM_THREADS ?? process.env.OMP_NUM_THREADS);
addon.setNumThreads(Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : os.availableParallelism());
