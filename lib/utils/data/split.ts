// Splitting a dataset: torch.utils.data.random_split, and the stratified
// split of scikit-learn's train_test_split(stratify=y), both drawing from the
// project's seedable Generator so that a seed gives the same split every time.
import { checkInteger, checkNumber, checkOptions, invalid } from "../../check";
import type { Dataset } from "../../data/dataLoader";
import { defaultGenerator, Generator } from "../../random";
import { Subset } from "./subset";

/**
 * torch.utils.data.random_split: `lengths` as counts summing to the dataset's
 * length, or as fractions summing to 1 (each floored, and the remainder handed
 * out one by one from the first, as PyTorch does). The permutation is this
 * package's Generator's, not libtorch's: the same seed gives the same split
 * here, not PyTorch's split.
 */
export function randomSplit<D extends Dataset>(dataset: D, lengths: readonly number[], options: { generator?: Generator } = {}): Subset<D>[] {
  const { generator = defaultGenerator } = checkOptions(options, { generator: true }, "randomSplit");
  if (!(generator instanceof Generator)) throw invalid("Generator", "generator", generator);
  if (!Array.isArray(lengths) || lengths.length === 0) throw invalid("non-empty array of lengths", "lengths", lengths);
  const n = dataset.length;
  let counts: number[];
  // PyTorch's test: lengths summing to 1 (within isclose's 1e-9) are fractions.
  const total = lengths.reduce((a, b) => a + b, 0);
  const fractions = lengths.every((x) => typeof x === "number" && x >= 0 && x <= 1) && Math.abs(total - 1) <= 1e-9 && total <= 1;
  if (fractions) {
    counts = lengths.map((f) => Math.floor(n * f));
    const remainder = n - counts.reduce((a, b) => a + b, 0);
    for (let i = 0; i < remainder; i++) counts[i % counts.length] += 1;
  } else {
    counts = lengths.map((x, i) => checkInteger(x, `lengths[${i}]`, 0));
    const sum = counts.reduce((a, b) => a + b, 0);
    if (sum !== n) throw new RangeError(`Sum of input lengths (${sum}) does not equal the length of the input dataset (${n})`);
  }
  const order = generator.permutation(n);
  const out: Subset<D>[] = [];
  let at = 0;
  for (const c of counts) {
    out.push(new Subset(dataset, order.slice(at, at + c)));
    at += c;
  }
  return out;
}

export interface TrainTestSplitOptions {
  /** The share of each class (or of the whole set, without `stratify`) that goes to the test side, in (0, 1). */
  testSize: number;
  /** The class of each sample (a dataset's `targets`): each class is split on its own, in the same proportion. */
  stratify?: readonly number[];
  generator?: Generator;
}

/**
 * The indices of a train/test split, as scikit-learn's
 * train_test_split(range(n), test_size=..., stratify=y) gives them, each side in
 * increasing order. Stratified: each class's samples are shuffled and
 * round(testSize * count) of them (at least one, when the class has two or
 * more, and never all) go to the test side, so every class is on both sides
 * wherever it can be. The split depends only on the targets, testSize and the
 * generator's state.
 */
export function trainTestSplitIndices(n: number, options: TrainTestSplitOptions): [number[], number[]] {
  checkInteger(n, "n", 0);
  const { testSize, stratify, generator = defaultGenerator } = checkOptions(options, { testSize: true, stratify: true, generator: true }, "trainTestSplit");
  checkNumber(testSize, "testSize", { min: 0, max: 1 });
  if (testSize === 0 || testSize === 1) throw invalid("number strictly between 0 and 1", "testSize", testSize);
  if (!(generator instanceof Generator)) throw invalid("Generator", "generator", generator);
  let groups: number[][];
  if (stratify === undefined) {
    groups = [Array.from({ length: n }, (_, i) => i)];
  } else {
    if (!Array.isArray(stratify) || stratify.length !== n) throw invalid(`array of ${n} class indices`, "stratify", stratify);
    const byClass = new Map<number, number[]>();
    stratify.forEach((c, i) => {
      checkInteger(c, `stratify[${i}]`, 0);
      if (!byClass.has(c)) byClass.set(c, []);
      byClass.get(c)!.push(i);
    });
    groups = [...byClass.keys()].sort((a, b) => a - b).map((c) => byClass.get(c)!);
  }
  const train: number[] = [];
  const test: number[] = [];
  for (const members of groups) {
    const count = members.length;
    const nTest = count < 2 ? 0 : Math.min(count - 1, Math.max(1, Math.round(testSize * count)));
    const order = generator.permutation(count);
    order.forEach((k, j) => (j < nTest ? test : train).push(members[k]));
  }
  return [train.sort((a, b) => a - b), test.sort((a, b) => a - b)];
}

/** trainTestSplitIndices over a dataset: its [train, test] Subsets. */
export function trainTestSplit<D extends Dataset>(dataset: D, options: TrainTestSplitOptions): [Subset<D>, Subset<D>] {
  const [train, test] = trainTestSplitIndices(dataset.length, options);
  return [new Subset(dataset, train), new Subset(dataset, test)];
}
