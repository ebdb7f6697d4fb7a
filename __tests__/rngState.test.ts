// The random states a checkpoint carries: taken, then put back, the streams repeat.
import * as tt from "../lib";
import { Generator } from "../lib/random";

test("a Generator's state, put back, repeats the draws that followed it", () => {
  const g = new Generator(42);
  g.permutation(10);
  const state = g.getState();
  const first = [g.random(), g.seed53(), ...g.permutation(20)];
  expect(g.setState(state)).toBe(g);
  expect([g.random(), g.seed53(), ...g.permutation(20)]).toEqual(first);
  // Another generator given that state draws the same too.
  expect(new Generator(1).setState(state).random()).toBe(first[0]);
});

test("Generator.setState rejects what getState cannot have given", () => {
  const g = new Generator(0);
  expect(() => g.setState([1, 2, 3] as number[])).toThrow("Expected array of four 32-bit unsigned integers for state");
  expect(() => g.setState([1, 2, 3, 2 ** 32])).toThrow("Expected array of four 32-bit unsigned integers for state");
  expect(() => g.setState([0, 0, 0, 0])).toThrow("generator state cannot be all zeros");
});

async function linearWeights(): Promise<number[]> {
  const [weight] = new tt.nn.Linear(8, 3).parameters();
  return Array.from((await weight.data()) as Float32Array);
}

test("libtorch's generator state, put back, repeats weight init", async () => {
  tt.manualSeed(5);
  await linearWeights();
  const state = tt.getRngState();
  expect(state).toBeInstanceOf(Uint8Array);
  const next = await linearWeights();
  const other = await linearWeights();
  expect(other).not.toEqual(next);
  tt.setRngState(state);
  expect(await linearWeights()).toEqual(next);
});

test("setRngState rejects a wrong state with an Error, not a crash", () => {
  expect(() => tt.setRngState(new Uint8Array(3))).toThrow(/RNG state|size|length/i);
  expect(() => tt.setRngState([1, 2, 3] as unknown as Uint8Array)).toThrow("Expected Uint8Array (from getRngState) for state");
});
