// DataLoader: batching, shuffling, seeds, concurrency bounds, early exit and errors.
import * as path from "path";
import { DataLoader } from "../lib/data";
import { ImageFolder } from "../lib/datasets";
import * as T from "../lib/transforms";
import { addon } from "../lib/native";
import { Generator } from "../lib/random";
import { tensor, Tensor } from "../lib/tensor";

const DATA = path.resolve(__dirname, "../../shared/data/hymenoptera_data");

/** Sample i is a [1, 2] tensor holding i and a draw from its generator, after a short random delay. */
class FakeDataset {
  inFlight = 0;
  maxInFlight = 0;
  calls = 0;
  constructor(readonly length: number, readonly failAt = -1) {}
  async get(i: number, { generator = new Generator() }: { generator?: Generator } = {}): Promise<[Tensor, number]> {
    this.calls++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const draw = generator.random();
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 4)));
    this.inFlight--;
    if (i === this.failAt) throw new Error(`sample ${i} is broken`);
    return [tensor(new Float32Array([i, draw]), [1, 2]), i % 3];
  }
}

/** Records every tensor made while it is on (samples and labels through tensor(), batches through stack), with its shape then. */
function trackTensors(onMade: () => void = () => undefined): { made: { t: Tensor; shape: number[] }[]; restore: () => void } {
  const made: { t: Tensor; shape: number[] }[] = [];
  const realStack = addon.stack;
  const realFrom = addon.fromTypedArray;
  const spies = [
    jest.spyOn(addon, "stack").mockImplementation((parts) => {
      const t = realStack(parts);
      made.push({ t, shape: t.shape });
      onMade();
      return t;
    }),
    jest.spyOn(addon, "fromTypedArray").mockImplementation((data, shape) => {
      const t = realFrom(data, shape);
      made.push({ t, shape: t.shape });
      onMade();
      return t;
    }),
  ];
  return { made, restore: () => spies.forEach((s) => s.mockRestore()) };
}

async function epoch(loader: DataLoader): Promise<{ indices: number[][]; draws: number[]; labels: number[] }> {
  const out = { indices: [] as number[][], draws: [] as number[], labels: [] as number[] };
  for await (const [inputs, labels] of loader) {
    const v = (await inputs.data()) as Float32Array;
    out.indices.push(Array.from({ length: inputs.shape[0] }, (_, k) => v[k * 2]));
    for (let k = 0; k < inputs.shape[0]; k++) out.draws.push(v[k * 2 + 1]);
    out.labels.push(...Array.from((await labels.data()) as BigInt64Array, Number));
    inputs.dispose();
    labels.dispose();
  }
  return out;
}

