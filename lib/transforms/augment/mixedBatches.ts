// A loader whose batches go through a batch transform (MixUp, CutMix), as the
// references' collate_fn applies them.
import { Generator } from "../../random";
import { Tensor } from "../../tensor";
import { BatchTransform } from "./mixup";

interface BatchSource {
  [Symbol.asyncIterator](): AsyncIterator<[Tensor, Tensor]>;
  readonly length?: number;
}

/**
 * Each epoch draws from its own generator, a function of `seed` and the epoch
 * alone (counted from `startEpoch`), so that a resumed run mixes its batches
 * as the uninterrupted run did.
 */
export class MixedBatches {
  private epoch: number;

  constructor(readonly loader: BatchSource, readonly transform: BatchTransform, readonly seed: number, startEpoch = 0) {
    this.epoch = startEpoch;
  }

  /** The batches in an epoch: the loader's. */
  get length(): number {
    return this.loader.length ?? 0;
  }

  static generatorFor(seed: number, epoch: number): Generator {
    const seeds = new Generator(seed);
    let s = 0;
    for (let e = 0; e <= epoch; e++) s = seeds.seed53();
    return new Generator(s);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<[Tensor, Tensor], void, undefined> {
    const generator = MixedBatches.generatorFor(this.seed, this.epoch++);
    const batches = { [Symbol.asyncIterator]: () => this.loader[Symbol.asyncIterator]() };
    for await (const [inputs, labels] of batches) {
      let mixed: [Tensor, Tensor];
      try {
        mixed = await this.transform.forward(inputs, labels, generator);
      } finally {
        inputs.dispose();
        labels.dispose();
      }
      yield mixed;
    }
  }
}
