// initProcessGroup: torch.distributed.init_process_group over libtorch's c10d
// (a TCPStore rendezvous at MASTER_ADDR:MASTER_PORT, then ProcessGroupGloo for
// CPU tensors or ProcessGroupNCCL for CUDA ones).
import { checkInteger, checkOptions, checkString, invalid, withCallerStack } from "../check";
import { addon, NativeProcessGroup } from "../native";
import { SerialQueue } from "../nn/serial";
import { checkTensor, Tensor } from "../tensor";
import { glooInterfaceFor } from "./socketInterface";

export type Backend = "gloo" | "nccl";

export interface InitProcessGroupOptions {
  /** "gloo" (CPU tensors) or "nccl" (CUDA tensors, on a CUDA build with NCCL); by default "nccl" when `device` is CUDA, else "gloo". */
  backend?: Backend;
  /** The device this rank trains on ("cpu", "cuda:LOCAL_RANK"), which picks the default backend. */
  device?: string;
  /** This process's rank, 0..worldSize-1; RANK from the environment by default. */
  rank?: number;
  /** How many processes take part; WORLD_SIZE from the environment by default. */
  worldSize?: number;
  /** Rank 0's address, where the rendezvous store listens; MASTER_ADDR, else 127.0.0.1. */
  masterAddr?: string;
  /** The rendezvous port; MASTER_PORT, else 29500 (torchrun's default). */
  masterPort?: number;
  /** How long the rendezvous and each collective may take; 30 minutes by default, as in PyTorch. */
  timeoutMs?: number;
}

const INIT_PROCESS_GROUP_OPTIONS: Record<keyof InitProcessGroupOptions, true> = { backend: true, device: true, rank: true, worldSize: true, masterAddr: true, masterPort: true, timeoutMs: true };

export const DEFAULT_TIMEOUT_MS = 30 * 60 * 1000;

/** True when the addon was built with libtorch's distributed engine (c10d and Gloo headers found). */
export function isAvailable(): boolean {
  return addon.distributedAvailable();
}

/** torch.distributed.is_nccl_available(): built against a CUDA libtorch with c10d's NCCL backend. */
export function isNcclAvailable(): boolean {
  return addon.ncclAvailable();
}

/** One rank's handle on a process group: collectives run one at a time, in call order. */
export class ProcessGroup {
  /** @internal */
  readonly native: NativeProcessGroup;
  /** @internal Collectives must be issued in the same order on every rank. */
  readonly queue = new SerialQueue();
  /** LOCAL_RANK from the environment (the process's index on its machine), else the rank. */
  readonly localRank: number;

  /** @internal */
  constructor(native: NativeProcessGroup, localRank: number) {
    this.native = native;
    this.localRank = localRank;
  }

  get rank(): number {
    return this.native.rank;
  }
  get size(): number {
    return this.native.size;
  }
  get backend(): string {
    return this.native.backend;
  }
  /** Bytes this rank has all-reduced so far (gradients and totals). */
  get bytesAllReduced(): number {
    return this.native.bytesAllReduced;
  }
  /** Bytes this rank has broadcast or received by broadcast so far (weights and buffers). */
  get bytesBroadcast(): number {
    return this.native.bytesBroadcast;
  }
  get isDisposed(): boolean {
    return this.native.isDisposed;
  }

  /** Sums each tensor across ranks, in place (dist.all_reduce with SUM). */
  allReduce(tensors: Tensor[]): Promise<void> {
    const list = checkTensors(tensors);
    const callSite = new Error();
    return this.queue.run(() => withCallerStack(this.native.allReduce(list), callSite));
  }

  /** Every rank's tensors become `root`'s, in place (dist.broadcast). */
  broadcast(tensors: Tensor[], root = 0): Promise<void> {
    const list = checkTensors(tensors);
    checkInteger(root, "root", 0);
    if (root >= this.size) throw new RangeError(`Expected root < ${this.size} (the world size) but received ${root}`);
    const callSite = new Error();
    return this.queue.run(() => withCallerStack(this.native.broadcast(list, root), callSite));
  }

  /** Resolves once every rank has called it (dist.barrier). */
  barrier(): Promise<void> {
    const callSite = new Error();
    return this.queue.run(() => withCallerStack(this.native.barrier(), callSite));
  }

