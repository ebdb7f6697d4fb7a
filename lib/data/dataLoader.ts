// DataLoader: batches of [inputs, labels] from a dataset, decoded `numWorkers`
// at a time and `prefetch` batches ahead of the consumer.
import * as os from "os";
import { checkBoolean, checkInteger, checkOptions, invalid } from "../check";
import { defaultGenerator, Generator } from "../random";
import { addon } from "../native";
import { isTensor, stack, tensor, Tensor } from "../tensor";

export interface Dataset {
  readonly length: number;
  get(i: number, options?: { generator?: Generator }): Promise<[unknown, number]>;
}

export interface DataLoaderOptions {
  batchSize?: number;
  shuffle?: boolean;
  /** How many samples are decoded and transformed at once (0 counts as 1). */
  numWorkers?: number;
  dropLast?: boolean;
  /** Makes shuffling and the random transforms repeat; by default drawn from the transforms' default generator. */
  seed?: number;
  /** Batches loaded ahead of the one the consumer holds. */
  prefetch?: number;
  /** Gives each epoch's indices (e.g. tt.distributed.DistributedSampler); excludes `shuffle`. */
  sampler?: Sampler;
  /**
   * Batches in pinned (page-locked) host memory, as PyTorch's pin_memory, so
   * that `to("cuda", { nonBlocking: true })` (trainModel's) overlaps the copy
   * with the GPU's work. Without a CUDA device it warns once and does nothing, as PyTorch does.
   */
  pinMemory?: boolean;
}

/** Each epoch's dataset indices, in order, as torch.utils.data's samplers give them. */
export interface Sampler {
  readonly length: number;
  indices(): number[];
}

/** One batch: inputs [N, C, H, W] and int64 labels [N]. */
export type Batch = [Tensor, Tensor];

const DATALOADER_OPTIONS: Record<keyof DataLoaderOptions, true> = {
  batchSize: true, shuffle: true, numWorkers: true, dropLast: true, seed: true, prefetch: true, sampler: true, pinMemory: true,
};

let warnedNoPinning = false;

export class DataLoader implements AsyncIterable<Batch> {
  readonly dataset: Dataset;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly numWorkers: number;
  readonly dropLast: boolean;
  readonly prefetch: number;
  readonly sampler: Sampler | undefined;
  /** Whether batches really are pinned: pinMemory was asked for and a CUDA device is here. */
  readonly pinMemory: boolean;
  /** Draws each epoch's order and transform seeds; its state is what a checkpoint keeps to resume exactly. */
  readonly generator: Generator;

  constructor(dataset: Dataset, options: DataLoaderOptions = {}) {
    if (!dataset || typeof dataset.get !== "function" || !Number.isInteger(dataset.length)) {
      throw invalid("dataset (with length and get(i))", "dataset", dataset);
    }
    const { batchSize = 1, shuffle = false, numWorkers = os.availableParallelism(), dropLast = false, seed, prefetch = 2, sampler, pinMemory = false } = checkOptions(options, DATALOADER_OPTIONS, "DataLoader");
    if (sampler !== undefined && (typeof sampler?.indices !== "function" || !Number.isInteger(sampler.length))) {
      throw invalid("sampler (with length and indices())", "sampler", sampler);
    }
    if (sampler !== undefined && shuffle) throw new TypeError("sampler option is mutually exclusive with shuffle");
    this.sampler = sampler;
    this.dataset = dataset;
    this.batchSize = checkInteger(batchSize, "batchSize", 1);
    this.shuffle = checkBoolean(shuffle, "shuffle");
    this.numWorkers = Math.max(1, checkInteger(numWorkers, "numWorkers", 0));
    this.dropLast = checkBoolean(dropLast, "dropLast");
    this.prefetch = checkInteger(prefetch, "prefetch", 0);
    this.pinMemory = checkBoolean(pinMemory, "pinMemory") && pinningAvailable();
    this.generator = new Generator(seed === undefined ? defaultGenerator.seed53() : checkInteger(seed, "seed", 0));
  }

  /** The number of batches in an epoch. */
  get length(): number {
    const n = (this.sampler ? this.sampler.length : this.dataset.length) / this.batchSize;
    return this.dropLast ? Math.floor(n) : Math.ceil(n);
  }

