// torch.utils.data.Subset: a dataset seen through a list of its indices.
import { checkInteger, invalid } from "../../check";
import type { Dataset } from "../../data/dataLoader";
import type { Generator } from "../../random";

export class Subset<D extends Dataset = Dataset> implements Dataset {
  readonly dataset: D;
  readonly indices: readonly number[];

  constructor(dataset: D, indices: readonly number[]) {
    if (!dataset || typeof dataset.get !== "function" || !Number.isInteger(dataset.length)) {
      throw invalid("dataset (with length and get(i))", "dataset", dataset);
    }
    if (!Array.isArray(indices)) throw invalid("array of indices", "indices", indices);
    indices.forEach((i, k) => {
      checkInteger(i, `indices[${k}]`, 0);
      if (i >= dataset.length) throw new RangeError(`indices[${k}] is ${i}, out of range for a dataset of ${dataset.length} samples`);
    });
    this.dataset = dataset;
    this.indices = indices.slice();
  }

  get length(): number {
    return this.indices.length;
  }

  get(i: number, options?: { generator?: Generator }): ReturnType<D["get"]> {
    checkInteger(i, "index", 0);
    if (i >= this.indices.length) throw new RangeError(`index ${i} is out of range for a subset of ${this.indices.length} samples`);
    return this.dataset.get(this.indices[i], options) as ReturnType<D["get"]>;
  }
}
