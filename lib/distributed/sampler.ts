// DistributedSampler: torch.utils.data.DistributedSampler's index order, drawn
// with libtorch's own generator and randperm so every rank matches PyTorch.
import { checkBoolean, checkInteger, checkOptions } from "../check";
import type { Sampler } from "../data/dataLoader";
import { addon } from "../native";

export type { Sampler };

export interface DistributedSamplerOptions {
  /** The world size; WORLD_SIZE from the environment by default. */
  numReplicas?: number;
  /** This process's rank; RANK from the environment by default. */
  rank?: number;
  shuffle?: boolean;
  seed?: number;
  dropLast?: boolean;
}

const DISTRIBUTED_SAMPLER_OPTIONS: Record<keyof DistributedSamplerOptions, true> = { numReplicas: true, rank: true, shuffle: true, seed: true, dropLast: true };

export class DistributedSampler implements Sampler, Iterable<number> {
  readonly datasetLength: number;
  readonly numReplicas: number;
  readonly rank: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  /** How many indices each rank gets per epoch (PyTorch's num_samples). */
  readonly numSamples: number;
  readonly totalSize: number;
  epoch = 0;

  constructor(datasetLength: number, options: DistributedSamplerOptions = {}) {
    checkOptions(options, DISTRIBUTED_SAMPLER_OPTIONS, "DistributedSampler");
    this.datasetLength = checkInteger(datasetLength, "datasetLength", 0);
    const { shuffle = true, seed = 0, dropLast = false } = options;
    this.numReplicas = checkInteger(options.numReplicas ?? envInt("WORLD_SIZE", 1), "numReplicas", 1);
    this.rank = checkInteger(options.rank ?? envInt("RANK", 0), "rank", 0);
    if (this.rank >= this.numReplicas) {
      throw new RangeError(`Invalid rank ${this.rank}, rank should be in the interval [0, ${this.numReplicas - 1}]`);
    }
    this.shuffle = checkBoolean(shuffle, "shuffle");
    this.seed = checkInteger(seed, "seed", 0);
    this.dropLast = checkBoolean(dropLast, "dropLast");
    const n = this.datasetLength;
    // Math.max: Math.ceil(-0.5) is -0, Python's math.ceil gives 0.
    this.numSamples = Math.max(
      0,
      this.dropLast && n % this.numReplicas !== 0 ? Math.ceil((n - this.numReplicas) / this.numReplicas) : Math.ceil(n / this.numReplicas),
    );
    this.totalSize = this.numSamples * this.numReplicas;
  }

  get length(): number {
    return this.numSamples;
  }

  /** Sets the epoch, so each epoch shuffles differently (and the same on every rank). */
  setEpoch(epoch: number): void {
    this.epoch = checkInteger(epoch, "epoch", 0);
  }

  /** This rank's indices for the current epoch. */
  indices(): number[] {
    const n = this.datasetLength;
    let indices = this.shuffle ? addon.randperm(n, this.seed + this.epoch) : Array.from({ length: n }, (_, i) => i);
    if (!this.dropLast) {
      const padding = this.totalSize - indices.length;
      if (padding > 0 && indices.length > 0) {
        const repeated: number[] = [];
        while (repeated.length < padding) repeated.push(...indices);
        indices = indices.concat(repeated.slice(0, padding));
      }
    } else {
      indices = indices.slice(0, this.totalSize);
    }
    const mine: number[] = [];
    for (let i = this.rank; i < this.totalSize; i += this.numReplicas) mine.push(indices[i]);
    return mine;
  }

  [Symbol.iterator](): Iterator<number> {
    return this.indices()[Symbol.iterator]();
  }
}

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  return raw === undefined || raw === "" ? fallback : Number(raw);
}

/**
 * For evaluation: rank r takes indices r, r + N, r + 2N, ... with no padding,
 * so the ranks' summed figures are those of the whole set, each image once.
 */
export class ShardSampler implements Sampler {
  readonly numReplicas: number;
  readonly rank: number;

  constructor(readonly datasetLength: number, { numReplicas, rank }: { numReplicas: number; rank: number }) {
    this.numReplicas = checkInteger(numReplicas, "numReplicas", 1);
    this.rank = checkInteger(rank, "rank", 0);
    if (this.rank >= this.numReplicas) throw new RangeError(`Invalid rank ${this.rank}, rank should be in the interval [0, ${this.numReplicas - 1}]`);
  }

  get length(): number {
    return Math.max(0, Math.ceil((this.datasetLength - this.rank) / this.numReplicas));
  }

  setEpoch(): void {}

  indices(): number[] {
    const mine: number[] = [];
    for (let i = this.rank; i < this.datasetLength; i += this.numReplicas) mine.push(i);
    return mine;
  }
}
