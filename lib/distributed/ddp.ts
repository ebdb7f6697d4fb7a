// DistributedDataParallel: wraps a model so trainModel runs unchanged on every
// rank. Weights and buffers come from rank 0 before the first batch, BatchNorm
// buffers from rank 0 before each forward, gradients are averaged across ranks
// by libtorch's c10d::Reducer in buckets while backward runs (each bucket's
// all-reduce starts as soon as its gradients are ready), and each phase's
// totals are summed over ranks.
import { checkBoolean, checkNumber, checkOptions, invalid, withCallerStack } from "../check";
import { Module } from "../nn/module";
import { addon, NativeAmpOptions, NativeLossOptions, NativeSGD } from "../native";
import { tensor, Tensor } from "../tensor";
import { ProcessGroup } from "./processGroup";

export interface DistributedDataParallelOptions {
  /** Broadcast buffers (BatchNorm's running statistics) from rank 0 before each forward, as DDP's default. */
  broadcastBuffers?: boolean;
  /** Gradient bucket size in MiB (DDP's bucket_cap_mb, 25 by default; the first bucket is 1 MiB, as in DDP). */
  bucketCapMb?: number;
}

const DISTRIBUTED_DATA_PARALLEL_OPTIONS: Record<keyof DistributedDataParallelOptions, true> = { broadcastBuffers: true, bucketCapMb: true };

export class DistributedDataParallel<M extends Module = Module> extends Module {
  readonly module: M;
  readonly processGroup: ProcessGroup;
  readonly broadcastBuffers: boolean;
  readonly bucketBytes: number;
  private synced = false;
  private evalStale = true;

  constructor(module: M, processGroup: ProcessGroup, options: DistributedDataParallelOptions = {}) {
    checkOptions(options, DISTRIBUTED_DATA_PARALLEL_OPTIONS, "DistributedDataParallel");
    if (!(module instanceof Module)) throw invalid("Module", "module", module);
    if (!(processGroup instanceof ProcessGroup)) throw invalid("ProcessGroup (from tt.distributed.initProcessGroup)", "processGroup", processGroup);
    super(module.native);
    // One queue for the wrapper and the module: calls on the weights stay serialised.
    Object.defineProperty(this, "queue", { value: module.queue });
    this.module = module;
    this.processGroup = processGroup;
    this.broadcastBuffers = checkBoolean(options.broadcastBuffers ?? true, "broadcastBuffers");
    this.bucketBytes = Math.round(checkNumber(options.bucketCapMb ?? 25, "bucketCapMb", { min: 1 / 1024 }) * 1024 * 1024);
  }

  /** Makes every rank's weights and buffers rank 0's (done before the first batch anyway). */
  ready(): Promise<void> {
    const callSite = new Error();
    return this.processGroup.queue.run(() => this.queue.run(() => withCallerStack(this.syncOnce(), callSite)));
  }

  private async syncOnce(): Promise<void> {
    if (this.synced) return;
    await addon.broadcastModule(this.native, this.processGroup.native);
    this.synced = true;
  }

  /**
   * @internal Training steps go through ddpTrainStep (buffers from rank 0,
   * gradients averaged). Evaluation needs no collective per batch: the first
   * eval batch after training takes rank 0's weights and buffers once (each
   * rank's BatchNorm statistics moved with its own last batch), then every
   * rank evaluates its own shard, however many batches that is.
   */
  override runBatch(
    optimizer: NativeSGD | null, inputs: Tensor, labels: Tensor, train: boolean, criterion?: NativeLossOptions, amp?: NativeAmpOptions | null,
  ): Promise<{ loss: number; correct: number }> {
    const callSite = new Error();
    if (!train) {
      return this.queue.run(async () => {
        if (this.evalStale) {
          await this.processGroup.queue.run(() => withCallerStack(addon.broadcastModule(this.native, this.processGroup.native), callSite));
          this.evalStale = false;
        }
        return withCallerStack(addon.trainStep(this.native, null, inputs, labels, false, criterion, amp), callSite);
      });
    }
    return this.processGroup.queue.run(() =>
      this.queue.run(async () => {
        await this.syncOnce();
        const step = addon.ddpTrainStep(
          this.native, optimizer, inputs, labels, train, this.processGroup.native, this.broadcastBuffers, this.bucketBytes, criterion, amp,
        );
        const result = await withCallerStack(step, callSite);
        this.evalStale = true;
        return result;
      }),
    );
  }

  /** @internal Sums [loss, correct, images] (or any totals) over all ranks. */
  override async reduceTotals(totals: number[]): Promise<number[]> {
    const host = tensor(Float64Array.from(totals), [totals.length]);
    // NCCL reduces CUDA tensors only: the totals go to this rank's GPU and back.
    const t = this.processGroup.backend === "nccl" ? host.to(this.parameters()[0]?.device ?? `cuda:${this.processGroup.localRank}`) : host;
    try {
      await this.processGroup.allReduce([t]);
      return Array.from((await t.data()) as Float64Array);
    } finally {
      if (t !== host) t.dispose();
      host.dispose();
    }
  }
}