describe("DataLoader", () => {
  it("gives float32 [B, ...] inputs and int64 [B] labels, the last batch short", async () => {
    const loader = new DataLoader(new FakeDataset(10), { batchSize: 4, numWorkers: 3 });
    expect(loader.length).toBe(3);
    const shapes: unknown[] = [];
    for await (const [inputs, labels] of loader) {
      shapes.push([inputs.shape, inputs.dtype, labels.shape, labels.dtype, (await labels.data()).constructor.name]);
      inputs.dispose();
      labels.dispose();
    }
    expect(shapes).toEqual([
      [[4, 1, 2], "float32", [4], "int64", "BigInt64Array"],
      [[4, 1, 2], "float32", [4], "int64", "BigInt64Array"],
      [[2, 1, 2], "float32", [2], "int64", "BigInt64Array"],
    ]);
    const { indices, labels } = await epoch(loader);
    expect(indices).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    expect(labels).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2, 0]);
  });

  it("drops the short batch with dropLast", async () => {
    const loader = new DataLoader(new FakeDataset(10), { batchSize: 4, dropLast: true });
    expect(loader.length).toBe(2);
    expect((await epoch(loader)).indices).toEqual([[0, 1, 2, 3], [4, 5, 6, 7]]);
  });

  it("shuffles every index exactly once per epoch, with a new order each epoch", async () => {
    const loader = new DataLoader(new FakeDataset(50), { batchSize: 8, shuffle: true, seed: 3 });
    const a = (await epoch(loader)).indices.flat(), b = (await epoch(loader)).indices.flat();
    const all = Array.from({ length: 50 }, (_, i) => i);
    expect([...a].sort((x, y) => x - y)).toEqual(all);
    expect([...b].sort((x, y) => x - y)).toEqual(all);
    expect(a).not.toEqual(all);
    expect(a).not.toEqual(b);
  });

  it("repeats orders and per-sample random draws for a seed, whatever order samples finish in", async () => {
    const run = async () => {
      const loader = new DataLoader(new FakeDataset(30), { batchSize: 4, shuffle: true, numWorkers: 5, seed: 11 });
      return [await epoch(loader), await epoch(loader)];
    };
    const first = await run(), second = await run();
    expect(second).toEqual(first);
    const other = await epoch(new DataLoader(new FakeDataset(30), { batchSize: 4, shuffle: true, seed: 12 }));
    expect(other.indices).not.toEqual(first[0].indices);
  });

  it("decodes at most numWorkers samples at once", async () => {
    const ds = new FakeDataset(40);
    await epoch(new DataLoader(ds, { batchSize: 8, numWorkers: 3 }));
    expect(ds.maxInFlight).toBeLessThanOrEqual(3);
    expect(ds.maxInFlight).toBeGreaterThan(1);
  });

  it("stops loading and frees prefetched batches when the loop breaks early", async () => {
    // The loop breaks once batch 2 has been stacked ahead of it (an event, not a delay),
    // so there is always a loaded, unseen batch for the loader to free.
    let stackedAhead: () => void = () => undefined;
    const thirdBatch = new Promise<void>((resolve) => (stackedAhead = resolve));
    const { made, restore } = trackTensors(() => {
      if (made.filter((m) => m.shape.length === 3).length === 3) stackedAhead();
    });
    try {
      const ds = new FakeDataset(1000);
      const loader = new DataLoader(ds, { batchSize: 4, numWorkers: 2, prefetch: 2 });
      let seen = 0;
      for await (const [inputs, labels] of loader) {
        inputs.dispose();
        labels.dispose();
        if (++seen === 2) {
          await thirdBatch;
          break;
        }
      }
      const callsAtBreak = ds.calls;
      expect(ds.inFlight).toBe(0);
      // Two consumed batches, at most prefetch more started: nowhere near the 250 batches.
      expect(callsAtBreak).toBeLessThanOrEqual((2 + 2) * 4);
      // Nothing is in flight, so only work queued on the event loop could start another
      // sample: let every queued callback run (no clock involved), then count again.
      for (let turn = 0; turn < 10; turn++) await new Promise((r) => setImmediate(r));
      expect(ds.calls).toBe(callsAtBreak);
      expect(made.filter((m) => m.shape.length === 3).length).toBeGreaterThanOrEqual(3); // stacked batches
      expect(made.filter((m) => !m.t.isDisposed)).toEqual([]);
    } finally {
      restore();
    }
  });

  it("rejects with the dataset's error and frees the rest", async () => {
    // Sample 6 fails only once sample 11 is loaded, so that batch 2 ([8..11]) has
    // been loaded ahead when batch 1 fails: the loader must free it, unseen.
    let loaded11: () => void = () => undefined;
    const sample11 = new Promise<void>((resolve) => (loaded11 = resolve));
    const ds = {
      length: 12,
      async get(i: number): Promise<[Tensor, number]> {
        if (i === 6) {
          await sample11;
          throw new Error("sample 6 is broken");
        }
        const t = tensor(new Float32Array([i, 0]), [1, 2]);
        if (i === 11) loaded11();
        return [t, i % 3];
      },
    };
    const { made, restore } = trackTensors();
    try {
      const consumed: Tensor[] = [];
      const loader = new DataLoader(ds, { batchSize: 4, numWorkers: 12, prefetch: 2 });
      const run = async () => {
        for await (const [inputs, labels] of loader) {
          consumed.push(inputs, labels);
          inputs.dispose();
          labels.dispose();
        }
      };
      await expect(run()).rejects.toThrow("sample 6 is broken");
      const samples = made.filter((m) => m.shape.length === 2);
      const batches = made.filter((m) => m.shape.length === 3);
      // 11 samples loaded (all but 6); batch 0 given to the loop, batch 2 stacked ahead of it.
      expect(samples).toHaveLength(11);
      expect(batches).toHaveLength(2);
      expect(consumed).toHaveLength(2);
      expect(batches.filter((m) => !consumed.includes(m.t))).toHaveLength(1);
      expect(made.filter((m) => !m.t.isDisposed)).toEqual([]);
    } finally {
      restore();
    }
  });

  it("checks its arguments", () => {
    expect(() => new DataLoader(new FakeDataset(3), { batchSize: 0 })).toThrow("Expected positive integer for batchSize but received 0 of type number");
    expect(() => new DataLoader(new FakeDataset(3), { numWorkers: -1 })).toThrow("Expected non-negative integer for numWorkers but received -1 of type number");
    expect(() => new DataLoader({} as never)).toThrow("Expected dataset");
  });

  it("loads the tutorial's val images in batches of [4, 3, 224, 224]", async () => {
    const tf = new T.Compose([new T.Resize(256), new T.CenterCrop(224), new T.ToTensor(), new T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])]);
    const ds = new ImageFolder(path.join(DATA, "val"), { transform: tf });
    const loader = new DataLoader(ds, { batchSize: 4, shuffle: true, numWorkers: 2, seed: 0 });
    expect(loader.length).toBe(39);
    let batches = 0;
    for await (const [inputs, labels] of loader) {
      expect(inputs.shape).toEqual([4, 3, 224, 224]);
      expect(labels.shape).toEqual([4]);
      inputs.dispose();
      labels.dispose();
      if (++batches === 3) break;
    }
  });
});
