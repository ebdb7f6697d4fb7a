// Module tree access as PyTorch has it: children, modules, attributes,
// replacement by path, the head registry and partial unfreezing.
import * as tt from "../lib";

test("children() and namedChildren() give a ResNet's children in torchvision's order", () => {
  const model = tt.models.resnet50();
  expect(model.namedChildren().map(([n, m]) => `${n}:${m.kind}`)).toEqual([
    "conv1:Conv2d", "bn1:BatchNorm2d", "relu:ReLU", "maxpool:MaxPool2d", "layer1:Sequential", "layer2:Sequential",
    "layer3:Sequential", "layer4:Sequential", "avgpool:AdaptiveAvgPool2d", "fc:Linear",
  ]);
  expect(model.children()).toHaveLength(10);
  expect(model.modules()[0]).toBe(model);
  expect(model.namedModules().map(([n]) => n).slice(0, 3)).toEqual(["", "conv1", "bn1"]);
});

test("model.layer4 shares the model's parameters: unfreezing it alone leaves only layer4 and fc trainable", () => {
  const model = tt.models.resnet18();
  for (const p of model.parameters()) p.requiresGrad = false;
  for (const p of model.layer4.parameters()) p.requiresGrad = true;
  for (const p of model.fc.parameters()) p.requiresGrad = true;
  const trainable = model.namedParameters().filter(([, p]) => p.requiresGrad).map(([n]) => n);
  expect(trainable.length).toBe(model.layer4.parameters().length + 2);
  expect(trainable.every((n) => n.startsWith("layer4.") || n.startsWith("fc."))).toBe(true);
  expect(model.layer4.namedParameters()[0][0]).toBe("0.conv1.weight");
});

test("indexed children of a Sequential read as model.layer1[0], and getSubmodule takes a dotted path", () => {
  const model = tt.models.resnet50();
  const block = (model.layer1 as unknown as Record<string, tt.nn.Module>)["0"];
  expect(block.kind).toBe("Bottleneck");
  expect(model.getSubmodule("layer1.0.downsample.1").kind).toBe("BatchNorm2d");
  expect(() => model.getSubmodule("layer1.0.downsample.2")).toThrow(/no submodule '2' in layer1\.0\.downsample \(path 'layer1\.0\.downsample\.2'\)/);
  expect(() => model.getSubmodule("layer9")).toThrow(/no submodule 'layer9' in ResNet/);
});

test("a child replaced by path is the one the forward pass runs", async () => {
  const model = tt.models.resnet18().eval();
  model.setSubmodule("fc", new tt.nn.Linear(512, 3));
  const x = tt.tensor(new Float32Array(2 * 3 * 32 * 32).fill(0.5), [2, 3, 32, 32]);
  expect((await tt.noGrad(() => model.forward(x))).shape).toEqual([2, 3]);
  expect(() => model.setSubmodule("layer1.0.conv1.weight", new tt.nn.Linear(1, 1))).toThrow(/no submodule 'weight'|cannot replace children of a Conv2d/);
});

test("replaceHead swaps the classifier wherever the architecture keeps it, with the old input width", () => {
  const model = tt.models.resnet50();
  const head = tt.models.replaceHead(model, 5);
  expect([head.inFeatures, head.outFeatures]).toEqual([2048, 5]);
  expect(model.stateDict().get("fc.weight")!.shape).toEqual([5, 2048]);
  expect(tt.models.getHead(model).outFeatures).toBe(5);
  expect(() => tt.models.replaceHead(model.layer1, 5)).toThrow(/Expected a whole model .* but received a Sequential/);
});
