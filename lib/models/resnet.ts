// torchvision.models.resnet18.
import { checkInteger, checkOptions, invalid } from "../check";
import { addon } from "../native";
import { Linear } from "../nn/linear";
import { Module } from "../nn/module";
import { loadWeights } from "./weights";

export class ResNet extends Module {
  /** @internal */
  constructor(numClasses: number) {
    super(addon.Module.resnet18(numClasses));
  }

  /** The classifier head; assign a new Linear to replace it, as `model.fc = nn.Linear(...)` does. */
  get fc(): Linear {
    return Linear.fromNative(this.native.child("fc"));
  }

  set fc(linear: Linear) {
    if (!(linear instanceof Linear)) throw invalid("Linear", "fc", linear);
    this.native.setChild("fc", linear.native);
  }

  toString(): string {
    return `ResNet(resnet18, fc=${this.fc.toString()})`;
  }
}

export interface ResNet18Options {
  numClasses?: number;
  /** null: random init; a file path (.pth or .safetensors); or "IMAGENET1K_V1" / "imagenet". */
  weights?: string | null;
}

/**
 * torchvision's ResNet-18. Without weights the model comes back at once, with
 * torchvision's initialisation; with weights it comes back as a Promise, since
 * reading (or downloading) them is I/O.
 */
export function resnet18(options?: ResNet18Options & { weights?: null }): ResNet;
export function resnet18(options: ResNet18Options & { weights: string }): Promise<ResNet>;
export function resnet18(options?: ResNet18Options): ResNet | Promise<ResNet>;
export function resnet18(options: ResNet18Options = {}): ResNet | Promise<ResNet> {
  if (typeof options !== "object" || options === null) throw invalid("options object", "options", options);
  checkOptions(options, { numClasses: true, weights: true }, "resnet18");
  const numClasses = checkInteger(options.numClasses ?? 1000, "numClasses", 1);
  const weights = options.weights ?? null;
  if (weights !== null && typeof weights !== "string") throw invalid('null, a file path or "IMAGENET1K_V1"', "weights", weights);
  const model = new ResNet(numClasses);
  if (weights === null) return model;
  return loadWeights(weights).then((stateDict) => {
    try {
      model.loadStateDict(stateDict);
    } finally {
      for (const t of stateDict.values()) t.dispose();
    }
    return model;
  });
}
