// One order for everything that touches a model: calls take effect in the
// order they are made, whatever is still running. Each test holds the native
// compute queue open while it makes its calls, so "the model is busy" is
// certain rather than a race, then releases it and checks what ran.
import * as tt from "../lib";
import { addon } from "../lib/native";

const SIZE = 64; // ResNet-18 runs on any input of 32 px or more; small keeps the tests quick

function input(seed: number, n = 2): tt.Tensor {
  const values = new Float32Array(n * 3 * SIZE * SIZE);
  let s = seed;
  for (let i = 0; i < values.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    values[i] = s / 2147483648 - 0.5;
  }
  return tt.tensor(values, [n, 3, SIZE, SIZE]);
}

async function values(t: tt.Tensor): Promise<number[]> {
  return Array.from((await t.data()) as Float32Array);
}

function twin(model: tt.models.ResNet): tt.models.ResNet {
  const copy = tt.models.resnet18({ numClasses: 10 });
  copy.loadStateDict(model.stateDict());
  return copy;
}

test("the compute queue, held, holds a forward until it is released, while the event loop turns", async () => {
  const model = tt.models.resnet18({ numClasses: 10 });
  const events: string[] = [];
  const release = addon.holdComputeQueue();
  const out = model.forward(input(1)).then((t) => {
    events.push("forward");
    return t;
  });
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 1));
    events.push("tick");
  }
  expect(events).toEqual(["tick", "tick", "tick"]); // the loop turned three times, the forward still waits
  release();
  const logits = await out;
  expect(events).toEqual(["tick", "tick", "tick", "forward"]);
  expect(logits.shape).toEqual([2, 10]);
});

test("forward(x) then eval(): that forward runs in train mode, the next in eval mode", async () => {
  tt.manualSeed(1);
  const model = tt.models.resnet18({ numClasses: 10 });
  const reference = twin(model);
  const x = input(2);

  const release = addon.holdComputeQueue();
  const inTrain = model.forward(x);
  model.eval();
  expect(model.training).toBe(false); // the mode reads back at once
  const inEval = model.forward(x);
  release();

  // The reference does the same two passes one after the other: a train-mode
  // pass (which also moves BatchNorm's running statistics), then eval.
  const expectedTrain = await reference.forward(x);
  reference.eval();
  const expectedEval = await reference.forward(x);
  expect(await values(await inTrain)).toEqual(await values(expectedTrain));
  expect(await values(await inEval)).toEqual(await values(expectedEval));
  expect(await values(expectedTrain)).not.toEqual(await values(expectedEval)); // the two modes do differ here
});

test("loadStateDict during a forward: the forward queued before it sees the old weights, the next the new", async () => {
  tt.manualSeed(2);
  const model = tt.models.resnet18({ numClasses: 10 }).eval();
  const other = tt.models.resnet18({ numClasses: 10 }).eval();
  const x = input(3);
  const expectedOld = await values(await model.forward(x));
  const expectedNew = await values(await other.forward(x));
  expect(expectedOld).not.toEqual(expectedNew);

  const release = addon.holdComputeQueue();
  const before = model.forward(x);
  model.loadStateDict(other.stateDict());
  const after = model.forward(x);
  release();
  expect(await values(await before)).toEqual(expectedOld);
  expect(await values(await after)).toEqual(expectedNew);
});

test("step() then data(): data() of a parameter waits for the step called before it", async () => {
  tt.manualSeed(3);
  const fc = new tt.nn.Linear(4, 3);
  const optimizer = new tt.optim.SGD(fc.parameters(), { lr: 0.5, momentum: 0.9 });
  const criterion = new tt.nn.CrossEntropyLoss();
  const x = tt.tensor(new Float32Array([1, 2, 3, 4, -1, 0.5, 2, -3]), [2, 4]);
  const y = tt.tensor(new BigInt64Array([0n, 2n]));
  const weight = fc.parameters()[0];
  const initial = await values(weight);
  const loss = await criterion.forward(await fc.forward(x), y);
  await loss.backward();

  const release = addon.holdComputeQueue();
  const stepped = optimizer.step();
  const seen = weight.data();
  release();
  await stepped;
  const after = await values(weight);
  expect(Array.from((await seen) as Float32Array)).toEqual(after);
  expect(after).not.toEqual(initial); // the step did change the weights
});

test("backward() then zeroGrad(): the gradients are zero once both have run", async () => {
  tt.manualSeed(4);
  const fc = new tt.nn.Linear(4, 3);
  const optimizer = new tt.optim.SGD(fc.parameters(), { lr: 0.1 });
  const criterion = new tt.nn.CrossEntropyLoss();
  const x = tt.tensor(new Float32Array([1, 2, 3, 4]), [1, 4]);
  const y = tt.tensor(new BigInt64Array([1n]));
  const loss = await criterion.forward(await fc.forward(x), y);

  const release = addon.holdComputeQueue();
  const backward = loss.backward();
  optimizer.zeroGrad();
  release();
  await backward;
  for (const p of fc.parameters()) {
    expect(p.grad).not.toBeNull();
    expect((await values(p.grad!)).every((v) => v === 0)).toBe(true);
  }
});

test("an lr set between two steps applies to the second only", async () => {
  const fc = new tt.nn.Linear(2, 2, { bias: false });
  fc.loadStateDict(new Map([["weight", tt.tensor(new Float32Array([1, 1, 1, 1]), [2, 2])]]));
  const optimizer = new tt.optim.SGD(fc.parameters(), { lr: 1 });
  const weight = fc.parameters()[0];
  const x = tt.tensor(new Float32Array([1, 0]), [1, 2]);
  const y = tt.tensor(new BigInt64Array([0n]));
  const loss = await new tt.nn.CrossEntropyLoss().forward(await fc.forward(x), y);
  await loss.backward(); // d loss / d weight = [[-0.5, 0], [0.5, 0]] for equal logits
  const grad = await values(weight.grad!);
  expect(grad).toEqual([-0.5, 0, 0.5, 0]);

  const release = addon.holdComputeQueue();
  const first = optimizer.step();
  optimizer.paramGroups[0].lr = 0.25;
  expect(optimizer.paramGroups[0].lr).toBe(0.25);
  const second = optimizer.step();
  release();
  await Promise.all([first, second]);
  // 1 - (1 + 0.25) * g: the first step at lr 1, the second at 0.25 (exact in binary)
  expect(await values(weight)).toEqual([1.625, 1, 0.375, 1]);
});
