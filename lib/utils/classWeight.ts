// scikit-learn's compute_class_weight("balanced"): weights that make every
// class count as much in the loss, for CrossEntropyLoss's `weight`.
import { checkInteger, invalid } from "../check";

/**
 * n_samples / (n_classes * count_c) for each class c in 0..numClasses-1,
 * from the class index of each sample, `y`. A class without samples has no
 * such weight: it is an error, naming the class.
 */
export function computeClassWeight(classWeight: "balanced", { numClasses, y, classNames }: { numClasses: number; y: readonly number[]; classNames?: readonly string[] }): number[] {
  if (classWeight !== "balanced") throw invalid('"balanced"', "classWeight", classWeight);
  checkInteger(numClasses, "numClasses", 1);
  if (!Array.isArray(y)) throw invalid("array of class indices", "y", y);
  const counts = new Array<number>(numClasses).fill(0);
  y.forEach((c, i) => {
    checkInteger(c, `y[${i}]`, 0);
    if (c >= numClasses) throw new RangeError(`y[${i}] is ${c}, not a class index below numClasses (${numClasses})`);
    counts[c]++;
  });
  const empty = counts.findIndex((c) => c === 0);
  if (empty >= 0) throw new RangeError(`class ${classNames?.[empty] ?? empty} has no samples: its balanced weight would be infinite`);
  return counts.map((c) => y.length / (numClasses * c));
}