  /** Closes this rank's connections (dist.destroy_process_group); rank 0 also closes the store. */
  dispose(): void {
    this.native.dispose();
  }
}

function checkTensors(tensors: Tensor[]): Tensor[] {
  if (!Array.isArray(tensors)) throw invalid("array of Tensors", "tensors", tensors);
  tensors.forEach((t, i) => checkTensor(t, `tensors[${i}]`));
  return tensors.slice();
}

function fromEnv(name: string, min: number, env: NodeJS.ProcessEnv): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new TypeError(`Expected ${min === 1 ? "a positive" : "a non-negative"} integer in the environment variable ${name} but found "${raw}"`);
  }
  return value;
}

/** The options torchrun's environment gives: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT. */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): Required<Omit<InitProcessGroupOptions, "backend" | "timeoutMs" | "device">> {
  return {
    rank: fromEnv("RANK", 0, env) ?? 0,
    worldSize: fromEnv("WORLD_SIZE", 1, env) ?? 1,
    masterAddr: env.MASTER_ADDR || "127.0.0.1",
    masterPort: fromEnv("MASTER_PORT", 0, env) ?? 29500,
  };
}

/**
 * Joins the process group: every rank calls it with the same worldSize,
 * masterAddr and masterPort; it resolves once all ranks have joined.
 */
export async function initProcessGroup(options: InitProcessGroupOptions = {}): Promise<ProcessGroup> {
  checkOptions(options, INIT_PROCESS_GROUP_OPTIONS, "initProcessGroup");
  if (typeof options !== "object" || options === null) throw invalid("options object", "options", options);
  const env = optionsFromEnv();
  if (options.device !== undefined && !/^(cpu|cuda(:\d+)?)$/.test(String(options.device))) throw invalid('"cpu", "cuda" or "cuda:N"', "device", options.device);
  const backend = options.backend ?? (String(options.device ?? "cpu").startsWith("cuda") ? "nccl" : "gloo");
  if (backend !== "gloo" && backend !== "nccl") throw invalid('"gloo" or "nccl"', "backend", backend);
  const worldSize = checkInteger(options.worldSize ?? env.worldSize, "worldSize", 1);
  const rank = checkInteger(options.rank ?? env.rank, "rank", 0);
  if (rank >= worldSize) throw new RangeError(`Expected rank < worldSize (${worldSize}) but received ${rank}`);
  const masterAddr = checkString(options.masterAddr ?? env.masterAddr, "masterAddr");
  const masterPort = checkInteger(options.masterPort ?? env.masterPort, "masterPort", 0);
  if (masterPort > 65535) throw new RangeError(`Expected a port in 0..65535 for masterPort but received ${masterPort}`);
  const timeoutMs = checkInteger(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, "timeoutMs", 1);
  if (backend === "nccl" && !isNcclAvailable()) {
    throw new Error(
      'tt.distributed: the "nccl" backend needs a CUDA libtorch with NCCL, and this build has ' +
        (addon.cudaIsBuilt() ? "CUDA but not c10d's NCCL (install NCCL's headers, Debian: libnccl-dev, and rebuild)" : `no CUDA (libtorch ${addon.libtorchVersion()} is CPU-only)`) +
        '; use backend "gloo" with CPU tensors',
    );
  }
  if (!isAvailable()) {
    throw new Error(
      "tt.distributed: this build of torch-transfer has no distributed engine (libtorch's c10d with Gloo). " +
        "Install the Gloo headers (Debian/Ubuntu: `apt-get install libgloo-dev`) and rebuild (`npm run build`).",
    );
  }
  // The native rendezvous reads GLOO_SOCKET_IFNAME; set it as a user on such a
  // host would have to (see socketInterface.ts), for this process and its children.
  const iface = backend === "gloo" ? await glooInterfaceFor(masterAddr) : undefined;
  if (iface) process.env.GLOO_SOCKET_IFNAME = iface;
  const callSite = new Error();
  const native = await withCallerStack(addon.ProcessGroup.create(backend, masterAddr, masterPort, rank, worldSize, timeoutMs), callSite);
  return new ProcessGroup(native, fromEnv("LOCAL_RANK", 0, process.env) ?? rank);
}
