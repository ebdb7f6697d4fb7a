// A ResNet-18 with random weights and two classes, saved the way `npm run finetune` saves one, for the serve tests.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tt from "../../lib";
import { modelMetadata, RunSettings } from "../../lib/train/checkpoint";

export const DATA = path.resolve(__dirname, "../../../shared/data/hymenoptera_data");

export async function saveServeModel(prefix: string): Promise<{ dir: string; checkpoint: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const checkpoint = path.join(dir, "model.safetensors");
  const settings: RunSettings = {
    mode: "finetune", arch: "resnet18", data: DATA, epochs: 1, batchSize: 4, lr: 0.001, momentum: 0.9,
    stepSize: 7, gamma: 0.1, weights: "none", seed: 0, device: "cpu",
  };
  tt.manualSeed(3);
  const model = tt.models.resnet18();
  model.fc = new tt.nn.Linear(model.fc.inFeatures, 2);
  await tt.save(model.stateDict(), checkpoint, modelMetadata({ classes: ["ants", "bees"], settings }));
  return { dir, checkpoint };
}

/**
 * Waits until `condition` holds, checking every few milliseconds for as long as it takes (the test's own
 * timeout ends a wait that never ends): tests wait for a state, never for a time.
 */
export async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 5));
}