  /** Each iteration is an epoch, with a fresh order when shuffling. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Batch, void, undefined> {
    const n = this.dataset.length;
    const order = this.sampler
      ? this.sampler.indices()
      : this.shuffle ? this.generator.permutation(n) : Array.from({ length: n }, (_, i) => i);
    // Each sample draws from its own generator, seeded from the epoch's seed and
    // its position, so that concurrent decoding cannot change what it draws.
    const epochSeed = this.generator.seed53();
    const batches: number[][] = [];
    for (let b = 0; b < this.length; b++) batches.push(order.slice(b * this.batchSize, (b + 1) * this.batchSize));

    const slots = new Slots(this.numWorkers);
    const started: (Promise<Batch> | null)[] = [];
    let stopped = false;
    const load = async (index: number, position: number): Promise<[unknown, number]> => {
      await slots.acquire();
      try {
        if (stopped) throw new Error("DataLoader iteration ended");
        return await this.dataset.get(index, { generator: new Generator(mixSeed(epochSeed, position)) });
      } finally {
        slots.release();
      }
    };
    const start = (b: number) => {
      const collated = collate(batches[b].map((index, k) => load(index, b * this.batchSize + k)));
      const promise = this.pinMemory ? collated.then(pinBatch) : collated;
      promise.catch(() => undefined); // awaited later; no unhandled-rejection noise meanwhile
      started.push(promise);
    };

    let next = 0;
    try {
      for (let b = 0; b < batches.length; b++) {
        while (next < batches.length && next <= b + this.prefetch) start(next++);
        const batch = await started[b]!;
        started[b] = null; // the consumer owns it now
        yield batch;
      }
    } finally {
      // An early break or an error: stop queued samples, and free what was loaded ahead.
      stopped = true;
      const leftover = await Promise.allSettled(started.filter((p): p is Promise<Batch> => p !== null));
      for (const r of leftover) if (r.status === "fulfilled") r.value.forEach((t) => t.dispose());
    }
  }
}

/** PyTorch's DataLoader warns and carries on when pin_memory has no accelerator to pin for. */
function pinningAvailable(): boolean {
  if (addon.cudaIsAvailable()) return true;
  if (!warnedNoPinning) {
    warnedNoPinning = true;
    process.emitWarning(
      `DataLoader: pinMemory is true but ${addon.cudaIsBuilt() ? "no CUDA device is available" : "this libtorch was built without CUDA"}, so batches stay in ordinary memory`,
      "TorchTransferPinMemoryWarning",
    );
  }
  return false;
}

/** The batch's tensors copied into pinned memory (the pageable ones freed). */
function pinBatch(batch: Batch): Batch {
  const pinned: Tensor[] = [];
  try {
    for (const t of batch) pinned.push(t.pinMemory());
    return pinned as Batch;
  } catch (err) {
    pinned.forEach((t) => t.dispose());
    throw err;
  } finally {
    batch.forEach((t) => t.dispose());
  }
}

/** Waits for every sample, then stacks them; on any failure frees the rest and rethrows the first error. */
async function collate(items: Promise<[unknown, number]>[]): Promise<Batch> {
  const settled = await Promise.allSettled(items);
  const failure = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
  const values = settled.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const notTensor = values.find(([x]) => !isTensor(x));
  if (failure || notTensor) {
    for (const [x] of values) if (isTensor(x)) x.dispose();
    if (failure) throw failure.reason;
    throw invalid("Tensor from the dataset (give it a transform ending in ToTensor)", "sample", notTensor![0]);
  }
  const parts = values.map(([x]) => x as Tensor);
  try {
    return [stack(parts), tensor(BigInt64Array.from(values, ([, label]) => BigInt(label)), [values.length])];
  } finally {
    parts.forEach((t) => t.dispose());
  }
}

function mixSeed(seed: number, position: number): number {
  let h = Math.imul((seed >>> 0) ^ Math.imul(position + 1, 0x9e3779b1), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return ((h ^ (h >>> 16)) >>> 0) + (Math.floor(seed / 2 ** 32) % 2 ** 21) * 2 ** 32;
}

/** A counting semaphore, first come first served, so samples start in order. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(count: number) {
    this.free = count;
  }
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}
