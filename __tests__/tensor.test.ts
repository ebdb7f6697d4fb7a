// Tensors: copies in and out, refusals, disposal and errors (the event loop while native work waits: callOrder.test.ts).
import * as tt from "../lib";

describe("round trip", () => {
  const cases: [string, () => tt.TypedArray, string][] = [
    ["Float32Array", () => new Float32Array([1.5, -2.25, 3e-8, Math.PI]), "float32"],
    ["Float64Array", () => new Float64Array([1.5, -2.25, 3e-300, Math.PI]), "float64"],
    ["Int32Array", () => new Int32Array([1, -2, 2147483647, -2147483648]), "int32"],
    ["BigInt64Array", () => new BigInt64Array([1n, -2n, 9007199254740993n, -(2n ** 63n)]), "int64"],
    ["Uint8Array", () => new Uint8Array([0, 1, 128, 255]), "uint8"],
  ];
  test.each(cases)("%s keeps every value and its dtype", async (_name, make, dtype) => {
    const input = make();
    const t = tt.tensor(input, [2, 2]);
    expect(t.dtype).toBe(dtype);
    expect(t.shape).toEqual([2, 2]);
    expect(t.device).toBe("cpu");
    const out = await t.data();
    expect(out.constructor.name).toBe(input.constructor.name); // the addon makes arrays in the main realm, not jest's
    expect(Array.from(out as ArrayLike<number | bigint>)).toEqual(Array.from(input as ArrayLike<number | bigint>));
    t.dispose();
  });

  test("the copy in is a copy: changing the source later does not change the tensor", async () => {
    const source = new Float32Array([1, 2, 3]);
    const t = tt.tensor(source);
    source[0] = 42;
    expect(Array.from((await t.data()) as Float32Array)).toEqual([1, 2, 3]);
  });

  test("to() converts dtype and item() reads a scalar", async () => {
    const t = tt.tensor(new Int32Array([7]), [1]).to("cpu", "float64");
    expect(t.dtype).toBe("float64");
    expect(await t.item()).toBe(7);
  });
});

describe("refusals", () => {
  test("a shape that does not match the data gives both numbers", () => {
    expect(() => tt.tensor(new Float32Array(5), [2, 3])).toThrow("shape [2, 3] holds 6 elements but data has 5");
  });
  test("an unsupported array type is a TypeError naming data", () => {
    expect(() => tt.tensor(new Uint16Array(4) as unknown as Float32Array)).toThrow(TypeError);
    expect(() => tt.tensor([1, 2] as unknown as Float32Array)).toThrow(/for data but received an array of length 2/);
  });
  test("a non-integer shape is a TypeError naming shape", () => {
    expect(() => tt.tensor(new Float32Array(4), [2, 1.5 as number])).toThrow(/Expected array of non-negative integers for shape/);
  });
  test("a bad device string and a CUDA device on a CPU-only build are refused by name", () => {
    const t = tt.tensor(new Float32Array(1));
    expect(() => t.to("gpu")).toThrow(/Expected device string "cpu", "cuda" or "cuda:N" for device but received "gpu"/);
    if (!tt.cuda.isAvailable()) expect(() => t.to("cuda:0")).toThrow(/needs CUDA/);
  });
  test("an unknown dtype is refused", () => {
    expect(() => tt.tensor(new Float32Array(1)).to("cpu", "complex64" as never)).toThrow(/for dtype but received "complex64"/);
  });
  test("item() on a tensor with several elements says so", () => {
    expect(() => tt.tensor(new Float32Array(2)).item()).toThrow(/one element/);
  });
});

describe("dispose", () => {
  test("a disposed tensor says so when used", async () => {
    const t = tt.tensor(new Float32Array(4));
    t.dispose();
    expect(t.isDisposed).toBe(true);
    expect(() => t.shape).toThrow("Tensor has been disposed");
    expect(() => t.data()).toThrow("Tensor has been disposed");
    expect(() => tt.stack([t])).toThrow(/disposed/);
    expect(String(t)).toBe("Tensor(disposed)");
  });

  test("creating and disposing many large tensors does not grow the process", () => {
    const big = new Float32Array(8 * 1024 * 1024); // 32 MiB
    const warm = tt.tensor(big);
    warm.dispose();
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 40; i++) tt.tensor(big, [8, 1024, 1024]).dispose(); // 1.25 GiB in all
    const growth = process.memoryUsage().rss - before;
    expect(growth).toBeLessThan(64 * 1024 * 1024); // two tensors' worth of slack for the allocator
  });
});

describe("native errors", () => {
  test("a libtorch error surfaces as a JavaScript Error with libtorch's message and no C++ backtrace", async () => {
    const logits = tt.tensor(new Float32Array(6), [2, 3]);
    const labels = tt.tensor(new BigInt64Array([0n, 7n]));
    const loss = new tt.nn.CrossEntropyLoss();
    const err = await loss.forward(logits, labels).then(() => null, (e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    // libtorch's message, whole: no C++ backtrace ("Exception raised from", "frame #") after it.
    expect(err!.message).toBe("Target 7 is out of bounds.");
    expect(err!.stack).toMatch(/tensor\.test\.ts/); // the stack points at the caller
  });

  test("backward() of a tensor that needs no grad rejects, and the process goes on", async () => {
    const t = tt.tensor(new Float32Array([1]), [1]);
    await expect(t.backward()).rejects.toThrow(/does not require grad/);
  });
});

test("runtime: threads default to the machine's cores, CUDA reports what libtorch has", () => {
  expect(tt.getNumThreads()).toBe(require("os").availableParallelism());
  tt.setNumThreads(1);
  expect(tt.getNumThreads()).toBe(1);
  tt.setNumThreads(require("os").availableParallelism());
  expect(() => tt.setNumThreads(0)).toThrow(/positive integer for n/);
  expect(typeof tt.cuda.isAvailable()).toBe("boolean");
  expect(tt.cuda.deviceCount()).toBeGreaterThanOrEqual(tt.cuda.isAvailable() ? 1 : 0);
});
