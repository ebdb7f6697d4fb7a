// torch.nn.CrossEntropyLoss: per-class weights, label smoothing and the
// reduction, as PyTorch defines them. trainModel's fused step applies the same
// options, so what a criterion says is what training optimises.
import { checkNumber, checkOptions, invalid, withCallerStack } from "../check";
import { isGradEnabled } from "../grad";
import { addon, NativeLossOptions } from "../native";
import { checkTensor, Tensor } from "../tensor";

export type Reduction = "mean" | "sum" | "none";

export interface CrossEntropyLossOptions {
  /** A manual rescaling weight for each class: a 1-D float Tensor of C values. */
  weight?: Tensor | null;
  /** In [0, 1]: how much of the target's mass is spread uniformly over the classes. */
  labelSmoothing?: number;
  reduction?: Reduction;
}

/** int64 class indices [N], or class probabilities [N, C] of the input's float dtype. */
export function checkTarget(target: Tensor, inputShape: number[]): void {
  const [n, c] = inputShape;
  if (target.dtype === "int64") {
    if (target.shape.length !== 1 || target.shape[0] !== n) throw new RangeError(`Expected target of shape [${n}] but received [${target.shape.join(", ")}]`);
    return;
  }
  if (target.dtype !== "float32" && target.dtype !== "float64") {
    throw new TypeError(`Expected target of dtype int64 (class indices) or float32 (class probabilities) but received ${target.dtype}`);
  }
  if (target.shape.length !== 2 || target.shape[0] !== n || target.shape[1] !== c) {
    throw new RangeError(`Expected class-probability target of shape [${n}, ${c}] but received [${target.shape.join(", ")}]`);
  }
}

export class CrossEntropyLoss {
  readonly weight: Tensor | null;
  readonly labelSmoothing: number;
  readonly reduction: Reduction;

  constructor(options: CrossEntropyLossOptions = {}) {
    const { weight = null, labelSmoothing = 0, reduction = "mean" } = checkOptions(
      options, { weight: true, labelSmoothing: true, reduction: true }, "CrossEntropyLoss",
    );
    if (weight !== null) {
      checkTensor(weight, "weight");
      if (weight.shape.length !== 1 || (weight.dtype !== "float32" && weight.dtype !== "float64")) {
        throw invalid("1-D float Tensor", "weight", weight);
      }
    }
    this.weight = weight;
    this.labelSmoothing = checkNumber(labelSmoothing, "labelSmoothing", { min: 0, max: 1 });
    if (reduction !== "mean" && reduction !== "sum" && reduction !== "none") throw invalid('"mean", "sum" or "none"', "reduction", reduction);
    this.reduction = reduction;
  }

  /** @internal What the native loss reads. */
  get nativeOptions(): NativeLossOptions {
    return { weight: this.weight, labelSmoothing: this.labelSmoothing, reduction: this.reduction };
  }

  /**
   * The cross-entropy of `input` logits [N, C] against int64 class indices
   * `target` [N], or against class probabilities [N, C] (float, as mixup and
   * cutmix make them; PyTorch takes both since 1.10).
   */
  forward(input: Tensor, target: Tensor): Promise<Tensor> {
    checkTensor(input, "input");
    checkTensor(target, "target");
    if (input.shape.length !== 2) throw new RangeError(`Expected input of shape [N, C] but received [${input.shape.join(", ")}]`);
    checkTarget(target, input.shape);
    this.checkClasses(input.shape[1]);
    return withCallerStack(addon.crossEntropy(input, target, isGradEnabled(), this.nativeOptions), new Error());
  }

  /** @internal A weight must have one entry per class. */
  checkClasses(numClasses: number): void {
    if (this.weight && this.weight.shape[0] !== numClasses) {
      throw new RangeError(`Expected weight of shape [${numClasses}] (one per class) but received [${this.weight.shape.join(", ")}]`);
    }
  }

  toString(): string {
    const parts: string[] = [];
    if (this.weight) parts.push(`weight=[${this.weight.shape[0]}]`);
    if (this.labelSmoothing) parts.push(`label_smoothing=${this.labelSmoothing}`);
    if (this.reduction !== "mean") parts.push(`reduction=${this.reduction}`);
    return `CrossEntropyLoss(${parts.join(", ")})`;
  }
}
