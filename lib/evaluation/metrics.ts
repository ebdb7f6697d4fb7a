// Per-class precision, recall and F1 from a confusion matrix, as sklearn's
// classification_report computes them (a class never predicted, or never
// present, scores 0 where its ratio has no denominator: zero_division=0).

export interface ClassMetrics {
  name: string;
  precision: number;
  recall: number;
  f1: number;
  /** Images of this class (the row's total). */
  support: number;
}

export interface ClassificationReport {
  accuracy: number;
  total: number;
  correct: number;
  classes: ClassMetrics[];
  /** The unweighted mean over classes. */
  macro: { precision: number; recall: number; f1: number };
  /** The mean over classes weighted by support. */
  weighted: { precision: number; recall: number; f1: number };
}

/** counts[actual][predicted], as sklearn's confusion_matrix(y_true, y_pred) and confusionMatrix() give it. */
export function classificationReport(counts: number[][], classNames?: string[]): ClassificationReport {
  const n = counts.length;
  if (n === 0 || !counts.every((row) => Array.isArray(row) && row.length === n && row.every((v) => Number.isInteger(v) && v >= 0))) {
    throw new TypeError("Expected a square matrix of non-negative integer counts for counts");
  }
  const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
  const total = counts.flat().reduce((a, b) => a + b, 0);
  const correct = counts.reduce((s, row, i) => s + row[i], 0);
  const classes = counts.map((row, i) => {
    const tp = row[i];
    const support = row.reduce((a, b) => a + b, 0);
    const predicted = counts.reduce((s, r) => s + r[i], 0);
    const precision = ratio(tp, predicted);
    const recall = ratio(tp, support);
    return { name: classNames?.[i] ?? String(i), precision, recall, f1: ratio(2 * precision * recall, precision + recall), support };
  });
  const mean = (key: "precision" | "recall" | "f1", weighted: boolean) =>
    weighted ? ratio(classes.reduce((s, c) => s + c[key] * c.support, 0), total) : classes.reduce((s, c) => s + c[key], 0) / n;
  return {
    accuracy: ratio(correct, total),
    total,
    correct,
    classes,
    macro: { precision: mean("precision", false), recall: mean("recall", false), f1: mean("f1", false) },
    weighted: { precision: mean("precision", true), recall: mean("recall", true), f1: mean("f1", true) },
  };
}

/** counts[actual][predicted] from label and prediction lists. */
export function countPairs(labels: number[], predicted: number[], numClasses: number): number[][] {
  const counts = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  labels.forEach((actual, i) => counts[actual][predicted[i]]++);
  return counts;
}
