// Threads, seeds and CUDA presence.
import * as os from "os";
import { checkBoolean, checkInteger, invalid } from "./check";
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
    matmul: {
      /** torch.backends.cuda.matmul.allow_tf32: TF32 in CUDA matmuls (off by default, as in PyTorch). */
      get allowTf32(): boolean {
        return addon.allowTf32().matmul;
      },
      set allowTf32(on: boolean) {
        addon.allowTf32(checkBoolean(on, "allowTf32"));
      },
    },
  },
  mkldnn: {
    /**
     * torch.backends.mkldnn.enabled: oneDNN for CPU convolutions. On where it
     * runs; off from the start on libtorch 2.x where the CPU's CPUID describes
     * no cache, on which oneDNN 3.x divides by zero (`whyOff` says so), or with
     * TORCH_TRANSFER_ONEDNN=0.
     */
    get enabled(): boolean {
      return addon.mkldnnEnabled();
    },
    set enabled(on: boolean) {
      addon.mkldnnEnabled(checkBoolean(on, "enabled"));
    },
    /** Why oneDNN was off from the start, or "" where it was on. */
    whyOff: addon.oneDnnOff,
  },
  cudnn: {
    /** torch.backends.cudnn.allow_tf32: TF32 in cuDNN convolutions (on by default, as in PyTorch). */
    get allowTf32(): boolean {
      return addon.allowTf32().cudnn;
    },
    set allowTf32(on: boolean) {
      addon.allowTf32(undefined, checkBoolean(on, "allowTf32"));
    },
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

/** libtorch's default CPU generator state (torch.get_rng_state), a copy. */
export function getRngState(): Uint8Array {
  return addon.getRngState();
}

/** Restores what getRngState() gave (torch.set_rng_state). */
export function setRngState(state: Uint8Array): void {
  if (!(state instanceof Uint8Array)) throw invalid("Uint8Array (from getRngState)", "state", state);
  addon.setRngState(state);
}

export function libtorchVersion(): string {
  return addon.libtorchVersion();
}

// Debian's libtorch starts with one intra-op thread; PyTorch's default is the
// machine's cores. TORCH_TRANSFER_NUM_THREADS (or OMP_NUM_THREADS) overrides it.
const fromEnv = Number(process.env.TORCH_TRANSFER_NUM_THREADS ?? process.env.OMP_NUM_THREADS);
addon.setNumThreads(Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : os.availableParallelism());
