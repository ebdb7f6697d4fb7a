// The JavaScript API refuses mistakes a PyTorch user makes, in plain words:
// unknown option keys (snake_case above all), mismatched shapes, and messages
// that name the user's types.
import * as path from "path";
import * as tt from "../lib";
import { checkOptions } from "../lib/check";

const DATA = path.resolve(__dirname, "../../shared/data/hymenoptera_data");

test("checkOptions passes known keys and nothing, and refuses a non-object", () => {
  const known = { batchSize: true, shuffle: true } as const;
  expect(checkOptions({ batchSize: 2 }, known, "DataLoader")).toEqual({ batchSize: 2 });
  expect(checkOptions(undefined, known, "DataLoader")).toEqual({});
  expect(() => checkOptions(4 as unknown as object, known, "DataLoader")).toThrow("Expected an options object for DataLoader's options but received 4 of type number");
  expect(() => checkOptions({ colour: 1 } as object, known, "DataLoader")).toThrow('Unknown option "colour" for DataLoader (its options: batchSize, shuffle)');
});

describe("snake_case and misspelt keys are refused, naming the camelCase key", () => {
  const params = () => [tt.tensor(new Float32Array([1, 2]))];
  const loose = (o: object) => o as never; // what plain JavaScript would pass

  test.each([
    ["DataLoader", () => new tt.DataLoader({ length: 0, get: async () => [0, 0] as [unknown, number] }, loose({ batch_size: 8 })), "batch_size", "batchSize"],
    ["SGD", () => new tt.optim.SGD(params(), loose({ lr: 0.1, weight_decay: 1e-4 })), "weight_decay", "weightDecay"],
    ["StepLR", () => new tt.optim.lrScheduler.StepLR(new tt.optim.SGD(params(), { lr: 0.1 }), loose({ step_size: 7 })), "step_size", "stepSize"],
    ["Linear", () => new tt.nn.Linear(2, 2, loose({ bais: false })), "bais", "bias"],
    ["resnet18", () => tt.models.resnet18(loose({ num_classes: 2 })), "num_classes", "numClasses"],
    ["RandomResizedCrop", () => new tt.transforms.RandomResizedCrop(224, loose({ scales: [0.5, 1] })), "scales", "scale"],
    ["ImageFolder", () => new tt.datasets.ImageFolder(path.join(DATA, "val"), loose({ transforms: null })), "transforms", "transform"],
  ])("%s", (where, make, key, meant) => {
    expect(make).toThrow(new RegExp(`^Unknown option "${key}" for ${where}; did you mean "${meant}"\\? \\(its options: `));
  });

  test("trainModel, loadStateDict and loadClassifier", async () => {
    const model = tt.models.resnet18({ numClasses: 2 });
    const optimizer = new tt.optim.SGD(model.fc.parameters(), { lr: 0.1 });
    const dataloaders = { train: [] as never, val: [] as never };
    await expect(tt.trainModel(model, new tt.nn.CrossEntropyLoss(), optimizer, null, loose({ dataloaders, epochs: 1 }))).rejects.toThrow(
      /^Unknown option "epochs" for trainModel; did you mean "numEpochs"\?/,
    );
    expect(() => model.loadStateDict(model.stateDict(), loose({ strict_: false }))).toThrow(/^Unknown option "strict_" for loadStateDict; did you mean "strict"\?/);
    await expect(tt.loadClassifier("runs/x", loose({ max_batch: 2 }))).rejects.toThrow(/^Unknown option "max_batch" for loadClassifier; did you mean "maxBatch"\?/);
  });
});

test("Normalize refuses mean and std of different lengths", () => {
  expect(() => new tt.transforms.Normalize([0.5], [0.2, 0.3])).toThrow("Normalize: expected mean and std of the same length (one value per channel), got 1 and 2");
  expect(String(new tt.transforms.Normalize([0.5, 0.5], [0.2, 0.3]))).toBe("Normalize(mean=[0.5, 0.5], std=[0.2, 0.3])");
});

test("messages call a tensor a Tensor, not the addon's NativeTensor", () => {
  const t = tt.tensor(new Float32Array([1]));
  expect(() => new tt.datasets.ImageFolder(t as never)).toThrow("Expected non-empty string for root but received an object (Tensor)");
  t.dispose();
});
