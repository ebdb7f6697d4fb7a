// tt.utils.data: Subset, randomSplit (torch.utils.data.random_split's lengths,
// computed by PyTorch at test time) and the stratified trainTestSplit.
import * as tt from "../lib";
import { runPython } from "./helpers/python";

const { Subset, randomSplit, trainTestSplit, trainTestSplitIndices } = tt.utils.data;

/** A dataset whose samples are their own index, with a class per sample. */
function numbers(targets: number[]) {
  return { length: targets.length, targets, get: async (i: number): Promise<[number, number]> => [i, targets[i]] };
}

test("Subset gives the parent's samples at its indices, in the indices' order, and refuses an index past the parent", async () => {
  const parent = numbers([0, 1, 0, 1, 1]);
  const sub = new Subset(parent, [4, 0, 2]);
  expect(sub.length).toBe(3);
  expect(await Promise.all([0, 1, 2].map((i) => sub.get(i)))).toEqual([[4, 1], [0, 0], [2, 0]]);
  expect(() => sub.get(3)).toThrow("index 3 is out of range for a subset of 3 samples");
  expect(() => new Subset(parent, [5])).toThrow("indices[0] is 5, out of range for a dataset of 5 samples");
  expect(() => new Subset(parent, [1.5])).toThrow("Expected non-negative integer for indices[0] but received 1.5 of type number");
});

test("randomSplit's lengths from fractions equal PyTorch's random_split, and its parts partition the dataset", () => {
  const cases: [number, number[]][] = [[10, [0.3, 0.7]], [7, [0.5, 0.25, 0.25]], [101, [0.8, 0.1, 0.1]], [3, [0.1, 0.1, 0.8]]];
  const torchLengths = JSON.parse(
    runPython(
      `
import json, sys, torch
cases = json.loads(sys.argv[1])
print(json.dumps([[len(s) for s in torch.utils.data.random_split(range(n), f, generator=torch.Generator().manual_seed(0))] for n, f in cases]))
`,
      [JSON.stringify(cases)],
    ),
  ) as number[][];
  cases.forEach(([n, fractions], k) => {
    const parts = randomSplit(numbers(new Array(n).fill(0)), fractions, { generator: new tt.Generator(1) });
    expect(parts.map((p) => p.length)).toEqual(torchLengths[k]);
    expect(parts.flatMap((p) => p.indices).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
  });
  expect(() => randomSplit(numbers([0, 0, 0]), [1, 1])).toThrow("Sum of input lengths (2) does not equal the length of the input dataset (3)");
});

test("randomSplit repeats for a seed and differs for another", () => {
  const ds = numbers(new Array(50).fill(0));
  const a = randomSplit(ds, [40, 10], { generator: new tt.Generator(7) })[1].indices;
  const b = randomSplit(ds, [40, 10], { generator: new tt.Generator(7) })[1].indices;
  const c = randomSplit(ds, [40, 10], { generator: new tt.Generator(8) })[1].indices;
  expect(b).toEqual(a);
  expect(c).not.toEqual(a);
});

test("trainTestSplit stratified: each class gives round(testSize * count) to the test side (at least one, never all), the sides partition the set", () => {
  // Classes of 1, 2, 5, 10 and 37 samples, interleaved.
  const counts = [1, 2, 5, 10, 37];
  const targets = counts.flatMap((n, c) => new Array(n).fill(c));
  for (let i = targets.length - 1; i > 0; i--) {
    const j = (i * 7919) % (i + 1);
    [targets[i], targets[j]] = [targets[j], targets[i]];
  }
  const ds = numbers(targets);
  const [train, test] = trainTestSplit(ds, { testSize: 0.2, stratify: targets, generator: new tt.Generator(3) });
  const perClass = (idx: readonly number[]) => counts.map((_, c) => idx.filter((i) => targets[i] === c).length);
  const expected = counts.map((n) => (n < 2 ? 0 : Math.min(n - 1, Math.max(1, Math.round(0.2 * n)))));
  expect(expected).toEqual([0, 1, 1, 2, 7]);
  expect(perClass(test.indices)).toEqual(expected);
  expect(perClass(train.indices)).toEqual(counts.map((n, c) => n - expected[c]));
  expect([...train.indices, ...test.indices].sort((a, b) => a - b)).toEqual(targets.map((_, i) => i));
  // Each side in increasing order, as the dataset lists its samples.
  expect(test.indices).toEqual([...test.indices].sort((a, b) => a - b));
});

test("trainTestSplitIndices repeats for a seed, differs for another, and checks its arguments", () => {
  const targets = Array.from({ length: 60 }, (_, i) => i % 3);
  const split = (seed: number) => trainTestSplitIndices(60, { testSize: 0.25, stratify: targets, generator: new tt.Generator(seed) });
  expect(split(5)).toEqual(split(5));
  expect(split(6)[1]).not.toEqual(split(5)[1]);
  expect(() => trainTestSplitIndices(60, { testSize: 1, stratify: targets })).toThrow("Expected number strictly between 0 and 1 for testSize but received 1 of type number");
  expect(() => trainTestSplitIndices(60, { testSize: 0.2, stratify: [0, 1] })).toThrow("Expected array of 60 class indices for stratify but received an array of length 2");
  expect(() => trainTestSplitIndices(4, { testSize: 0.2, stratify: [0, 1, -1, 0] })).toThrow("Expected non-negative integer for stratify[2] but received -1 of type number");
});
