// --class-weights: CrossEntropyLoss's per-class `weight`, either scikit-learn's
// "balanced" weights over the training split (auto) or one number per class.
import { computeClassWeight } from "../utils/classWeight";
import { UsageError } from "./usage";

/** The weights a --class-weights value gives for these classes, or null without one. */
export function classWeightsFor(value: string | undefined, trainTargets: readonly number[], classNames: readonly string[]): number[] | null {
  if (value === undefined || value === "none") return null;
  if (value === "auto") {
    try {
      return computeClassWeight("balanced", { numClasses: classNames.length, y: trainTargets, classNames });
    } catch (err) {
      throw new UsageError(`--class-weights auto: ${(err as Error).message} in the training split`);
    }
  }
  const parts = value.split(",").map((s) => s.trim());
  const weights = parts.map(Number);
  if (parts.some((s) => s === "") || weights.some((w) => !Number.isFinite(w) || w <= 0)) {
    throw new UsageError(`--class-weights expects auto, none, or positive numbers separated by commas, got "${value}"`);
  }
  if (weights.length !== classNames.length) {
    throw new UsageError(`--class-weights: ${weights.length} weight(s) given for ${classNames.length} classes (${classNames.join(", ")}, in that order)`);
  }
  return weights;
}
