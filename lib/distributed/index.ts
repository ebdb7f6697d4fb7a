// tt.distributed: data-parallel training across processes and machines on
// libtorch's c10d (Gloo), the way torch.distributed does it.
export { initProcessGroup, isAvailable, isNcclAvailable, optionsFromEnv, ProcessGroup, DEFAULT_TIMEOUT_MS } from "./processGroup";
export type { Backend, InitProcessGroupOptions } from "./processGroup";
export { DistributedSampler, ShardSampler } from "./sampler";
export type { Sampler, DistributedSamplerOptions } from "./sampler";
export { DistributedDataParallel } from "./ddp";
export type { DistributedDataParallelOptions } from "./ddp";
